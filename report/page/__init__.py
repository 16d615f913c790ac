"""The page: the template context of each section and the explorer, and the files the site is written with."""
