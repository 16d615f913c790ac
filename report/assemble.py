"""Gather the article's context and the files it links, for report/stage.py to write.

`assemble(capture, manifest, layout, staging, date)` analyses the capture, writes the small
generated figures and data files into `staging`, and returns (context, copies) where copies are
(source path, path relative to the site) pairs of rendered assets.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from report import context as words
from report.analysis import analyse
from report.commentary import commentary
from report.figures import probe_strip, write_png
from report.xor import write_xor_figure

ASSETS = "assets"
SUBJECTS = {  # how the page names what the network looks at, per dataset
    "fashion": {"task": "tell ten kinds of clothing apart", "plural": "images", "singular": "image"},
    "default": {"task": "read handwritten digits", "plural": "digits", "singular": "digit"},
}
DATA_CREDITS = {
    "fashion": "Fashion-MNIST by Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research), MIT licence.",
    "default": "MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, CC BY-SA 3.0.",
}
FLAGS = {"dataset": "--dataset", "data_dir": "--data-dir", "steps": "--steps", "batch_size": "--batch-size",
         "seed": "--seed", "capture_every": "--every"}


def rebuild_command(config: dict) -> str:
    """Return the make command that reproduces this run's config (defaults left out), safe to paste."""
    from model.config import Config

    defaults = Config().to_dict()
    arguments = []
    for name, value in config.items():
        if value == defaults[name]:
            continue
        if name in FLAGS:
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


def subject(dataset: dict) -> dict:
    """Return the nouns for what the probes show on this dataset."""
    return SUBJECTS.get(dataset["name"], SUBJECTS["default"])


