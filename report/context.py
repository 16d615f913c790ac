"""Build the one context object the article template renders; every number comes from the run.

`build_context(capture, manifest, findings, commentary, extras)` returns plain dicts and strings.
Templates compute nothing: all wording that depends on numbers is chosen here or in
report/commentary.py.
"""

from __future__ import annotations

import json

from report.sizes import human_size

def percent(value: float, digits: int = 1) -> str:
    """Format a share in [0, 1] as a percentage."""
    return f"{100 * value:.{digits}f}%"


def dataset_sentence(dataset: dict) -> str:
    """Say plainly which data the network was trained on, with sizes."""
    sizes = f"{dataset['train_size']:,} training images and {dataset['test_size']:,} test images"
    if dataset["name"] == "mnist":
        return f"The network was trained on the full MNIST dataset ({sizes}), loaded with keras' own loader."
    if dataset["name"] == "bundled":
        return (f"The network was trained on the MNIST subset bundled with this project ({sizes}): the first "
                f"10,000 images of the official training set and the complete official test set. Full MNIST "
                f"has 60,000 training images; it is used automatically when keras can load it.")
    return f"The network was trained on {dataset['title']} ({sizes}), from {dataset['source']}."


def model_rows(layers: list[dict]) -> list[dict]:
    """Format the Keras layer table for the article."""
    rows = []
    for layer in layers:
        rows.append({"name": layer["name"], "kind": layer["kind"],
                     "shape": " × ".join(str(size) for size in layer["output_shape"]),
                     "activation": layer["activation"] or "—", "parameters": f"{layer['parameters']:,}"})
    return rows


def settings(config: dict, meta: dict) -> list[dict]:
    """List the training settings shown beside the model table."""
    return [
        {"label": "Optimiser", "value": f"Adam, learning rate {config['learning_rate']:g} (Keras defaults)"},
        {"label": "Loss", "value": "categorical cross-entropy"},
        {"label": "Batch size", "value": f"{config['batch_size']:,} images (remainder of each epoch dropped)"},
        {"label": "Training steps", "value": f"{config['steps']:,} ({meta['steps_per_epoch']} per epoch, "
                                             f"{meta['epochs']:g} epochs)"},
        {"label": "Conv kernel initialiser", "value": f"normal, mean 0, standard deviation {config['kernel_init_stddev']:g}"},
        {"label": "Snapshots", "value": f"every {config['capture_every']} step(s), plus step 0"},
        {"label": "Test curve", "value": f"every {config['test_every']} steps on {meta['test_subset_size']:,} "
                                         f"fixed test images; the final figure on all {meta['final_test_size']:,}"},
        {"label": "Seed", "value": str(config["seed"])},
    ]


def download(label: str, href: str, size: int) -> dict:
    """Describe one downloadable file with its human-readable size."""
    return {"label": label, "href": href, "size": human_size(size)}


def config_of(capture) -> dict:
    """Return the run's config as a dict."""
    return json.loads(capture.config_json)
