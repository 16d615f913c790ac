"""Group a layer's channels into near-duplicates so that every pair inside a group is a near-duplicate pair.

Use: `duplicate_groups(pairs, threshold)` takes the (C, C) matrix of signed r between a layer's channels and
returns the groups (size >= 2, channel order) of complete-linkage clustering on |r| cut at `threshold`;
`leaf_order(pairs)` the order in which the full clustering lists the channels (similar channels next to
each other, for the heat map); `pair_summary(pairs, threshold)` how many of the layer's pairs reach it.

Complete linkage merges two clusters only when the weakest |r| between them reaches the threshold, so
within a group the lowest |r| is at least the threshold: a chain a~b, b~c with a, c apart is never one
group (single linkage, or connected components, would make it one). Ties merge the pair of clusters
whose channels come first.
"""

from __future__ import annotations

import numpy as np

from report.numbers.findings import DuplicateGroup, PairSummary


def _merges(similarity: np.ndarray) -> list[tuple[list[int], list[int], float]]:
    """Return complete-linkage merges, strongest first: (left members, right members, linkage |r|)."""
    count = similarity.shape[0]
    clusters: list[list[int] | None] = [[index] for index in range(count)]
    # Linkage between live clusters: the weakest |r| across them (Lance-Williams update for complete linkage).
    linkage = similarity.copy()
    np.fill_diagonal(linkage, -np.inf)
    merges = []
    for _ in range(count - 1):
        flat = int(np.argmax(linkage))  # the first maximum in row-major order: ties go to the lowest indices
        i, j = divmod(flat, count)
        i, j = min(i, j), max(i, j)
        merges.append((clusters[i], clusters[j], float(linkage[i, j])))
        clusters[i] = clusters[i] + clusters[j]
        clusters[j] = None
        linkage[i, :] = linkage[:, i] = np.minimum(linkage[i, :], linkage[j, :])
        linkage[i, i] = -np.inf
        linkage[j, :] = linkage[:, j] = -np.inf
    return merges


def duplicate_groups(pairs: np.ndarray, threshold: float) -> list[list[int]]:
    """Return the complete-linkage groups of |r| >= threshold (size >= 2), each sorted, in channel order."""
    similarity = np.abs(np.asarray(pairs, np.float64))
    groups = {index: [index] for index in range(similarity.shape[0])}
    owner = list(range(similarity.shape[0]))
    for left, right, link in _merges(similarity):
        if link < threshold:
            break
        keep, drop = owner[left[0]], owner[right[0]]
        groups[keep] = groups[keep] + groups.pop(drop)
        for member in groups[keep]:
            owner[member] = keep
    return sorted((sorted(group) for group in groups.values() if len(group) > 1), key=lambda group: group[0])


def leaf_order(pairs: np.ndarray) -> list[int]:
    """Return the channels in the full complete-linkage tree's order (near-duplicates side by side)."""
    similarity = np.abs(np.asarray(pairs, np.float64))
    if similarity.shape[0] < 2:
        return list(range(similarity.shape[0]))
    merges = _merges(similarity)
    return list(merges[-1][0] + merges[-1][1])


def group_details(pairs: np.ndarray, groups: list[list[int]]) -> list[DuplicateGroup]:
    """Return per group its channels, the number of its pairs and their lowest and mean |r|."""
    similarity = np.abs(np.asarray(pairs, np.float64))
    details = []
    for group in groups:
        inner = similarity[np.ix_(group, group)][np.triu_indices(len(group), k=1)]
        details.append(DuplicateGroup(channels=list(group), pairs=int(inner.size), min_abs_r=float(inner.min()),
                                      mean_abs_r=float(inner.mean())))
    return details


def pair_summary(pairs: np.ndarray, threshold: float) -> PairSummary:
    """Return how many distinct channel pairs there are, how many reach |r| >= threshold, and the share."""
    similarity = np.abs(np.asarray(pairs, np.float64))
    upper = similarity[np.triu_indices(similarity.shape[0], k=1)]
    reaching = int((upper >= threshold).sum())
    return PairSummary(pairs=int(upper.size), pairs_at_threshold=reaching,
                       share_at_threshold=reaching / upper.size if upper.size else 0.0,
                       min_abs_r=float(upper.min()) if upper.size else None,
                       max_abs_r=float(upper.max()) if upper.size else None)
