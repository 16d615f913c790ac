"""A channel's story, the data the explorer's panel shows on a click (templates/static/explorer-channel.js).

`channel_story(capture, findings, stems)` returns (data, strips): `data` is the panel's JSON, written as the
lazily loaded assets/story.js, and `strips` {file stem: the layer's patch strip (report/figures/patches.py)}:
- "source": "analysis" (the analysis set's replay, docs/analysis-set.md) or "probes" (a run without one: the
  trajectory is measured here on the probes' kept snapshots, the patches come from the probes);
  "images": how many images the numbers are measured on; "resamples": the bootstrap's (0 on the probes);
- "steps": the trajectory's steps (the replayed grid, or the kept snapshots), at most MAX_POINTS of them;
- "layers": {name: {"r": per channel its Pearson r with its own final map at each step, in thousandths (null where
  undefined: a constant map), "spread": its standard deviation in thousandths of "top" (per channel its largest,
  3 significant digits), so that the file is short integers, "patches": {"src", "cell",
  "gutter", "count"} or null (no input window: report/numbers/receptive_fields.py could not work it out),
  "channels": per channel {"filter": {"src", "size", "r", "in_sample"} or null, "share": the share of resamples that
  give its kind, or null}}};
- "filterMin": the fit r from which a filter describes its channel (report/numbers/thresholds.py FILTER_MIN_R).
Numbers only: the words are the page's (templates/partials/explorer_words.html.j2).
"""

from __future__ import annotations

import math

import numpy as np

from report.figures.patches import GUTTER, patch_strip, top_patches
from report.numbers.findings import Findings, LayerFindings
from report.numbers.receptive_fields import Window
from report.numbers.thresholds import FILTER_MIN_R

MAX_POINTS = 60  # the trajectory's steps at most (the grid is evenly thinned, its first and last kept)
TOP_K = 8  # patches per channel


def thinned(count: int, most: int = MAX_POINTS) -> np.ndarray:
    """Return at most `most` indices of range(count), evenly spread, the first and last among them."""
    if count <= most:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, most)).astype(int))


def thousandths(values: np.ndarray, top: float = 1.0) -> list:
    """Return values / top in whole thousandths, None where not finite (or where top is 0: a constant series)."""
    return [None if not (math.isfinite(v) and top > 0) else round(1000 * v / top)
            for v in np.asarray(values, np.float64).tolist()]


def _top(values: np.ndarray) -> float:
    """Return the largest finite value to 3 significant digits (0.0 when there is none)."""
    finite = np.asarray(values, np.float64)[np.isfinite(values)]
    return float(f"{finite.max():.3g}") if finite.size else 0.0


def probe_series(activations: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each channel's r with its final map and its spread at the snapshots `indices`, on the probes: (G, C)."""
    final = np.asarray(activations[-1], np.float64)
    channels = final.shape[-1]
    final = final.reshape(-1, channels) - final.reshape(-1, channels).mean(axis=0)
    r, spread = [], []
    for index in indices:
        maps = np.asarray(activations[index], np.float64).reshape(-1, channels)
        centred = maps - maps.mean(axis=0)
        norms = np.sqrt((centred ** 2).sum(axis=0) * (final ** 2).sum(axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            r.append(np.where(norms > 0, (centred * final).sum(axis=0) / norms, np.nan))
        spread.append(maps.std(axis=0))
    return np.array(r), np.array(spread)


def _window(layer: LayerFindings) -> Window | None:
    """Return the layer's input window when the model's table gives one (a fallback 3x3 is not in input pixels)."""
    window = layer.filter_window
    if window is None or window.source != "model" or not layer.spatial:
        return None
    return Window(window.size, window.stride, window.offset)


def _channels(layer: LayerFindings, stem: str) -> list[dict]:
    return [{"filter": {"src": f"filters/{stem}-{ch.channel + 1}.png", "size": ch.filter.size,
                        "r": round(ch.filter.fit_r, 3),
                        "in_sample": bool(ch.filter.in_sample)} if ch.filter is not None else None,
             "share": round(ch.kind_stability, 3) if ch.kind_stability is not None else None}
            for ch in layer.channels]


def channel_story(capture, findings: Findings, stems: dict[str, str]) -> tuple[dict, dict[str, np.ndarray]]:
    """Return the panel's data and each layer's patch strip (see the module's docstring)."""
    record = capture.analysis
    if record is not None:
        picked = thinned(len(record.steps))
        steps, images = np.asarray(record.steps)[picked], record.images
    else:
        picked = thinned(len(capture.steps))
        steps, images = np.asarray(capture.steps)[picked], capture.probe_images
    layers, strips = {}, {}
    for layer in findings.layers:
        if record is not None:
            series = record.series[layer.name]
            r, spread = series["channel_r"][picked], series["channel_spread"][picked]
            final = record.final[layer.name]
        else:
            r, spread = probe_series(capture.activations[layer.name], picked)
            final = capture.activations[layer.name][-1]
        window, stem = _window(layer), stems[layer.name]
        patches = None
        if window is not None:
            picks = top_patches(final, TOP_K)
            strips[stem] = patch_strip(images, picks, window)
            patches = {"src": f"patches-{stem}.png", "cell": window.size, "gutter": GUTTER, "count": picks.count}
        tops = [_top(column) for column in np.asarray(spread).T]
        layers[layer.name] = {"r": [thousandths(column) for column in np.asarray(r).T], "top": tops,
                              "spread": [thousandths(column, top) for column, top in zip(np.asarray(spread).T, tops)],
                              "patches": patches, "channels": _channels(layer, stem)}
    return {"source": "analysis" if record is not None else "probes", "images": int(len(images)),
            "resamples": int(record.resamples) if record is not None else 0,
            "steps": [int(step) for step in steps], "layers": layers, "filterMin": FILTER_MIN_R}, strips
