"""The named thresholds behind every label the article gives: one registry of value and explanation.

Use: import a threshold by name where a measure or a sentence needs it (`from report.numbers.thresholds import
COPY_MIN_R`); `thresholds()` returns all of them as {name: (value, explanation)} in a fixed order, and
`appendix_rows()` the same as display rows for the page's appendix. Each is defined once below, with the
explanation the appendix shows; the comment above a definition says why the value is what it is.
"""

from __future__ import annotations

_REGISTRY: dict[str, tuple[float, str]] = {}


def _named(name: str, value: float, explanation: str) -> float:
    """Record a threshold's value and explanation under its name, and return the value."""
    _REGISTRY[name] = (value, explanation)
    return value


# r^2 = 0.49: the input alone then accounts for about half or more of the channel's variation across probes
# and positions.
COPY_MIN_R = _named("COPY_MIN_R", 0.7, "a channel copies the input when |r| with the input (pooled to the "
                    "layer's resolution) is at least this")
# A rough copy is a blurred or partial one.
CLOSE_COPY_MIN_R = _named("CLOSE_COPY_MIN_R", 0.9, "a copy with |r| of at least this is called close, below it rough")
# Lower than COPY_MIN_R because a Sobel filter is only one idealised edge filter among many.
EDGE_MIN_R = _named("EDGE_MIN_R", 0.6, "a channel is an edge detector when |r| with its best Sobel edge map is at "
                    "least this and above its copy |r|")
# About 1.5% of the -1..1 colour scale, invisible in the animation; at step 0 (N(0, 0.01) weights) channels
# spread below 0.01.
IDLE_MAX_STD = _named("IDLE_MAX_STD", 0.03, "a channel is idle when its final map's standard deviation over probes "
                      "and positions is below this (tanh units)")
# The pre-activation is then beyond +-1.47, where tanh's slope, and so the gradient, has fallen below a fifth of
# its maximum.
SATURATION_LEVEL = _named("SATURATION_LEVEL", 0.9, "a value is saturated when |tanh| exceeds this")
# Such a channel is stuck almost everywhere.
SATURATED_MIN_SHARE = _named("SATURATED_MIN_SHARE", 0.9, "a channel is saturated when at least this share of its "
                             "final values are saturated")
SETTLE_TOLERANCE = _named("SETTLE_TOLERANCE", 0.1, "a channel has settled from the step after which its map (all "
                          "probes) stays within this share of its final spread of its final map (RMS difference)")
# So that faint channels are not held to float16 noise.
SETTLE_FLOOR = _named("SETTLE_FLOOR", 0.01, "the settle tolerance is never smaller than this (tanh units)")
# The picture is then in place; its contrast may still grow.
PATTERN_MIN_R = _named("PATTERN_MIN_R", 0.95, "a channel's pattern is in place from the step after which its map "
                       "keeps at least this correlation with its final map")
# Also used between a channel and its best match in the previous layer. Groups are complete-linkage clusters
# (report/numbers/groups.py), so every pair inside a group reaches it.
DUPLICATE_MIN_R = _named("DUPLICATE_MIN_R", 0.9, "two channels are near-duplicates when their final maps correlate "
                         "at |r| of at least this; in a group of near-duplicates every pair does")
# r^2 = 0.81: the filter then accounts for four fifths or more of the channel's variation, so its shape
# describes the channel.
FILTER_MIN_R = _named("FILTER_MIN_R", 0.9, "a channel's kind is read from the shape of its fitted linear filter of "
                      "the input when that filter predicts the channel's map (out of sample) at r of at least this")
# Ridge keeps the weights from chasing noise, but a filter with more weights than about a fifth of its samples
# would still be fitted to the images rather than to what the channel does. On the analysis set (1,000 images)
# every layer of the article's model passes, so one labelling method holds for all of them.
FILTER_SAMPLES_PER_WEIGHT = _named("FILTER_SAMPLES_PER_WEIGHT", 5, "a layer's channels are fitted as linear filters "
                                   "of the input only when the images give at least this many samples "
                                   "(images x positions) per weight of the filter window")
