"""Article stage: analysis of the capture and the Jinja2 site build."""
