"""Training stage: config, data, architecture, capture of activations."""