# A Laplacian-like (centre-surround) filter scores near 0 on both: it is neither a blob nor one-sided.
SHAPE_MIN_SCORE = _named("SHAPE_MIN_SCORE", 0.3, "a fitted filter is a blob (copy) or an oriented difference (edge) "
                         "only when its larger shape score is at least this; otherwise it is unnamed")
# Linear CKA is r^2 for a single channel, so 0.9 is the same bar as PATTERN_MIN_R (0.95^2 = 0.90).
SETTLED_MIN_CKA = _named("SETTLED_MIN_CKA", 0.9, "a layer's pattern is in place from the step after which the "
                         "linear CKA of its representation with its final one stays at least this")
# About one standard error of a channel's r when one of the ten probes is left out (a jackknife over the
# probes of a default run gives 0.01 to 0.04).
BORDERLINE_R = _named("BORDERLINE_R", 0.02, "a correlation within this of the threshold that decides a label is "
                      "borderline, and so is the label")
# A label that one resample in ten would change is not one to state without its alternative.
KIND_SURE_SHARE = _named("KIND_SURE_SHARE", 0.9, "a channel's label is sure when at least this share of the bootstrap "
                         "resamples of the analysis images give it, and no near-duplicate channel carries another")
BORDERLINE_SHAPE = _named("BORDERLINE_SHAPE", 0.05, "a filter whose edge share lies within this of 0.5 (blob and "
                          "edge scores about equal) is borderline between copy and edge")
BORDERLINE_STEPS = _named("BORDERLINE_STEPS", 0.05, "a step within this share of the training after the plateau "
                          "of a limit is borderline")
# The sampling error of an accuracy measured on n test images is sqrt(p (1 - p) / n).
BORDERLINE_ACCURACY_SE = _named("BORDERLINE_ACCURACY_SE", 2, "a test accuracy within this many standard errors "
                                "(from the size of the test set) of the claimed accuracy is borderline")
INFORMATIVE_SHARE = _named("INFORMATIVE_SHARE", 0.5, "a layer is informative from the step after which its "
                           "channels' median spread stays at least this share of its final value")
# Colour depth on the page grows with a map's values, so a map a tenth as spread as at the end is drawn in colours
# about a tenth as deep as its last frame's: close to white.
FAINT_MAX_SHARE = _named("FAINT_MAX_SHARE", 0.1, "a layer's frames are called nearly white at a step when its "
                         "channels' median spread there is below this share of its final value; a layer that "
                         "starts above it is said to grow in contrast from that share instead")
RESEMBLES_MIN_R = _named("RESEMBLES_MIN_R", 0.5, "an informative layer resembles the input once its channels' "
                         "median |r| with the input reaches this")
DISTINCT_MAX_R = _named("DISTINCT_MAX_R", 0.5, "a layer's channels are distinct from the step after which their "
                        "mean |r| with each other stays at most this")
PLATEAU_TOLERANCE = _named("PLATEAU_TOLERANCE", 0.05, "the training loss is at chance while it stays within this "
                           "of ln(number of classes)")
# A batch of 1,024 images at chance varies in accuracy by about one point (sqrt(0.1 x 0.9 / 1024) = 0.009), so a batch
# five points above chance is learning, not noise; for small batches PLATEAU_ACCURACY_SE widens the margin.
PLATEAU_ACCURACY_MARGIN = _named("PLATEAU_ACCURACY_MARGIN", 0.05, "the training accuracy is at chance while each "
                                 "step's batch accuracy stays at most this above 1 / (number of classes)")
# Four standard errors: a batch at chance exceeds it about once in 30,000 steps.
PLATEAU_ACCURACY_SE = _named("PLATEAU_ACCURACY_SE", 4, "for batches so small that chance alone moves their accuracy "
                             "more, the accuracy margin is this many standard errors of a batch's accuracy at chance, "
                             "sqrt(p (1 - p) / batch size) with p = 1 / (number of classes)")
# Any run spends its first updates at chance, even one whose loss falls from the start; a plateau is a stretch of
# training with both measures at chance, not those first updates.
PLATEAU_MIN_STEPS = _named("PLATEAU_MIN_STEPS", 5, "the run has a loss plateau only when the training loss and the "
                           "training accuracy both stay at chance for at least this many steps from the start")
