"""The figures: pure functions from findings and arrays to SVG bytes or pixels (report/page/ writes the files)."""
