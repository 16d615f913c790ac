"""The numbers: measurements of a captured run, the named thresholds, and the conclusions' checks and verdicts."""
