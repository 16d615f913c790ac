"""The named thresholds behind every label the article gives: one registry of value and explanation.

Use: import a threshold by name where a measure or a sentence needs it (`from report.numbers.thresholds import
COPY_MIN_R`); `thresholds()` returns all of them as {name: (value, explanation)} in a fixed order, and
`appendix_rows()` the same as display rows for the page's appendix. Each value is defined once below; the comment
above a definition says why the value is what it is. The explanation the appendix shows is the macro of the same
name in templates/words/thresholds.txt.j2, written in the edition being written (report.voice).
"""

from __future__ import annotations

from report.voice import say

_REGISTRY: dict[str, float] = {}


def _named(name: str, value: float) -> float:
    """Record a threshold's value under its name (its explanation is the macro of that name), and return it."""
    _REGISTRY[name] = value
    return value


def explanation(name: str) -> str:
    """Return what a named threshold means, as the appendix explains it, in the edition being written."""
    return say("thresholds", name)


# r^2 = 0.49: the input alone then accounts for about half or more of the channel's variation across probes
# and positions.
COPY_MIN_R = _named("COPY_MIN_R", 0.7)
# A rough copy is a blurred or partial one.
CLOSE_COPY_MIN_R = _named("CLOSE_COPY_MIN_R", 0.9)
# What |r| a channel reaches by merely weighting its window's input positively depends on the layer and the data:
# a random positive blur of the input over the layer's receptive field correlates 0.94 with the input at 28x28 on
# MNIST and Fashion-MNIST, 0.55 (MNIST) and 0.73 (Fashion-MNIST) at 7x7 (report/numbers/robust/baseline.py, measured
# on each run's analysis images). A copy must match the input more closely than this share of those blurs do: the
# typical blur (the median). Not a higher quantile: at 28x28 every positive 3x3 blur is a blurred copy of the input
# (MNIST's conv1 blobs at r 0.95 sit 0.002 under the blurs' 90% quantile, a margin smaller than another draw of
# kernels moves it), so only a bar at the typical blur keeps "copy" meaning what a reader sees there; a label within
# BORDERLINE_R of the bar is borderline as any other.
COPY_BASELINE_QUANTILE = _named("COPY_BASELINE_QUANTILE", 0.5)
# The object's 0/1 mask (its silhouette) is every pixel at least this share of the full brightness range above the
# image's darkest pixel: MNIST's and Fashion-MNIST's backgrounds are exactly 0 and anti-aliased borders stay below
# about a tenth. Moving it to 0.05 or to 0.2 changes the mask's r with the input at any layer's resolution by at most
# 0.03 on either (measured on the analysis images of the default and the Fashion-MNIST seed-2 runs).
SILHOUETTE_LEVEL = _named("SILHOUETTE_LEVEL", 0.1)
# A silhouette matches the mask better than the input by more than an r's own uncertainty (BORDERLINE_R).
SILHOUETTE_MARGIN = _named("SILHOUETTE_MARGIN", 0.02)
# Lower than COPY_MIN_R because a Sobel filter is only one idealised edge filter among many.
EDGE_MIN_R = _named("EDGE_MIN_R", 0.6)
# About 1.5% of the -1..1 colour scale, invisible in the animation; at step 0 (N(0, 0.01) weights) channels
# spread below 0.01.
IDLE_MAX_STD = _named("IDLE_MAX_STD", 0.03)
# The pre-activation is then beyond +-1.47, where tanh's slope, and so the gradient, has fallen below a fifth of
# its maximum.
SATURATION_LEVEL = _named("SATURATION_LEVEL", 0.9)
# Such a channel is stuck almost everywhere.
SATURATED_MIN_SHARE = _named("SATURATED_MIN_SHARE", 0.9)
SETTLE_TOLERANCE = _named("SETTLE_TOLERANCE", 0.1)
# So that faint channels are not held to float16 noise.
SETTLE_FLOOR = _named("SETTLE_FLOOR", 0.01)
# The picture is then in place; its contrast may still grow.
PATTERN_MIN_R = _named("PATTERN_MIN_R", 0.95)
# Also used between a channel and its best match in the previous layer. Groups are complete-linkage clusters
# (report/numbers/groups.py), so every pair inside a group reaches it.
DUPLICATE_MIN_R = _named("DUPLICATE_MIN_R", 0.9)
# r^2 = 0.81: the filter then accounts for four fifths or more of the channel's variation, so its shape
# describes the channel.
FILTER_MIN_R = _named("FILTER_MIN_R", 0.9)
# Ridge keeps the weights from chasing noise, but a filter with more weights than about a fifth of its samples
# would still be fitted to the images rather than to what the channel does. On the analysis set (1,000 images)
# every layer of the article's model passes, so one labelling method holds for all of them.
FILTER_SAMPLES_PER_WEIGHT = _named("FILTER_SAMPLES_PER_WEIGHT", 5)
# A Laplacian-like (centre-surround) filter scores near 0 on both: it is neither a blob nor one-sided.
SHAPE_MIN_SCORE = _named("SHAPE_MIN_SCORE", 0.3)
# Linear CKA is r^2 for a single channel, so 0.9 is the same bar as PATTERN_MIN_R (0.95^2 = 0.90).
SETTLED_MIN_CKA = _named("SETTLED_MIN_CKA", 0.9)
# About one standard error of a channel's r when one of the ten probes is left out (a jackknife over the
# probes of a default run gives 0.01 to 0.04).
BORDERLINE_R = _named("BORDERLINE_R", 0.02)
# A label that one resample in ten would change is not one to state without its alternative.
KIND_SURE_SHARE = _named("KIND_SURE_SHARE", 0.9)
BORDERLINE_SHAPE = _named("BORDERLINE_SHAPE", 0.05)
BORDERLINE_STEPS = _named("BORDERLINE_STEPS", 0.05)
# The sampling error of an accuracy measured on n test images is sqrt(p (1 - p) / n).
BORDERLINE_ACCURACY_SE = _named("BORDERLINE_ACCURACY_SE", 2)
INFORMATIVE_SHARE = _named("INFORMATIVE_SHARE", 0.5)
# Colour depth on the page grows with a map's values, so a map a tenth as spread as at the end is drawn in colours
# about a tenth as deep as its last frame's: close to white.
FAINT_MAX_SHARE = _named("FAINT_MAX_SHARE", 0.1)
RESEMBLES_MIN_R = _named("RESEMBLES_MIN_R", 0.5)
DISTINCT_MAX_R = _named("DISTINCT_MAX_R", 0.5)
PLATEAU_TOLERANCE = _named("PLATEAU_TOLERANCE", 0.05)
# A batch of 1,024 images at chance varies in accuracy by about one point (sqrt(0.1 x 0.9 / 1024) = 0.009), so a batch
# five points above chance is learning, not noise; for small batches PLATEAU_ACCURACY_SE widens the margin.
PLATEAU_ACCURACY_MARGIN = _named("PLATEAU_ACCURACY_MARGIN", 0.05)
# Four standard errors: a batch at chance exceeds it about once in 30,000 steps.
PLATEAU_ACCURACY_SE = _named("PLATEAU_ACCURACY_SE", 4)
# Any run spends its first updates at chance, even one whose loss falls from the start; a plateau is a stretch of
# training with both measures at chance, not those first updates.
PLATEAU_MIN_STEPS = _named("PLATEAU_MIN_STEPS", 5)
# The post's own steps are approximate: a plateau of about 60 steps, blurry blobs by about step 70.
NEAR_STEPS = _named("NEAR_STEPS", 20)
# Conclusions 1 and 2 speak of "most" and "few" channels.
MAJORITY_SHARE = _named("MAJORITY_SHARE", 0.5)
MINORITY_SHARE = _named("MINORITY_SHARE", 0.25)
# The post says "above 95%" (conclusion 1).
CLAIMED_ACCURACY = _named("CLAIMED_ACCURACY", 0.95)
# On data other than digits the post's 95% is no yardstick, but "the model is accurate" still needs a model that
# learned: its test accuracy at least this share of the way from chance (1 / classes) to 100%.
ACCURATE_SHARE_OF_RANGE = _named("ACCURATE_SHARE_OF_RANGE", 0.5)
# Conclusion 3: once learned, the picture stopped changing for the larger part of the rest of training.
EARLY_SHARE = _named("EARLY_SHARE", 0.5)


