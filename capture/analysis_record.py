"""`AnalysisRecord`: the analysis set's replayed statistics (docs/analysis-set.md), the archive's `analysis/` group.

    record = capture.analysis            # None when the run measured on the probes only
    record.final["conv1"]                # (A, H, W, C) float16 activations of the analysis images, last step
    record.series["conv1"]["cka_final"]  # (B+1, G): row 0 the full set, row b the b-th bootstrap resample
    record.counts()                      # (B+1, A) the resamples' per-image weights (capture/bootstrap.py)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from capture.bootstrap import resample_counts

# The per-layer series: the first three are (B+1, G) (row 0 the full set), the last three (G, C), full set only.
RESAMPLED_SERIES = ("cka_final", "cka_next", "pc1_share")
CHANNEL_SERIES = ("channel_r", "channel_rms", "channel_spread")
SERIES = RESAMPLED_SERIES + CHANNEL_SERIES


@dataclass
class AnalysisRecord:
    """The analysis images, the replayed grid of steps, final activations and per-step statistics."""

    indices: np.ndarray  # (A,) int32 test-set indices, ascending, disjoint from the probes
    images: np.ndarray  # (A, H, W) or (A, H, W, 3) uint8, stored as the probes are
    labels: np.ndarray  # (A,) int32
    steps: np.ndarray  # (G,) int32 replayed grid steps, ascending, first recorded step .. last step
    resamples: int  # B
    seed: int  # the bootstrap seed (the run's seed)
    final: dict[str, np.ndarray] = field(default_factory=dict)  # layer -> (A, H, W, C) float16, model order
    series: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # layer -> {SERIES name: array}

    def counts(self) -> np.ndarray:
        """Return the (B+1, A) bootstrap counts: row 0 all ones, row b the b-th resample's weights."""
        return resample_counts(self.seed, len(self.indices), self.resamples)
