"""The box at the top of the article, "This run and the post": numbers and choices only.

    this_run = this_run_context(capture, findings, config, meta, model_file, compared)

Two tables. `settings`: the run's data, model, recorded layers' activations, kernel initialisers, optimiser,
steps and batch size, each beside the post's (POST, from docs/article.md) with whether it differs. `figures`:
the run's headline numbers beside the post's where it states them (only where its MNIST yardsticks apply,
report/capture_facts.py post_yardstick_applies), and, for a run that differs from the post's configuration,
those of the article's model on the same data and seed where a comparison page holding this run holds one
(report/page/compared.py; only what its summary keeps). templates/partials/this_run.html.j2 owns every word.

The initialisers and the optimiser are read from the trained model file (build/model.keras, a zip whose
config.json holds each layer's `kernel_initializer` and the `compile_config`); a row whose facts the files do
not hold is left out, never guessed.
"""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np

from report.capture_facts import ARTICLE_ACTIVATION, is_article, model_info, post_yardstick_applies, recorded_layers
from report.numbers.thresholds import DUPLICATE_MIN_R
from report.words.dataset_text import data_title

# The post's experiment (docs/article.md). Keras' Adam defaults to a learning rate of 0.001; the post says
# "defaults". Its plateau is read off its published plot (about the first 60 steps) and its accuracy is the
# "above 95%" of its text; it states no step of 90% test accuracy and no share of near-duplicate channels.
POST = {"dataset": "mnist", "train_size": 60000, "activation": ARTICLE_ACTIVATION,
        "initialiser": {"class_name": "RandomNormal", "mean": 0.0, "stddev": 0.01},
        "optimizer": "Adam", "learning_rate": 0.001, "steps": 290, "batch_size": 1024,
        "plateau_steps": 60, "final_accuracy": 0.95}
ACCURACY_MARK = 0.9  # the headline "first step at 90% test accuracy"
EARLY_LAYERS = 2  # the near-duplicate share is over the first two recorded layers (conv1 and conv2 in the post's)


def model_config(path: Path | None) -> dict | None:
    """Return the config.json of a Keras model file (a zip), or None when there is none to read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (OSError, TypeError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _layer_configs(config: dict, prefix: str = "") -> dict[str, dict]:
    """Return every layer's config by its name and by its path through nested models ("block1/conv")."""
    found = {}
    for layer in ((config or {}).get("config") or {}).get("layers") or []:
        if not isinstance(layer, dict):
            continue
        inner = layer.get("config") or {}
        name = inner.get("name") or layer.get("name")
        if not name:
            continue
        found.setdefault(name, inner)
        found[f"{prefix}{name}"] = inner
        if isinstance(inner.get("layers"), list):
            for key, value in _layer_configs(layer, f"{prefix}{name}/").items():
                found.setdefault(key, value)
    return found


def initialiser_of(layer: dict | None) -> dict | None:
    """Return a layer config's kernel initialiser as {class_name, mean, stddev, seed}; None without one."""
    init = (layer or {}).get("kernel_initializer")
    if isinstance(init, str):
        return {"class_name": "".join(part.title() for part in init.split("_")), "mean": None, "stddev": None}
    if not isinstance(init, dict) or not init.get("class_name"):
        return None
    settings = init.get("config") or {}
    numbers = {key: float(settings[key]) if isinstance(settings.get(key), (int, float)) else None
               for key in ("mean", "stddev")}
    return {"class_name": str(init["class_name"]), **numbers}


def optimizer_of(config: dict | None) -> dict | None:
    """Return the compiled optimiser's class and learning rate (None: a schedule or unknown); None without one."""
    optimizer = ((config or {}).get("compile_config") or {}).get("optimizer")
    if isinstance(optimizer, str):
        return {"class_name": optimizer.title(), "learning_rate": None}
    if not isinstance(optimizer, dict) or not optimizer.get("class_name"):
        return None
    rate = (optimizer.get("config") or {}).get("learning_rate")
    return {"class_name": str(optimizer["class_name"]),
            "learning_rate": float(rate) if isinstance(rate, (int, float)) else None}


def _runs_of(rows: list[dict], key: str) -> list[dict]:
    """Group consecutive layers with the same `key` value: [{"layers": [names], "value": value}]."""
    groups = []
    for row in rows:
        if groups and groups[-1]["value"] == row[key]:
            groups[-1]["layers"].append(row["name"])
        else:
            groups.append({"layers": [row["name"]], "value": row[key]})
    return groups


def _close(value: float | None, target: float) -> bool:
    return value is not None and math.isclose(value, target, rel_tol=1e-6, abs_tol=1e-12)


def is_post_initialiser(init: dict | None) -> bool:
    """Return whether an initialiser is the post's N(0, 0.01)."""
    post = POST["initialiser"]
    return (init is not None and init["class_name"] == post["class_name"] and _close(init["mean"], post["mean"])
            and _close(init["stddev"], post["stddev"]))