def assemble(capture, manifest: dict, layout, staging: Path, date: str | None) -> tuple[dict, list]:
    """Return the template context and the asset copies for one run."""
    assets_dir = layout.assets
    (staging / ASSETS).mkdir(parents=True, exist_ok=True)
    config, meta = words.config_of(capture), capture.meta
    findings = analyse(capture)
    said = commentary(findings)
    final_accuracy = meta["final_test_accuracy"]
    dataset = meta["dataset"]
    copies = []

    def asset(name: str) -> str:
        copies.append((assets_dir / name, f"{ASSETS}/{name}"))
        return f"{ASSETS}/{name}"

    xor_facts = write_xor_figure(staging / ASSETS / "xor.svg")
    probes_size = write_png(probe_strip(capture.probe_images), staging / ASSETS / "probes.png")
    findings_path = staging / ASSETS / "findings.json"
    findings_path.write_text(json.dumps(findings.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n")

    layers = [layer_context(entry, said_layer, asset, manifest)
              for entry, said_layer in zip(manifest["layers"], said["layers"])]
    page = {
        "title": "Watch a neural network learn to see",
        "kicker": f"A reproduction, trained on {dataset['title']}",
        "description": "Every conv layer of a small MNIST classifier, animated over training, with "
                       "commentary computed from the run.",
        "lede": (f"A small convolutional network learns to {subject(dataset)['task']} in {config['steps']} steps. "
                 f"We recorded what each of its six convolutional layers makes of ten test "
                 f"{subject(dataset)['plural']} after every "
                 f"step, turned that into animations, and checked what the original article claimed against "
                 f"the numbers. This run ends at {words.percent(final_accuracy)} test accuracy."),
        "notice": dataset_notice(dataset),
        "footer": footer(date),
    }
    nav = [{"anchor": "why", "label": "Why representations matter"},
           {"anchor": "experiment", "label": "The experiment"},
           {"anchor": "reading", "label": "How to read the animations"}]
    nav += [{"anchor": layer["anchor"], "label": layer["title"]} for layer in layers]
    nav += [{"anchor": "curves", "label": "Loss and accuracy"}, {"anchor": "conclusions", "label": "Conclusions"},
            {"anchor": "appendix", "label": "Appendix: reproducibility and downloads"}]

    curves = manifest["curves"]
    colorbar = manifest["layers"][0]["files"]["colorbar"]
    context = {
        "page": page, "nav": nav, "layers": layers,
        "why": why_section(xor_facts),
        "experiment": experiment_section(capture, config, meta, probes_size),
        "reading": reading_section(manifest, asset(colorbar["path"]), colorbar, subject(dataset)),
        "curves": curves_section(said, curves, asset(curves["svg"]["path"]), final_accuracy, meta,
                                 config["batch_size"]),
        "conclusions": {"title": "Conclusions, checked", "verdicts": said["conclusions"],
                        "paragraphs": ["The original article closed with three lessons. Each is restated "
                                       "below with the verdict this run's numbers give it."]},
        "appendix": appendix_section(config, meta, layout, staging, asset, manifest, said, date),
    }
    return context, copies


def dataset_notice(dataset: dict) -> str:
    """Return the visible notice when the training data is not full MNIST, else an empty string."""
    if dataset["name"] == "bundled":
        return (f"This run trained on the {dataset['train_size']:,}-image MNIST subset bundled with the project, "
                f"not on the full 60,000-image training set, because full MNIST could not be loaded on the "
                f"machine that built this page. Expect slightly lower accuracy than the original article.")
    return ""


def footer(date: str | None) -> str:
    """Return the colophon line."""
    built = f" Built on {date}." if date else ""
    return ("Generated by this project's make site from one training run; every number on the page is "
            f"computed from that run.{built} Based on the article “Watch this Neural Network Learn to See” "
            "by Conor Lazarou (2019).")


def why_section(xor_facts: dict) -> dict:
    """Return the XOR motivation: text and figure."""
    return {
        "title": "Why representations matter",
        "paragraphs": [
            "A single artificial neuron draws one straight line through its input space. Exclusive-or (output 1 "
            "when exactly one of two inputs is on) puts its four cases at the corners of a square with the two "
            "classes on opposite diagonals, and no straight line splits them.",
            "Add one hidden layer and the picture changes. The layer re-describes each point, and in that new "
            "description a straight line does separate the classes. Deep learning is, at heart, the business "
            "of learning such descriptions: each layer hands the next a more useful view of the data.",
            "The rest of this page looks at the descriptions a small image classifier learns, layer by layer, "
            "step by step.",
        ],
        "figure": {"src": f"{ASSETS}/xor.svg", "width": 720, "height": 340,
                   "alt": "Left: the four XOR inputs at the corners of a unit square, the two classes on opposite "
                          "diagonals. Right: the same four points in the coordinates of a learned two-unit tanh "
                          "layer, where a dashed straight line separates the classes.",
                   "caption": f"XOR before and after one learned layer. A 2-2-1 network trained here with plain "
                              f"gradient descent classifies {xor_facts['correct']} of the 4 points correctly; "
                              f"its hidden layer moves both class-0 points to one side of a straight line."},
    }


def experiment_section(capture, config: dict, meta: dict, probes_size: tuple[int, int]) -> dict:
    """Return the experiment's data, model table, settings and probes."""
    labels = [int(label) for label in capture.probe_labels]
    class_names = meta["dataset"]["class_names"]
    width, height = probes_size
    return {
        "title": "The experiment",
        "paragraphs": [
            words.dataset_sentence(meta["dataset"]),
            "The model follows the original: six 3×3 convolutions with tanh activations and same padding "
            "(widths 4, 4, 8, 8, 16 and 16), 2×2 max-pooling after the second and fourth, then dense layers "
            "of 64 and 32 ReLU units and a 10-way softmax. The table is read from the trained Keras model.",
            f"After every training step the activations of all six convolutional layers were recorded for "
            f"{len(labels)} fixed test images, one per class, giving {len(capture.steps)} snapshots per layer.",
        ],
        "model_caption": "Layers of the trained model (output shapes exclude the batch axis)",
        "model_rows": words.model_rows(meta["layers"]),
        "total_parameters": f"{meta['total_parameters']:,}",
        "settings": words.settings(config, meta),
        "probes": {"src": f"{ASSETS}/probes.png", "width": width, "height": height,
                   "alt": "The ten probe images: " + ", ".join(class_names[label] for label in labels) + ".",
                   "caption": "The probe images, left to right: " + ", ".join(class_names[label] for label in labels)
                              + f" (test-set indices {', '.join(str(i) for i in meta['dataset']['probe_indices'])})."},
    }


def reading_section(manifest: dict, colorbar_src: str, colorbar: dict, nouns: dict) -> dict:
    """Return the guide to reading the animations, with the colour legend in words."""
    first = manifest["layers"][0]
    return {
        "title": "How to read the animations",
        "paragraphs": [
            "Each animation is one layer. The top row shows the ten probe images. Every row below is one channel "
            "of the layer, and every column one probe, so a row shows how a single filter responds to each "
            f"{nouns['singular']}.",
            "Colours follow a fixed scale for the whole animation: strong negative activations are red, zero is "
            "white and strong positive activations are blue; tanh keeps every value between −1 and +1, so full "
            "red means −1 and full blue +1. Values that are not finite would show in grey.",
            f"Smaller maps are enlarged by repeating pixels, never smoothed, so each block is one activation. The "
            f"counter at the top left gives the training step; the video plays {manifest['fps']:g} steps a second.",
        ],
        "colorbar": {"src": colorbar_src, "width": colorbar.get("width", first["width"]),
                     "height": colorbar.get("height", 60),
                     "alt": "Colour legend: a bar from saturated red at −1 through white at 0 to saturated blue at +1.",
                     "caption": first["domain_caption"]},
    }


def layer_context(entry: dict, said: dict, asset, manifest: dict) -> dict:
    """Return one conv layer's section: video, caption, commentary, channel table and downloads."""
    name, files = entry["name"], entry["files"]
    height, width = entry["map_size"]
    sources = [{"src": asset(files["mp4"]["path"]), "type": "video/mp4"}]
    if "webm" in files:
        sources.insert(0, {"src": asset(files["webm"]["path"]), "type": "video/webm"})
    gif = files["gif"]
    downloads = [words.download(f"MP4 video, every step, {entry['width']}×{entry['height']}",
                                f"{ASSETS}/{files['mp4']['path']}", files["mp4"]["bytes"])]
    if "webm" in files:
        downloads.append(words.download("WebM video", f"{ASSETS}/{files['webm']['path']}", files["webm"]["bytes"]))
    downloads.append(words.download(gif_label(gif), asset(gif["path"]), gif["bytes"]))
    downloads.append(words.download(f"Final frame (step {manifest['steps']['last']}), PNG",
                                    f"{ASSETS}/{files['poster']['path']}", files["poster"]["bytes"]))
    table = said["table"]
    return {
        "name": name, "anchor": name,
        "title": f"{name}: {entry['channels']} channels at {height}×{width}",
        "facts": f"{entry['channels']} channels · {height}×{width} maps · {entry['frames']} frames · "
                 f"{entry['domain_caption']}",
        "video": {"sources": sources, "poster": asset(files["poster"]["path"]), "width": entry["width"],
                  "height": entry["height"],
                  "label": f"Animation of {name}'s activations for the ten probes over "
                           f"{manifest['steps']['last']} training steps"},
        "gif": {"src": f"{ASSETS}/{gif['path']}"},
        "caption": (f"{name} over training: top row the probes, then one row per channel (channel 1 at the top). "
                    f"Red is negative, white zero, blue positive. The poster shows the last step."),
        "saw_title": "What the original post saw",
        "post_saw": said["post"] or "The original post did not describe this layer.",
        "run_title": "What this run shows",
        "paragraphs": said["paragraphs"],
        "table_summary": f"Channel by channel ({entry['channels']} channels)",
        "table_caption": f"{name}: what each channel's final map correlates with, and when it settled",
        "table_headings": table["headings"], "table_rows": table["rows"],
        "downloads": downloads,
    }


def gif_label(gif: dict) -> str:
    """Describe the GIF preview, including what was thinned to meet the byte budget."""
    parts = [f"GIF preview, {gif.get('frames', '?')} frames"]
    if gif.get("stride", 1) > 1:
        parts.append(f"every {gif['stride']} steps")
    if gif.get("scale", 1) != 1:
        parts.append(f"at {gif['scale']:g}× size")
    return ", ".join(parts)


def curves_section(said: dict, curves: dict, svg_src: str, final_accuracy: float, meta: dict,
                   batch_size: int) -> dict:
    """Return the loss and accuracy curves with the run's final numbers."""
    png = curves["png"]
    return {
        "title": "Loss and accuracy",
        "paragraphs": said["training"] + [
            f"Training values are each step's own batch of {batch_size:,} images, not a running mean; test values "
            f"are measured on {meta['test_subset_size']:,} fixed test images, and the final "
            f"{words.percent(final_accuracy)} on all {meta['final_test_size']:,}."],
        "figure": {"src": svg_src, "width": png["width"] // 2, "height": png["height"] // 2,
                   "alt": f"Two panels over training steps. Left: training loss per step and test loss; right: "
                          f"training and test accuracy, ending at {words.percent(final_accuracy)} test accuracy.",
                   "caption": "Training curves: training values for every step's batch, test values at regular "
                              "intervals. Both start at chance (loss ln 10 ≈ 2.30, accuracy 10%)."},
    }


def appendix_section(config, meta, layout, staging, asset, manifest, said, date) -> dict:
    """Return the reproducibility facts, thresholds and downloads."""
    versions = meta.get("versions", {})
    machine = meta.get("machine", {})
    facts = [
        {"label": "Command", "value": rebuild_command(config)},
        {"label": "Seed", "value": str(config["seed"])},
        {"label": "Steps and batch", "value": f"{config['steps']} steps of {config['batch_size']:,}"},
        {"label": "Data", "value": f"{meta['dataset']['title']} ({meta['dataset']['source']})"},
        {"label": "Libraries", "value": ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))},
        {"label": "Machine", "value": f"{machine.get('cpu', 'unknown CPU')}, {machine.get('cores', '?')} cores"},
        {"label": "Final test accuracy", "value": f"{words.percent(meta['final_test_accuracy'], 2)} "
                                                  f"(loss {meta['final_test_loss']:.4f}) on {meta['final_test_size']:,} images"},
    ]
    if date:
        facts.append({"label": "Built", "value": date})
    model_copy = staging / ASSETS / "model.keras"
    model_copy.write_bytes(layout.model.read_bytes())
    downloads = [
        words.download("Trained model (Keras)", f"{ASSETS}/model.keras", model_copy.stat().st_size),
        words.download("Findings behind every sentence (JSON)", f"{ASSETS}/findings.json",
                       (staging / ASSETS / "findings.json").stat().st_size),
        words.download("Loss and accuracy curves (PNG, 2×)", asset(manifest["curves"]["png"]["path"]),
                       manifest["curves"]["png"]["bytes"]),
    ]
    return {
        "title": "Appendix",
        "reproduce_text": ("Same config and seed give the same capture and the same page on the same machine and "
                           "thread count. To rebuild this page from scratch:"),
        "command": f"git clone <this repository> && cd <it> && {rebuild_command(config)}",
        "facts": facts,
        "thresholds_text": ("Each label in the commentary (copy, edge detector, idle, saturated, settled) comes from "
                            "a fixed rule on the recorded activations. The rules use these constants; the full "
                            "per-channel numbers are in the findings download."),
        "thresholds": said["thresholds"],
        "downloads": downloads,
        "credits": [
            "Original article: “Watch this Neural Network Learn to See” by Conor Lazarou, Towards Data Science, "
            "December 2019. This page restates its experiment and tests its observations; the text is new.",
            DATA_CREDITS.get(meta["dataset"]["name"], DATA_CREDITS["default"]),
        ],
    }
