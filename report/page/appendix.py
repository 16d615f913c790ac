"""The appendix's run facts: the command that rebuilds the run, the facts to reproduce it, the downloads.

`rebuild_command(config)` is the `make site` line for a config (defaults left out, safe to paste);
`reproducibility_facts(config, meta, date, model)` the labelled facts; `download(label, href, size)` one
downloadable file with its size. Each takes plain values from the capture's config and meta; the sentences
that do not depend on the run live in the templates, the facts' values in templates/words/page.txt.j2 and
their labels are report.voice.gettext's.
"""

from __future__ import annotations

import json
import shlex

from report.voice import gettext, say
from report.words.dataset_text import data_title

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


def rebuild_command(config: dict) -> str:
    """Return the make command that reproduces this run's config (defaults left out), safe to paste."""
    from pipeline.config import Config

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


def data_fact(dataset: dict, digest: str | None) -> str:
    """Return the data's title with its source (unless the title says it) and the file's sha256 when known."""
    details = [dataset["source"]] if dataset["source"] != dataset["title"] else []
    details += [f"sha256 {digest}"] if digest else []
    title = data_title(dataset)
    return f"{title} ({', '.join(details)})" if details else title


def reproducibility_facts(config: dict, meta: dict, date: str | None, model: dict | None = None) -> list[dict]:
    """List the facts a reader needs to reproduce the run (model: report.capture_facts.model_info)."""
    versions, machine = meta.get("versions", {}), meta.get("machine", {})
    cores = machine.get("cores")
    facts = [
        {"label": gettext("Command"), "value": rebuild_command(config)},
        {"label": gettext("Seed"), "value": str(config["seed"])},
        {"label": gettext("Steps and batch"), "value": say("page", "steps_and_batch", steps=config["steps"],
                                                           batch=config["batch_size"])},
        {"label": gettext("Data"), "value": data_fact(meta["dataset"], config.get("data_sha256"))},
        {"label": gettext("Libraries"),
         "value": ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))},
        {"label": gettext("Machine"), "value": say("page", "machine", cpu=machine.get("cpu"),
                                                   cores=int(cores) if str(cores).isdigit() else None)},
        {"label": gettext("Final test accuracy"),
         "value": say("page", "final_accuracy", accuracy=meta["final_test_accuracy"], loss=meta["final_test_loss"],
                      images=meta["final_test_size"])},
    ]
    if model and model.get("origin", "article") != "article":
        facts.insert(1, {"label": gettext("Model"), "value": say("page", "model_fact", name=model.get("name"),
                                                                 source=model["source"],
                                                                 digest=model.get("source_sha256"))})
    if date:
        facts.append({"label": gettext("Built"), "value": date})
    return facts
