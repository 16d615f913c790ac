"""Rendering stage: activations to frames, animations, previews and curves."""
