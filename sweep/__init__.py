"""`generate.py sweep --seeds 0-4`: one configuration trained over several seeds, summarised in sweep.json."""
