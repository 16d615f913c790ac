"""The one bootstrap over the analysis set (docs/analysis-set.md), shared by the capture and report stages.

    counts = resample_counts(seed, images=1000, resamples=200)   # (201, 1000) int32
    counts[0]        # all ones: the full set
    counts[b]        # b >= 1: how often each image was drawn in resample b (each row sums to `images`)

A statistic of resample b is the statistic with image i weighted by counts[b, i], so both stages get the
same resamples from (seed, images, resamples) alone, without storing them.
"""

from __future__ import annotations

import numpy as np

# Mixed into the seed so the resamples differ from every other use of the run's seed (21: the issue).
STREAM = 21


def resample_counts(seed: int, images: int, resamples: int) -> np.ndarray:
    """Return (resamples + 1, images) int32 draw counts: row 0 all ones, rows 1.. with-replacement draws."""
    if images < 0 or resamples < 0:
        raise ValueError(f"images and resamples must be non-negative, got {images} and {resamples}")
    rng = np.random.default_rng([int(seed), STREAM])
    draws = rng.integers(0, max(images, 1), (resamples, images))
    # One bincount over all rows at once: row r's draws are offset by r * images.
    offsets = draws + np.arange(resamples)[:, np.newaxis] * images
    drawn = np.bincount(offsets.ravel(), minlength=resamples * images).reshape(resamples, images)
    return np.concatenate([np.ones((1, images), np.int64), drawn]).astype(np.int32)
