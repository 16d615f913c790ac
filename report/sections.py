"""The data each part of the article needs: numbers and run-dependent sentences, never fixed prose.

Each function returns a plain dict for one partial in templates/partials/; the words that do not
depend on the run are written in those partials.
"""

from __future__ import annotations

from report.explorer import paragraphs_with_links
from report.model_facts import architecture_facts
from report.page_facts import dataset_sentence, download, model_rows, settings
from report.wording import number, percent, series
from report.xor import xor_caption

ASSETS = "assets"


def why_section(xor_facts: dict) -> dict:
    """Return the XOR figure of the motivation."""
    return {"figure": {
        "src": f"{ASSETS}/xor.svg", "width": 720, "height": 340,
        "alt": "Left: the four XOR inputs at the corners of a unit square, the two classes on opposite diagonals. "
               "Right: the same four points in the coordinates of a learned two-unit tanh layer, where a dashed "
               "straight line separates the classes"
               + (", and the two class-0 points share one marker." if xor_facts.get("folded") else "."),
        "caption": xor_caption(xor_facts)}}


def experiment_section(capture, config: dict, meta: dict, probes_size: tuple[int, int]) -> dict:
    """Return the experiment's data sentence, model facts, table, settings and probes."""
    labels = [int(label) for label in capture.probe_labels]
    class_names = meta["dataset"]["class_names"]
    width, height = probes_size
    shown = ", ".join(class_names[label] for label in labels)
    *hidden, classes = config["dense_widths"]
    return {
        "data_sentence": dataset_sentence(meta["dataset"]),
        "conv_count_word": number(len(config["conv_widths"])),
        "conv_widths": series([str(width) for width in config["conv_widths"]]),
        "hidden_widths": series([str(width) for width in hidden]),
        "classes": classes,
        "probe_count": len(labels),
        "snapshots": len(capture.steps),
        "model_rows": model_rows(meta["layers"]),
        "model": architecture_facts(meta["layers"]),
        "total_parameters": f"{meta['total_parameters']:,}",
        "settings": settings(config, meta),
        "probes": {"src": f"{ASSETS}/probes.png", "width": width, "height": height,
                   "alt": f"The {number(len(labels))} probe images: {shown}.",
                   "caption": f"The probe images, left to right: {shown} (test-set indices "
                              f"{', '.join(str(i) for i in meta['dataset']['probe_indices'])})."},
    }


def reading_section(manifest: dict, colorbar_src: str, colorbar: dict) -> dict:
    """Return the guide to reading the animations: the video rate and the colour legend."""
    first = manifest["layers"][0]
    return {
        "fps": f"{manifest['fps']:g}",
        "colorbar": {"src": colorbar_src, "width": colorbar.get("width", first["width"]),
                     "height": colorbar.get("height", 60),
                     "alt": "Colour legend: a bar from saturated red at −1 through white at 0 to saturated blue at +1.",
                     "caption": first["domain_caption"]},
    }


def layer_section(entry: dict, said: dict, asset, manifest: dict) -> dict:
    """Return one conv layer's section: explorer view, poster (without JavaScript), commentary, table, downloads."""
    name, files = entry["name"], entry["files"]
    height, width = entry["map_size"]
    mp4, poster = files["mp4"], files["poster"]
    downloads = [download(f"MP4 video, every step, {mp4['width']}×{mp4['height']} ({mp4['block_px']} pixels per "
                          f"activation)", asset(mp4["path"]), mp4["bytes"])]
    if "webm" in files:
        downloads.append(download("WebM video", asset(files["webm"]["path"]), files["webm"]["bytes"]))
    downloads.append(download(f"Final frame (step {manifest['steps']['last']}), PNG", asset(poster["path"]),
                              poster["bytes"]))
    return {
        "name": name, "anchor": name, "channels": entry["channels"],
        "title": f"{name}: {entry['channels']} channels at {height}×{width}",
        "facts": f"{entry['channels']} channels · {height}×{width} maps · {entry['frames']} snapshots · "
                 f"{entry['domain_caption']}",
        "poster": {"src": f"{ASSETS}/{poster['path']}", "width": poster["width"], "height": poster["height"],
                   "last_step": manifest["steps"]["last"]},
        "post_saw": said["post"],
        "paragraphs": paragraphs_with_links(said["paragraphs"], name, entry["channels"]),
        "table_headings": said["table"]["headings"], "table_rows": said["table"]["rows"],
        "downloads": downloads,
    }


def curves_section(said: dict, curves: dict, svg_src: str, final_accuracy: float, meta: dict,
                   batch_size: int) -> dict:
    """Return the loss and accuracy figure and the run's sentences about training."""
    png = curves["png"]
    return {
        "paragraphs": said["training"],
        "batch_size": f"{batch_size:,}",
        "test_subset": f"{meta['test_subset_size']:,}",
        "test_size": f"{meta['final_test_size']:,}",
        "figure": {"src": svg_src, "width": png["width"] // 2, "height": png["height"] // 2,
                   "alt": f"Two panels over training steps. Left: training loss per step and test loss; right: "
                          f"training and test accuracy, ending at {percent(final_accuracy, 1)} test accuracy.",
                   "caption": "Training curves: training values for every step's batch, test values at regular "
                              "intervals. Both start at chance (loss ln 10 ≈ 2.30, accuracy 10%)."},
    }
