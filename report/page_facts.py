"""Format the run's facts for the page: sizes, the model table, the settings list, downloads, the command.

Each function takes plain values from the capture's config and meta and returns strings or rows;
the sentences that do not depend on the run live in the templates.
"""

from __future__ import annotations

import json
import shlex

from report.wording import number, percent

SUBJECTS = {  # how the page names what the network looks at, per dataset ("default": the MNIST digits)
    "fashion": {"task": "tell ten kinds of clothing apart", "plural": "images", "singular": "image"},
    "cifar10": {"task": "tell ten kinds of object apart in small colour photographs", "plural": "images",
                "singular": "image"},
    "cifar100": {"task": "tell 100 kinds of object apart in small colour photographs", "plural": "images",
                 "singular": "image"},
    "default": {"task": "read handwritten digits", "plural": "digits", "singular": "digit"},
}
DIGIT_DATASETS = ("mnist", "bundled")  # MNIST itself: the only data whose probes the page calls digits
FLAGS = {"dataset": "--dataset", "data_dir": "--data-dir", "steps": "--steps", "batch_size": "--batch-size",
         "seed": "--seed", "capture_every": "--every", "strategy": "--strategy", "model": "--model",
         "data": "--data", "layers": "--layers", "probes": "--probes"}
FILLED_BY_CLI = ("model_sha256", "data_sha256")  # generate.py reads these from the files; never typed
LIST_FLAGS = ("layers", "probes")  # typed as a comma-separated list


def human_size(size: int) -> str:
    """Format a byte count as B, kB or MB (decimal units, as browsers and GitHub show them)."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"


def download(label: str, href: str, size: int) -> dict:
    """Describe one downloadable file with its human-readable size."""
    return {"label": label, "href": href, "size": human_size(size)}


def subject(dataset: dict) -> dict:
    """Return the nouns for what the probes show on this dataset (digits only for MNIST)."""
    name = dataset["name"]
    if name in SUBJECTS:
        return SUBJECTS[name]
    if name in DIGIT_DATASETS:
        return SUBJECTS["default"]
    classes = len(dataset.get("class_names") or []) or 10
    return {"task": f"tell {number(classes)} classes of image apart", "plural": "images", "singular": "image"}


def rebuild_command(config: dict) -> str:
    """Return the make command that reproduces this run's config (defaults left out), safe to paste."""
    from model.config import Config

    defaults = Config().to_dict()
    arguments = []
    for name, value in config.items():
        if name in FILLED_BY_CLI or name not in defaults or value == defaults[name] or \
                (name in LIST_FLAGS and list(value) == list(defaults[name])):
            continue
        if name in LIST_FLAGS:
            arguments += [FLAGS[name], ",".join(str(item) for item in value)]
        elif name in FLAGS:
            arguments += [FLAGS[name], str(value)]
        else:
            arguments += ["--set", f"{name}={json.dumps(value, separators=(',', ':'))}"]
    if not arguments:
        return "make site"
    # make hands ARGS to its recipe's shell: quote each argument for that shell and double each `$`
    # (make's own expansion), then quote the whole assignment for the reader's shell.
    inner = " ".join(shlex.quote(argument) for argument in arguments).replace("$", "$$")
    plain = not any(character in inner for character in "\"$`!\\\n")
    return "make site ARGS=" + (f'"{inner}"' if plain else shlex.quote(inner))


def dataset_notice(dataset: dict) -> str:
    """Return the visible notice when the training data is not full MNIST, else an empty string."""
    if dataset["name"] == "bundled":
        return (f"This run trained on the {dataset['train_size']:,}-image MNIST subset bundled with the project, "
                f"not on the full 60,000-image training set, because full MNIST could not be loaded on the "
                f"machine that built this page. Expect slightly lower accuracy than the original article.")
    return ""


