"""The analysis set's per-step statistics (docs/analysis-set.md), from per-image sums; numpy only, float64 sums.

A layer's activations X are (A, H, W, C) for A images (float16 or float32, any array indexable by image):
the samples are images x positions (n = A H W unweighted), the channels are the features. A resample
weights image i by W[b, i] (capture/bootstrap.py, row 0 all ones = the full set), which is the same as
repeating its rows W[b, i] times. Every statistic below is a sum over samples, so each is computed per
image and the resamples are matrix products W @ sums; the images are read a block at a time (BLOCK_VALUES) into
float64, and only the weighted sums (R = B+1 rows) are kept.

Features are first shifted by the full set's mean (HSIC_u does not change under a shift; the sums cancel less).
With a_s = |x_s|^2, b_s = |y_s|^2, S_x = sum w_s x_s, S_y = sum w_s y_s, n = sum w_s (weights per sample):

    tr(K~ L~)  = |X'WY|_F^2 - sum w_s a_s b_s
    1'K~1      = |S_x|^2 - sum w_s a_s                    1'L~1 likewise
    1'K~ L~ 1  = S_x' (X'WY) S_y - S_x . sum w_s b_s x_s - S_y . sum w_s a_s y_s + sum w_s a_s b_s
    HSIC_u     = [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n (n-3))     (Song et al. 2012)
    CKA        = HSIC_u(X, Y) / sqrt(HSIC_u(X, X) HSIC_u(Y, Y))   (0 where that product is not positive)

    pc1_share  = largest eigenvalue / trace of the weighted channel covariance X'WX / n - m m', m = S_x / n
                 (0 for a layer with no variance)

The per-channel statistics use the full set only (row 0's sums), for channel c with final map f:

    channel_r      Pearson r of x_c and f_c over all samples (0 where either does not vary)
    channel_rms    sqrt(mean((x_c - f_c)^2))
    channel_spread the standard deviation of x_c
"""

from __future__ import annotations

import numpy as np

BLOCK_VALUES = 4_000_000  # float64 values (32 MB) of one array's block of samples or per-image products
KEEP_VALUES = 16_000_000  # a layer's shifted float64 samples (128 MB) kept between steps when they are no more


def _mean(values) -> np.ndarray:
    """Return the full set's per-channel mean in float64, reading a block of images at a time."""
    total, count = 0.0, 0
    size = _block_images(values.shape, values.shape[-1])
    for start in range(0, len(values), size):
        block = np.asarray(values[start:start + size], np.float64).reshape(-1, values.shape[-1])
        total, count = total + np.ones(len(block)) @ block, count + len(block)
    return total / count