# The post's own steps are approximate: a plateau of about 60 steps, blurry blobs by about step 70.
NEAR_STEPS = _named("NEAR_STEPS", 20, "a step within this many steps of one the post reports counts as close to it")
# Conclusions 1 and 2 speak of "most" and "few" channels.
MAJORITY_SHARE = _named("MAJORITY_SHARE", 0.5, "a share of channels above this counts as most")
MINORITY_SHARE = _named("MINORITY_SHARE", 0.25, "a share of channels of at most this counts as few")
# The post says "above 95%" (conclusion 1).
CLAIMED_ACCURACY = _named("CLAIMED_ACCURACY", 0.95, "the test accuracy the post claims for its model")
# Conclusion 3: once learned, the picture stopped changing for the larger part of the rest of training.
EARLY_SHARE = _named("EARLY_SHARE", 0.5, "a layer settled early when its settled step (pattern and contrast both "
                     "in place) comes at most this share of the way from the end of the loss plateau (the first "
                     "step, in a run without one) to the last step")


# Thresholds that only layers without tanh's fixed range use; the appendix lists them only when a layer does.
# The same bar as IDLE_MAX_STD, measured against the layer's own colour scale instead of tanh's -1..1.
IDLE_MAX_SCALE_SHARE = _named("IDLE_MAX_SCALE_SHARE", 0.03, "in a layer without a fixed range, a channel is idle "
                              "when its final map's standard deviation is below this share of the upper end of "
                              "the layer's colour scale")
# A channel that outputs exactly 0 almost everywhere passes on almost nothing (ReLU's inactive side).
MOSTLY_ZERO_SHARE = _named("MOSTLY_ZERO_SHARE", 0.9, "in a layer without negative values, a channel is mostly zero "
                           "when at least this share of its final values are exactly 0")
# A ReLU passes a gradient only where its output is above 0, so a channel exactly 0 on 99 of every 100 positions
# passes (almost) nothing on and learns from (almost) nothing; that it stays so to the end is what makes it dead,
# not a phase of training.
DEAD_ZERO_SHARE = _named("DEAD_ZERO_SHARE", 0.99, "in a layer without negative values, a channel is dead from the "
                         "step from which at least this share of its values on the probes are exactly 0 at every "
                         "recorded step to the end (and, where the run kept analysis images, of its final values on "
                         "them)")
# One probe of ten changes a channel's share by up to a tenth; a fifth of that is close to the line.
BORDERLINE_SHARE = _named("BORDERLINE_SHARE", 0.02, "a share of values within this of its threshold is borderline")
UNBOUNDED_ONLY = frozenset({"IDLE_MAX_SCALE_SHARE", "MOSTLY_ZERO_SHARE", "DEAD_ZERO_SHARE", "BORDERLINE_SHARE"})
BOUNDED_ONLY = frozenset({"SATURATION_LEVEL", "SATURATED_MIN_SHARE"})
# The thresholds that only the original post's observations and conclusions use.
POST_ONLY = frozenset({"NEAR_STEPS", "MAJORITY_SHARE", "MINORITY_SHARE", "CLAIMED_ACCURACY",
                       "BORDERLINE_ACCURACY_SE", "BORDERLINE_STEPS"})


def thresholds() -> dict[str, tuple[float, str]]:
    """Return every named threshold as {name: (value, explanation)}, in a fixed order."""
    return dict(_REGISTRY)


def appendix_rows(*, bounded: bool = True, unbounded: bool = False, post: bool = True) -> list[dict]:
    """Return the thresholds the run's page uses as rows for the appendix ("meaning" is "explanation").

    bounded / unbounded: whether some layer has tanh's fixed range / has none; post: whether the original
    post's observations and conclusions are compared. The default is the article's page.
    """
    left_out = (set() if bounded else BOUNDED_ONLY) | (set() if unbounded else UNBOUNDED_ONLY) | \
        (set() if post else POST_ONLY)
    return [{"name": name, "value": value, "display": f"{value:g}", "explanation": text, "meaning": text}
            for name, (value, text) in _REGISTRY.items() if name not in left_out]
