"""Labels measured on the analysis set, their bootstrap stability, and the conclusions' variants (issue 21).

final_measures.py  every final-step measure of a layer on one set of images (the analysis set or the probes)
baseline.py        what random positive blurs over a layer's window reach: the bars a copy and a silhouette must pass
image_sums.py      per-image sums from which a bootstrap resample's correlations are weighted sums
stability.py       each channel's label per bootstrap resample: stability, runner-up, near-duplicate conflicts
channels.py        a layer's ChannelFindings from its measures and its labels' certainty
variants.py        the three conclusions' checks under any definition, and their variants' verdicts
"""
