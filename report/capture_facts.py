"""Read what a capture says about its model and data, with the fallbacks older captures need.

Use: `is_article(meta)` (the original post's model; a missing meta["model"] means it is), `post_yardstick_applies(
name)` (the data is MNIST's, so the post's accuracy, plateau and digit readings compare), `model_info(meta)`,
`recorded_layers(capture)` (one row per recorded layer, in recording order: name, kind, activation, output and
stored shapes), `image_shape`, `class_count`, `probe_colour`, `grey_probes` and `kernel_phrases`. Every function
takes plain capture data and returns plain data; nothing here decides a wording. What the page may publish of
the builder's paths is report/page/public_paths.py's.
"""

from __future__ import annotations

import numpy as np

ARTICLE = "article"
ARTICLE_ACTIVATION = "tanh"  # the article's conv layers (model/architecture.py); captures without the row say so
BOUNDED_ACTIVATIONS = frozenset({"tanh", "softsign", "hard_tanh"})  # bounded to [-1, 1]: saturation applies
# meta["dataset"]["name"] of the MNIST family (full MNIST, also from idx files, and the bundled subset): the only
# data the post's yardsticks (its 95% test accuracy, its plateau, its per-layer readings of digits) are about.
MNIST_FAMILY = ("mnist", "bundled")


def model_info(meta: dict | None) -> dict:
    """Return meta["model"] with its origin filled in ("article" when the capture predates the field)."""
    info = dict((meta or {}).get("model") or {})
    info.setdefault("origin", ARTICLE)
    info.setdefault("source", "model/architecture.py" if info["origin"] == ARTICLE else "unknown")
    return info


def is_article(meta: dict | None) -> bool:
    """Return whether the run's model is the original post's (only then are its observations compared)."""
    return model_info(meta)["origin"] == ARTICLE


def post_yardstick_applies(dataset_name: str | None) -> bool:
    """Return whether the post's MNIST yardsticks apply to a run on this data (a capture without the name: MNIST)."""
    return dataset_name is None or dataset_name in MNIST_FAMILY


def recorded_layers(capture) -> list[dict]:
    """Return one row per recorded layer, in the order of capture.activations, with kind and activation."""
    meta = getattr(capture, "meta", None) or {}
    rows = {row.get("name"): row for row in meta.get("recorded_layers") or []}
    table = {row.get("name"): row for row in meta.get("layers") or []}
    result = []
    for name, values in capture.activations.items():
        stored = [int(size) for size in np.shape(values)[2:]]
        row = rows.get(name) or table.get(name) or {}
        kind = row.get("kind") or "Conv2D"
        activation = row["activation"] if "activation" in row else ARTICLE_ACTIVATION  # old captures: tanh
        result.append({"name": name, "kind": kind, "activation": activation,
                       "output_shape": list(row.get("output_shape") or stored), "stored_shape": stored})
    return result


def image_shape(meta: dict | None, probe_images=None) -> list[int]:
    """Return the model input's [H, W, C] (meta, else the probe images, else MNIST's 28x28x1)."""
    shape = ((meta or {}).get("dataset") or {}).get("image_shape")
    if shape:
        return [int(size) for size in shape]
    if probe_images is not None:
        images = np.shape(probe_images)
        return [int(images[1]), int(images[2]), int(images[3]) if len(images) == 4 else 1]
    return [28, 28, 1]


def probe_colour(probe_images) -> str:
    """Return "rgb" for (N, H, W, 3) probes, else "grey"."""
    shape = np.shape(probe_images)
    return "rgb" if len(shape) == 4 and shape[-1] == 3 else "grey"


def grey_probes(probe_images) -> np.ndarray:
    """Return the probes as (N, H, W) brightness on 0..255: RGB (or any channel count) averaged over channels."""
    images = np.asarray(probe_images)
    if images.ndim == 4:
        return images.astype(np.float64).mean(axis=-1)
    return images


def class_count(meta: dict | None, config: dict | None = None) -> int:
    """Return the number of classes: the dataset's class names, else the config's last dense width, else 10."""
    names = ((meta or {}).get("dataset") or {}).get("class_names")
    if names:
        return len(names)
    widths = (config or {}).get("dense_widths")
    return int(widths[-1]) if widths else 10


def _pair_text(value) -> str | None:
    """Return "3×3" for [3, 3] or 3, None for None."""
    if value is None:
        return None
    pair = list(value) if isinstance(value, (list, tuple)) else [value, value]
    return "\u00d7".join(str(int(size)) for size in pair)


def kernel_phrases(rows: list[dict], article: bool) -> list[str | None]:
    """Return each row's kernel size as "3×3" (None when the row lacks it and the model is not the article's)."""
    return [_pair_text(row.get("kernel_size")) or ("3\u00d73" if article else None) for row in rows]