class _Blocks:
    """One array's samples shifted by its mean, in float64, a block of `size` images at a time, with each
    sample's squared norm a_s; the blocks are kept (made once) when the array holds at most KEEP_VALUES values.

    The final step's samples meet every grid step and each step's meet the next one, so keeping them saves
    converting, shifting and squaring them again (about half of the replay's time for the default run).
    """

    def __init__(self, values, size: int, spare: _Blocks | None = None):
        self.values, self.size = values, size
        self.count = -(-len(values) // size)
        self.buffer = None
        if int(np.prod(values.shape)) > KEEP_VALUES:
            self.mean = _mean(values)
            return
        # Kept: converted once into one float64 buffer (a spare one of the same shape is refilled: fresh pages
        # cost as much as the conversion), the mean taken from it, then shifted in place.
        shape = (len(values), int(np.prod(values.shape[1:-1])), values.shape[-1])
        usable = spare is not None and spare.buffer is not None and spare.buffer.shape == shape
        self.buffer = spare.buffer if usable else np.empty(shape)
        spare = None  # its buffer is this one's now
        for start in range(0, len(values), size):
            self.buffer[start:start + size] = np.reshape(values[start:start + size], (-1, *shape[1:]))
        flat = self.buffer.reshape(-1, shape[-1])
        self.mean = (np.ones(len(flat)) @ flat) / len(flat)
        self.buffer -= self.mean
        self._norms = np.einsum("bpc,bpc->bp", self.buffer, self.buffer)

    def block(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Return block `index`'s (b, P, C) shifted samples and (b, P) squared norms."""
        start = index * self.size
        if self.buffer is not None:
            return self.buffer[start:start + self.size], self._norms[start:start + self.size]
        block = np.array(self.values[start:start + self.size], np.float64)
        block = block.reshape(len(block), -1, block.shape[-1])
        block -= self.mean
        return block, np.einsum("bpc,bpc->bp", block, block)


class _Sums:
    """One array's weighted sums per resample: S (R, C), sum a (R,); and, per pair, X'WY and the a/b terms."""

    def __init__(self, rows: int, channels: int):
        self.s, self.sa = np.zeros((rows, channels)), np.zeros(rows)


class _PairSums:
    def __init__(self, rows: int, left: int, right: int):
        self.xy, self.ab = np.zeros((rows, left, right)), np.zeros(rows)
        self.bx, self.ay = np.zeros((rows, left)), np.zeros((rows, right))


def weighted_sums(own: list[_Blocks], pairs: list[tuple[_Blocks, _Blocks]], weights: np.ndarray):
    """Return the _Sums of each of `own` and the _PairSums of each pair, from one pass over the blocks."""
    rows = len(weights)
    sums = [_Sums(rows, source.values.shape[-1]) for source in own]
    crossed = [_PairSums(rows, x.values.shape[-1], y.values.shape[-1]) for x, y in pairs]
    first = own[0] if own else pairs[0][0]
    for index in range(first.count):
        start = index * first.size
        part = None
        for source, total in zip(own, sums):
            block, norm = source.block(index)
            part = weights[:, start:start + len(block)]
            total.s += part @ (np.ones(block.shape[1]) @ block)  # per-image sums of x, by matmul (fast)
            total.sa += part @ norm.sum(axis=1)
        for (left, right), total in zip(pairs, crossed):
            (x, a), (y, b) = left.block(index), right.block(index)
            part = weights[:, start:start + len(x)]
            products = np.matmul(x.transpose(0, 2, 1), y)  # (b, C, D) per image
            total.xy += (part @ products.reshape(len(x), -1)).reshape(total.xy.shape)
            total.ab += part @ np.einsum("bp,bp->b", a, b)
            total.bx += part @ np.matmul(b[:, np.newaxis], x)[:, 0]
            total.ay += part @ np.matmul(a[:, np.newaxis], y)[:, 0]
    return sums, crossed


def _block_images(shape: tuple, channels: int) -> int:
    """Return how many images one block holds: its samples and its per-image products within BLOCK_VALUES."""
    per_image = max(int(np.prod(shape[1:])), channels * channels)
    return max(1, BLOCK_VALUES // per_image)


def hsic_from_sums(x: _Sums, y: _Sums, pair: _PairSums, n: np.ndarray) -> np.ndarray:
    """Return HSIC_u per resample from the weighted sums (the module docstring's formulas)."""
    frobenius = (pair.xy ** 2).sum(axis=(1, 2))
    bilinear = np.einsum("rc,rcd,rd->r", x.s, pair.xy, y.s)
    ones_k, ones_l = (x.s ** 2).sum(axis=1) - x.sa, (y.s ** 2).sum(axis=1) - y.sa
    ones_kl = bilinear - (x.s * pair.bx).sum(axis=1) - (y.s * pair.ay).sum(axis=1) + pair.ab
    with np.errstate(divide="ignore", invalid="ignore"):
        return (frobenius - pair.ab + ones_k * ones_l / ((n - 1) * (n - 2)) - 2 / (n - 2) * ones_kl) / (n * (n - 3))


def hsic(x, y, weights: np.ndarray) -> np.ndarray:
    """Return HSIC_u of (A, ..., C) x and (A, ..., D) y (same positions) for each row of weights (R, A)."""
    weights = np.asarray(weights, np.float64)
    size = _block_images(x.shape, max(x.shape[-1], y.shape[-1]))
    left, right = _Blocks(x, size), _Blocks(y, size)
    own, (pair,) = weighted_sums([left, right], [(left, right)], weights)
    return hsic_from_sums(own[0], own[1], pair, _samples(x, weights))


def cka(cross: np.ndarray, self_x: np.ndarray, self_y: np.ndarray) -> np.ndarray:
    """Return CKA from HSIC_u(X, Y), HSIC_u(X, X), HSIC_u(Y, Y); 0 where the denominator is not positive."""
    product = self_x * self_y
    safe = np.isfinite(product) & (product > 0)
    return np.where(safe, cross / np.sqrt(np.where(safe, product, 1.0)), 0.0)


def pc1_share(x: _Sums, pair: _PairSums, n: np.ndarray) -> np.ndarray:
    """Return the first principal component's share of the weighted channel covariance, from x's self sums."""
    mean = x.s / n[:, np.newaxis]
    covariance = pair.xy / n[:, np.newaxis, np.newaxis] - mean[:, :, np.newaxis] * mean[:, np.newaxis, :]
    eigenvalues = np.linalg.eigvalsh(covariance)
    total = eigenvalues.clip(min=0).sum(axis=1)
    return np.where(total > 0, eigenvalues[:, -1].clip(min=0) / np.where(total > 0, total, 1.0), 0.0)


def channel_stats(x: tuple, f: tuple, cross: _PairSums, means: tuple, n: float) -> dict[str, np.ndarray]:
    """Return each channel's full-set r with its final map, RMS difference and spread from row 0's sums.

    x and f are (_Sums, self _PairSums) of this step and of the final step, means their shifts.
    """
    mx, mf = x[0].s[0] / n, f[0].s[0] / n  # the shifted samples' means (0 up to rounding)
    var_x = np.diagonal(x[1].xy[0]) / n - mx ** 2
    var_f = np.diagonal(f[1].xy[0]) / n - mf ** 2
    cov = np.diagonal(cross.xy[0]) / n - mx * mf
    spread, final_spread = np.sqrt(var_x.clip(min=0)), np.sqrt(var_f.clip(min=0))
    varies = (spread > 0) & (final_spread > 0)
    r = np.where(varies, cov / np.where(varies, spread * final_spread, 1.0), 0.0)
    shift = means[0] - means[1]  # (x - f) = (x~ - f~) + shift
    square = (np.diagonal(x[1].xy[0]) + np.diagonal(f[1].xy[0]) - 2 * np.diagonal(cross.xy[0])) / n \
        + 2 * shift * (mx - mf) + shift ** 2
    return {"channel_r": r.clip(-1, 1), "channel_rms": np.sqrt(square.clip(min=0)), "channel_spread": spread}


def _samples(values, weights: np.ndarray) -> np.ndarray:
    """Return n per resample: the weighted count of images times positions per image."""
    return weights.sum(axis=1) * (int(np.prod(values.shape[1:-1])) if len(values.shape) > 2 else 1)


class LayerSeries:
    """One layer's statistics over the grid, fed one step at a time (ascending), against its final activations.

    It keeps the final and the previous step's activations (as _Blocks: shifted float64 samples when they fit
    KEEP_VALUES, else references read a block at a time) and their sums.
    """

    def __init__(self, final, weights: np.ndarray, steps: int):
        self.final, self.weights = final, np.asarray(weights, np.float64)
        self.n = _samples(final, self.weights)
        self._size = _block_images(final.shape, final.shape[-1])
        self._final_blocks = _Blocks(final, self._size)
        self.final_mean = self._final_blocks.mean
        (own,), (pair,) = weighted_sums([self._final_blocks], [(self._final_blocks, self._final_blocks)],
                                        self.weights)
        self._final = (own, pair, hsic_from_sums(own, own, pair, self.n))
        self._previous = None  # (_Blocks, (sums, self pair sums, self HSIC)) of the previous step
        self._spare = None  # the _Blocks of the step before it, whose buffer the next step refills
        rows, channels = len(self.weights), final.shape[-1]
        self.series = {key: np.zeros((rows, steps)) for key in ("cka_final", "cka_next", "pc1_share")}
        self.series.update({key: np.zeros((steps, channels)) for key in ("channel_r", "channel_rms",
                                                                           "channel_spread")})
        self._column = 0

    def add(self, values) -> None:
        """Add the next grid step's (A, H, W, C) activations."""
        column, blocks = self._column, _Blocks(values, self._size, self._spare)
        mean = blocks.mean
        pairs = [(blocks, blocks), (blocks, self._final_blocks)]
        if self._previous is not None:
            pairs.append((self._previous[0], blocks))
        own, crossed = weighted_sums([blocks], pairs, self.weights)
        mine = hsic_from_sums(own[0], own[0], crossed[0], self.n)
        final_sums, final_pair, final_self = self._final
        self.series["cka_final"][:, column] = cka(hsic_from_sums(own[0], final_sums, crossed[1], self.n), mine,
                                                  final_self)
        if self._previous is None:
            self.series["cka_next"][:, column] = 1.0
        else:
            before_sums, _, before_self = self._previous[1]
            self.series["cka_next"][:, column] = cka(hsic_from_sums(before_sums, own[0], crossed[2], self.n),
                                                     before_self, mine)
        self.series["pc1_share"][:, column] = pc1_share(own[0], crossed[0], self.n)
        rows = channel_stats((own[0], crossed[0]), (final_sums, final_pair), crossed[1], (mean, self.final_mean),
                             self.n[0])
        for key, row in rows.items():
            self.series[key][column] = row
        # The step before this one is no longer needed: its buffer is refilled by the next step.
        self._spare = self._previous[0] if self._previous is not None else None
        self._previous, self._column = (blocks, (own[0], crossed[0], mine)), column + 1


def step_series(layers_final: dict, weights: np.ndarray, steps: int) -> dict[str, LayerSeries]:
    """Return a LayerSeries per layer for (A, H, W, C) final activations and (B+1, A) weights."""
    return {name: LayerSeries(values, weights, steps) for name, values in layers_final.items()}