def ninety_step(test_steps, test_accuracy, mark: float = ACCURACY_MARK) -> int | None:
    """Return the first recorded test step whose accuracy is at least `mark`; None when none is."""
    steps, accuracy = np.asarray(test_steps), np.asarray(test_accuracy, np.float64)
    reached = np.flatnonzero(accuracy >= mark)
    return int(steps[reached[0]]) if reached.size else None


def duplicate_share(layers: list) -> dict | None:
    """Return the near-duplicate share of the first EARLY_LAYERS recorded layers.

    The share is the number of distinct channel pairs, within each of those layers, whose final maps correlate
    at |r| >= DUPLICATE_MIN_R (the layer's `pair_r`, on the analysis images where the run has them, else on the
    probes: report/numbers/analysis.py), divided by the number of such pairs in those layers together. None when
    those layers have no pair (one channel each) or no recorded layer.
    """
    early = list(layers)[:EARLY_LAYERS]
    pairs = reaching = 0
    for layer in early:
        similarity = np.abs(np.asarray(layer.pair_r, np.float64)) if layer.pair_r else np.zeros((1, 1))
        upper = similarity[np.triu_indices(similarity.shape[0], k=1)]
        pairs += int(upper.size)
        reaching += int((upper >= DUPLICATE_MIN_R).sum())
    if not pairs:
        return None
    return {"share": reaching / pairs, "reaching": reaching, "pairs": pairs, "layers": [layer.name for layer in early]}


def _reference(compared: dict | None, dataset: str | None) -> dict | None:
    """Return the comparison's run of the article's model on the same data and seed, or None."""
    if not compared or "seed" in (compared.get("differing_fields") or []):
        return None
    for run in compared.get("others") or []:
        if (run.get("model") or {}).get("article") and run.get("dataset") == dataset:
            return {"label": run.get("label"), "href": compared.get("href"), "accuracy": run.get("accuracy"),
                    "plateau_step": run.get("plateau_step"), "last_step": run.get("last_step"),
                    # absent from a comparison written before the box showed them: "not summarised"
                    "summarised": "ninety_step" in run, "ninety_step": run.get("ninety_step"),
                    "duplicates": run.get("duplicates")}
    return None


def this_run_context(capture, findings, config: dict, meta: dict, model_file: Path | None,
                     compared: dict | None = None) -> dict:
    """Return the box's numbers and choices (see the module's docstring)."""
    dataset = meta.get("dataset") or {}
    model = model_info(meta)
    article = is_article(meta)
    keras_config = model_config(model_file)
    by_name = _layer_configs(keras_config) if keras_config else {}
    convs = [row for row in recorded_layers(capture) if row["kind"] == "Conv2D"]
    settings = [{"key": "dataset", "title": data_title(dataset),
                 "train_size": dataset.get("train_size"),
                 "differs": dataset.get("name") != POST["dataset"] or dataset.get("train_size") != POST["train_size"]},
                {"key": "model", "article": article, "name": model.get("name"), "source": model.get("source"),
                 "differs": not article}]
    if convs:
        settings.append({"key": "activation", "groups": _runs_of(convs, "activation"),
                         "differs": any(row["activation"] != POST["activation"] for row in convs)})
        inits = [dict(name=row["name"], init=initialiser_of(by_name.get(row["name"]))) for row in convs]
        if all(row["init"] is not None for row in inits):
            settings.append({"key": "initialiser", "groups": _runs_of(inits, "init"),
                             "differs": not all(is_post_initialiser(row["init"]) for row in inits)})
    optimizer = optimizer_of(keras_config)
    if optimizer is not None:
        settings.append(dict(optimizer, key="optimizer",
                             differs=optimizer["class_name"] != POST["optimizer"]
                             or not _close(optimizer["learning_rate"], POST["learning_rate"])))
    settings += [{"key": "steps", "value": int(config["steps"]), "differs": int(config["steps"]) != POST["steps"]},
                 {"key": "batch_size", "value": int(config["batch_size"]),
                  "differs": int(config["batch_size"]) != POST["batch_size"]}]
    plateau = findings.run.plateau
    accuracy = meta.get("final_test_accuracy")
    figures = [{"key": "plateau", "found": bool(plateau.found), "steps": int(plateau.steps),
                "left_at_step": plateau.left_at_step},
               {"key": "accuracy", "value": float(accuracy) if accuracy is not None else None},
               {"key": "ninety", "step": ninety_step(capture.test_steps, capture.test_accuracy),
                "measured": len(capture.test_steps) > 0}]
    share = duplicate_share(findings.layers)
    if share is not None:
        figures.append(dict(share, key="duplicates"))
    differs = any(row["differs"] for row in settings)
    reference = _reference(compared, dataset.get("name")) if differs else None
    return {"settings": settings, "figures": figures, "post": POST, "yardsticks": post_yardstick_applies(
        dataset.get("name")), "differs": differs, "reference": reference, "suggest_compare": differs and not reference,
        "mark": ACCURACY_MARK, "duplicate_r": DUPLICATE_MIN_R}
