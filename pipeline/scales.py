"""Each layer's colour scale and channel order, chosen from its recorded values (and its activation's name).

    scale = choose_scale(values, activation="relu")   # values: (T, N, H, W, C), float16 or float32
    order = channel_ranking(values)                   # most active channel first
    shown = shown_channels(values)                    # the MAX_SHOWN_CHANNELS most active, in channel order

Three kinds of scale, fixed for the whole run (one animation never rescales):
    fixed        the activation's own range: tanh/softsign [-1, 1] (diverging), sigmoid [0, 1] (sequential),
                 used when no finite value falls outside it
    sequential   no negative values (ReLU, softplus, ...), or GELU/SiLU/Mish (their small dip below 0 drawn
                 white): 0 .. the robust maximum
    diverging    signed and unbounded (linear, GELU, ...): ± the robust maximum of |value|
The robust maximum is the ROBUST_QUANTILE quantile of the finite |values| over every step, probe, position and
channel; values beyond it are drawn at the end of the scale and counted in "clipped_values".

The quantile is exact at float16 resolution and needs no copy of the data: float16 bit patterns of
non-negative numbers sort as the numbers do, so a 65,536-bin count of the |value| bit patterns, taken a few
steps at a time, gives it. (np.quantile would sort a float32 copy of the whole layer: 4x its size.)
"""

from __future__ import annotations

import numpy as np

ROBUST_QUANTILE = 0.999
MAX_SHOWN_CHANNELS = 16
STEPS_PER_CHUNK = 16  # steps counted at once: bounded memory whatever the run's length
_BOUNDED_DIVERGING = frozenset({"tanh", "softsign", "hard_tanh"})
_BOUNDED_SEQUENTIAL = frozenset({"sigmoid", "hard_sigmoid"})
# Unbounded above, with a small negative dip (GELU's minimum is about -0.17, SiLU's -0.28, Mish's -0.31):
# sequential like ReLU, the dip drawn white and counted in "negative_values".
_NEARLY_NONNEGATIVE = frozenset({"gelu", "silu", "swish", "mish"})
_SIGN = np.uint16(0x8000)
_INF_BITS = 0x7C00  # float16 +inf; larger patterns are NaN


def _magnitude_counts(values) -> tuple[np.ndarray, int]:
    """Return (65,536 counts of |value| float16 bit patterns, number of finite negative values)."""
    counts = np.zeros(65536, np.int64)
    negatives = 0
    for start in range(0, len(values), STEPS_PER_CHUNK):
        chunk = np.asarray(values[start:start + STEPS_PER_CHUNK]).astype(np.float16, copy=False)
        bits = chunk.view(np.uint16).ravel()
        magnitude = bits & np.uint16(0x7FFF)
        finite = magnitude < _INF_BITS
        negatives += int(np.count_nonzero((bits & _SIGN).astype(bool) & finite & (magnitude > 0)))
        counts += np.bincount(magnitude, minlength=65536)
    return counts, negatives


def _value_of(pattern: int) -> float:
    return float(np.array([pattern], np.uint16).view(np.float16)[0])


def _quantile_and_beyond(counts: np.ndarray, quantile: float) -> tuple[float, float, int]:
    """Return (the quantile of the finite magnitudes, their maximum, how many exceed the quantile)."""
    finite = counts[:_INF_BITS]
    total = int(finite.sum())
    if total == 0:
        return 0.0, 0.0, 0
    cumulative = np.cumsum(finite)
    rank = min(total - 1, int(np.ceil(quantile * total)) - 1)  # the smallest value with >= quantile below it
    pattern = int(np.searchsorted(cumulative, rank + 1))
    largest = int(np.flatnonzero(finite)[-1])
    return _value_of(pattern), _value_of(largest), total - int(cumulative[pattern])


def count_beyond(counts: np.ndarray, limit: float) -> int:
    """Return how many finite magnitudes in a bit-pattern count exceed `limit`."""
    pattern = int(np.array([limit], np.float16).view(np.uint16)[0])
    return int(counts[pattern + 1:_INF_BITS].sum())


def choose_scale(values, activation: str | None = None, quantile: float = ROBUST_QUANTILE) -> dict:
    """Return the layer's scale: kind, domain [low, high], what the domain is, clipped and non-finite counts."""
    counts, negatives = _magnitude_counts(values)
    nonfinite = int(counts[_INF_BITS:].sum())
    robust, largest, beyond = _quantile_and_beyond(counts, quantile)
    name = (activation or "").lower()
    # basis: what the domain is based on, in English for the renderer's own captions; basis_terms: the same as a
    # form and its values, which the article words in each edition (templates/words/scale.txt.j2)
    if name in _BOUNDED_DIVERGING and largest <= 1.0:
        kind, domain, basis = "fixed", [-1.0, 1.0], f"{name}'s range, -1 .. +1"
        terms, clipped = {"form": "fixed_range", "name": name, "span": "-1 .. +1"}, 0
    elif name in _BOUNDED_SEQUENTIAL and largest <= 1.0 and negatives == 0:
        kind, domain, basis = "fixed", [0.0, 1.0], f"{name}'s range, 0 .. 1"
        terms, clipped = {"form": "fixed_range", "name": name, "span": "0 .. 1"}, 0
    else:
        percent = f"{100 * quantile:g}"
        values_word = "|values|" if negatives else "values"
        basis = f"the {percent}th percentile of the run's {values_word}"
        terms = {"form": "percentile", "percent": percent, "signed": bool(negatives)}
        if robust <= 0:  # a quantile that lands on 0 (mostly zeros): the largest value, else a unit scale
            one = "|value|" if negatives else "value"
            basis = (f"the run's largest {one} (its {percent}th percentile is 0)" if largest > 0
                     else "a unit scale: every value of the run is 0")
            terms = dict(terms, form="largest") if largest > 0 else {"form": "unit"}
            robust, beyond = (largest if largest > 0 else 1.0), 0
        signed = negatives and name not in _NEARLY_NONNEGATIVE
        kind = "diverging" if signed else "sequential"
        domain = [-robust, robust] if signed else [0.0, robust]
        clipped = beyond
    return {"kind": kind, "domain": domain, "basis": basis, "basis_terms": terms,
            "quantile": quantile if kind != "fixed" else None,
            "largest_magnitude": largest, "negative_values": negatives,
            "clipped_values": int(clipped), "nonfinite_values": nonfinite}


def channel_ranking(values) -> list[int]:
    """Return channel indices, most active first: mean |value| at the last step over probes and positions."""
    last = np.abs(np.asarray(values[-1], np.float32))  # (N, H, W, C)
    last[~np.isfinite(last)] = 0.0
    activity = last.reshape(-1, last.shape[-1]).mean(axis=0)  # (C,)
    return [int(index) for index in np.lexsort((np.arange(activity.size), -activity))]


def shown_channels(values, limit: int = MAX_SHOWN_CHANNELS) -> list[int]:
    """Return the `limit` most active channels in channel order (all of them when there are no more)."""
    return sorted(channel_ranking(values)[:limit])
