"""Human-readable byte sizes for the article's download lists."""

from __future__ import annotations


def human_size(size: int) -> str:
    """Format a byte count as B, kB or MB (decimal units, as browsers and GitHub show them)."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"
