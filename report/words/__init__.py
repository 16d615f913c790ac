"""The words: the article's sentences that depend on the run, chosen and filled in from its findings."""
