"""The report stage (report/stage.py): analyse the capture and write the article.

numbers/ measures the run (findings, thresholds, groups, settling, the conclusions' verdicts); words/ turns the
findings into the sentences that depend on the run; figures/ draws them (pure: bytes and pixels); page/ gathers
each section's template context and writes the site's generated files. capture_facts.py reads what a capture
says about its model and data, for all four.
"""