# Thresholds that only layers without tanh's fixed range use; the appendix lists them only when a layer does.
# The same bar as IDLE_MAX_STD, measured against the layer's own colour scale instead of tanh's -1..1.
IDLE_MAX_SCALE_SHARE = _named("IDLE_MAX_SCALE_SHARE", 0.03)
# A channel that outputs exactly 0 almost everywhere passes on almost nothing (ReLU's inactive side).
MOSTLY_ZERO_SHARE = _named("MOSTLY_ZERO_SHARE", 0.9)
# A ReLU passes a gradient only where its output is above 0, so a channel exactly 0 on 99 of every 100 positions
# passes (almost) nothing on and learns from (almost) nothing; that it stays so to the end is what makes it dead,
# not a phase of training.
DEAD_ZERO_SHARE = _named("DEAD_ZERO_SHARE", 0.99)
# One probe of ten changes a channel's share by up to a tenth; a fifth of that is close to the line.
BORDERLINE_SHARE = _named("BORDERLINE_SHARE", 0.02)
UNBOUNDED_ONLY = frozenset({"IDLE_MAX_SCALE_SHARE", "MOSTLY_ZERO_SHARE", "DEAD_ZERO_SHARE", "BORDERLINE_SHARE"})
BOUNDED_ONLY = frozenset({"SATURATION_LEVEL", "SATURATED_MIN_SHARE", "IDLE_MAX_STD"})
# The thresholds that only the original post's observations and conclusions use.
POST_ONLY = frozenset({"NEAR_STEPS", "MAJORITY_SHARE", "MINORITY_SHARE", "CLAIMED_ACCURACY",
                       "ACCURATE_SHARE_OF_RANGE", "BORDERLINE_ACCURACY_SE", "BORDERLINE_STEPS", "EARLY_SHARE"})


def thresholds() -> dict[str, tuple[float, str]]:
    """Return every named threshold as {name: (value, explanation)}, in a fixed order."""
    return {name: (value, explanation(name)) for name, value in _REGISTRY.items()}


def appendix_rows(*, bounded: bool = True, unbounded: bool = False, post: bool = True) -> list[dict]:
    """Return the thresholds the run's page uses as rows for the appendix ("meaning" is "explanation").

    bounded / unbounded: whether some layer has tanh's fixed range / has none; post: whether the original
    post's observations and conclusions are compared. The default is the article's page.
    """
    left_out = (set() if bounded else BOUNDED_ONLY) | (set() if unbounded else UNBOUNDED_ONLY) | \
        (set() if post else POST_ONLY)
    rows = []
    for name, value in _REGISTRY.items():
        if name not in left_out:
            text = explanation(name)
            rows.append({"name": name, "value": value, "display": f"{value:g}", "explanation": text, "meaning": text})
    return rows