def dataset_sentence(dataset: dict) -> str:
    """Say plainly which data the network was trained on, with sizes."""
    sizes = f"{dataset['train_size']:,} training images and {dataset['test_size']:,} test images"
    if dataset["name"] == "mnist":
        return f"The network was trained on the full MNIST dataset ({sizes}), loaded with keras' own loader."
    if dataset["name"] == "bundled":
        return (f"The network was trained on the MNIST subset bundled with this project ({sizes}): the first "
                f"10,000 images of the official training set and the complete official test set. Full MNIST "
                f"has 60,000 training images; it is used automatically when keras can load it.")
    origin = f", from {dataset['source']}" if dataset["source"] != dataset["title"] else ""
    return f"The network was trained on {dataset['title']} ({sizes}){origin}."


def model_rows(layers: list[dict]) -> list[dict]:
    """Format the Keras layer table for the article."""
    return [{"name": layer["name"], "kind": layer["kind"],
             "shape": " × ".join(str(size) for size in layer["output_shape"]),
             "activation": layer["activation"] or "—", "parameters": f"{layer['parameters']:,}"} for layer in layers]


LOSS_NAMES = {"categorical_crossentropy": "categorical cross-entropy",
              "sparse_categorical_crossentropy": "sparse categorical cross-entropy"}


def settings(config: dict, meta: dict, model: dict | None = None) -> list[dict]:
    """List the training settings shown beside the model table (model: report.run_facts.model_info)."""
    article = model is None or model.get("origin", "article") == "article"
    loss = (model or {}).get("loss") or "categorical_crossentropy"
    rows = [
        {"label": "Optimiser", "value": f"Adam, learning rate {config['learning_rate']:g} (Keras defaults)"
         if article else f"the one the model was compiled with ({model['source']})"},
        {"label": "Loss", "value": LOSS_NAMES.get(loss, loss)},
        {"label": "Batch size", "value": f"{config['batch_size']:,} images (remainder of each epoch dropped)"},
        {"label": "Training steps", "value": f"{config['steps']:,} ({meta['steps_per_epoch']} per epoch, "
                                             f"{meta['epochs']:g} epochs)"},
        {"label": "Conv kernel initialiser",
         "value": f"normal, mean 0, standard deviation {config['kernel_init_stddev']:g}"},
        {"label": "Snapshots", "value": f"every {config['capture_every']} step(s), plus step 0"},
        {"label": "Test curve", "value": f"every {config['test_every']} steps on {meta['test_subset_size']:,} "
                                         f"fixed test images; the final figure on all {meta['final_test_size']:,}"},
        {"label": "Seed", "value": str(config["seed"])},
    ]
    return rows if article else [row for row in rows if row["label"] != "Conv kernel initialiser"]


def data_fact(dataset: dict, digest: str | None) -> str:
    """Return the data's title with its source (unless the title says it) and the file's sha256 when known."""
    details = [dataset["source"]] if dataset["source"] != dataset["title"] else []
    details += [f"sha256 {digest}"] if digest else []
    return f"{dataset['title']} ({', '.join(details)})" if details else dataset["title"]


def reproducibility_facts(config: dict, meta: dict, date: str | None, model: dict | None = None) -> list[dict]:
    """List the facts a reader needs to reproduce the run (model: report.run_facts.model_info)."""
    versions, machine = meta.get("versions", {}), meta.get("machine", {})
    facts = [
        {"label": "Command", "value": rebuild_command(config)},
        {"label": "Seed", "value": str(config["seed"])},
        {"label": "Steps and batch", "value": f"{config['steps']} steps of {config['batch_size']:,}"},
        {"label": "Data", "value": data_fact(meta["dataset"], config.get("data_sha256"))},
        {"label": "Libraries", "value": ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))},
        {"label": "Machine", "value": f"{machine.get('cpu', 'unknown CPU')}, {machine.get('cores', '?')} cores"},
        {"label": "Final test accuracy", "value": f"{percent(meta['final_test_accuracy'], 2)} "
                                                  f"(loss {meta['final_test_loss']:.4f}) on "
                                                  f"{meta['final_test_size']:,} images"},
    ]
    if model and model.get("origin", "article") != "article":
        digest = f", sha256 {model['source_sha256']}" if model.get("source_sha256") else ""
        facts.insert(1, {"label": "Model", "value": f"{model.get('name') or 'unnamed'} from {model['source']}{digest}"})
    if date:
        facts.append({"label": "Built", "value": date})
    return facts
