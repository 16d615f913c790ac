"""What every stage shares: the layout of build/ and site/, atomic writes, fingerprints, owned folders."""
