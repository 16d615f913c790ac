"""The data each part of the article needs: numbers and run-dependent sentences, never fixed prose.

Each function returns a plain dict for one partial in templates/partials/; the words that do not
depend on the run are written in those partials, and the run-dependent ones this module adds (alt text,
captions, titles, the downloads' labels) are macros of templates/words/page.txt.j2 (report.voice.say).
"""

from __future__ import annotations

import math

from report.capture_facts import class_count, image_shape, is_article, model_info, probe_colour, recorded_layers
from report.numbers.thresholds import (
    COPY_BASELINE_QUANTILE,
    COPY_MIN_R,
    DUPLICATE_MIN_R,
    EDGE_MIN_R,
    FAINT_MAX_SHARE,
    INFORMATIVE_SHARE,
    PLATEAU_TOLERANCE,
    SETTLED_MIN_CKA,
    SILHOUETTE_MARGIN,
)
from report.page.appendix import download
from report.page.explorer import paragraphs_with_links
from report.voice import say
from report.words.channel_text import filter_rule
from report.words.dataset_text import dataset_sentence
from report.words.figure_text import xor_caption
from report.words.model_text import architecture_facts, model_rows, recorded_facts, settings
from report.words.wording import number, ordinal, percent, scale_basis, series

ASSETS = "assets"


def asset_src(name: str) -> str:
    """Return the site-relative path of a file of the assets folder."""
    return f"{ASSETS}/{name}"


def linked_assets(manifest: dict) -> list[str]:
    """Return the rendered files (build/assets) the page links: each layer's videos and poster, the explorer's
    chunks, the curves and the colour legend, each to be copied into the site's assets."""
    names = []
    for entry in manifest["layers"]:
        files = entry["files"]
        names += [files["mp4"]["path"]] + ([files["webm"]["path"]] if "webm" in files else []) + \
            [files["poster"]["path"]]
    names += [chunk["path"] for chunk in manifest["explore"]["chunks"]]
    names += [manifest["curves"]["png"]["path"], manifest["layers"][0]["files"]["colorbar"]["path"],
              manifest["curves"]["svg"]["path"]]
    return names


def why_section(xor_facts: dict) -> dict:
    """Return the XOR figure of the motivation."""
    return {"figure": {
        "src": f"{ASSETS}/xor.svg", "width": 720, "height": 340,
        "alt": say("page", "xor_alt", folded=bool(xor_facts.get("folded"))), "caption": xor_caption(xor_facts)}}


def experiment_section(capture, config: dict, meta: dict, probes_size: tuple[int, int]) -> dict:
    """Return the experiment's data sentence, model facts, table, settings and probes."""
    labels = [int(label) for label in capture.probe_labels]
    class_names = meta["dataset"]["class_names"]
    width, height = probes_size
    shown = [class_names[label] for label in labels]
    *hidden, classes = config.get("dense_widths") or [class_count(meta)]
    shape = image_shape(meta, capture.probe_images)
    article = is_article(meta)
    return {
        "article": article,
        "model_info": model_info(meta),
        "recorded": recorded_facts(recorded_layers(capture), meta["layers"], shape, article),
        "image": {"height": shape[0], "width": shape[1], "colour": probe_colour(capture.probe_images)},
        "every_ordinal": ordinal(config["capture_every"]) if config.get("capture_every", 1) > 1 else None,
        "one_per_class": len(set(labels)) == len(labels) == len(class_names),
        "data_sentence": dataset_sentence(meta["dataset"]),
        "conv_count_word": number(len(config.get("conv_widths") or [])),
        "conv_widths": series([str(width) for width in config.get("conv_widths") or []]),
        "hidden_widths": series([str(width) for width in hidden]),
        "classes": classes,
        "probe_count": len(labels),
        "snapshots": len(capture.steps),
        "model_rows": model_rows(meta["layers"]),
        "model": architecture_facts(meta["layers"], shape[0]),
        "total_parameters": f"{meta['total_parameters']:,}",
        "settings": settings(config, meta, model_info(meta)),
        "probes": {"src": f"{ASSETS}/probes.png", "width": width, "height": height,
                   "alt": say("page", "probes_alt", names=shown),
                   "caption": say("page", "probes_caption", names=shown,
                                  indices=meta["dataset"]["probe_indices"])},
    }


def layer_scale(entry: dict) -> dict:
    """Return a manifest layer's colour scale: {"kind": tanh | fixed | sequential | diverging, "low", "high", ...}.

    Manifests written before pipeline/scales.py have only "domain" and "domain_fixed_tanh".
    """
    scale = entry.get("scale") or {"kind": "fixed" if entry.get("domain_fixed_tanh") else "diverging",
                                   "domain": entry["domain"], "basis": None, "clipped_values": 0}
    low, high = (float(end) for end in scale["domain"])
    kind = "tanh" if entry.get("domain_fixed_tanh") or (scale["kind"] == "fixed" and low < 0) else scale["kind"]
    return {"kind": kind, "low": f"{low:.3g}".replace("-", "\u2212"), "high": f"{high:.3g}",
            "basis": scale.get("basis"), "clipped": say("page", "clipped", count=int(scale.get("clipped_values") or 0)),
            "clipped_any": bool(scale.get("clipped_values")), "activation": entry.get("activation")}


def _colorbar_alt(scale: dict, name: str, alone: bool) -> str:
    """Describe the legend bar of a scale (named for its layer unless it is the page's only scale)."""
    return say("page", "colorbar_alt", kind=scale["kind"], low=scale["low"], high=scale["high"],
               name=None if alone else name)


def reading_section(manifest: dict, colorbar_src: str, colorbar: dict, article: bool = True) -> dict:
    """Return the guide to reading the animations: the video rate, each layer's colour scale, the legend."""
    first = manifest["layers"][0]
    scales = [dict(layer_scale(entry), name=entry["name"]) for entry in manifest["layers"]]
    groups = {}
    for scale in scales:  # one paragraph per kind of scale, naming its layers
        groups.setdefault(scale["kind"], []).append(scale)
    partial = [{"name": entry["name"], "shown": len(entry["shown_channels"]), "channels": entry["channels"]}
               for entry in manifest["layers"] if len(entry.get("shown_channels") or []) < entry["channels"]
               and entry.get("shown_channels")]
    all_tanh = set(groups) == {"tanh"}
    return {
        "fps": f"{manifest['fps']:g}",
        "all_tanh": all_tanh, "article": article,
        # the numbers of "How the layers are measured": every layer's commentary refers back to it
        "methods": {"copy_r": COPY_MIN_R, "edge_r": EDGE_MIN_R, "duplicate_r": DUPLICATE_MIN_R,
                    "baseline_share": percent(COPY_BASELINE_QUANTILE), "silhouette_margin": SILHOUETTE_MARGIN,
                    "cka": SETTLED_MIN_CKA, "faint": percent(FAINT_MAX_SHARE),
                    "informative": percent(INFORMATIVE_SHARE), "filter_rule": filter_rule()},
        "scales": [{"kind": kind, "layers": series([item["name"] for item in items]), "members": items,
                    "count": len(items)} for kind, items in groups.items()],
        "partial": partial,
        "partial_names": series([item["name"] for item in partial]),
        "shown_most": max((item["shown"] for item in partial), default=0),
        "colorbar": {"src": colorbar_src, "width": colorbar.get("width", first["width"]),
                     "height": colorbar.get("height", 60),
                     "alt": _colorbar_alt(scales[0], first["name"], all_tanh or len(scales) == 1),
                     "caption": domain_caption(first)},
    }


def domain_caption(entry: dict) -> str:
    """Say what a layer's colour scale spans (the renderer's legend caption, in the edition being written)."""
    scale = entry["scale"]
    low, high = (float(end) for end in scale["domain"])
    fixed = scale["kind"] == "fixed"
    scale = dict(scale, basis=scale_basis(scale))
    return say("page", "domain_caption", scale=scale, activation=entry.get("activation"),
               low="0" if fixed and low == 0 else f"{low:+g}" if fixed else f"{low:.3g}",
               high=f"{high:+g}" if fixed else f"{high:.3g}")


def layer_section(entry: dict, said: dict, manifest: dict) -> dict:
    """Return one conv layer's section: explorer view, poster (without JavaScript), commentary, table, downloads."""
    name, files = entry["name"], entry["files"]
    height, width = entry["map_size"]
    mp4, poster = files["mp4"], files["poster"]
    every = int(mp4.get("stride", 1))  # a long run's videos show the explorer's every k-th snapshot
    downloads = [download(say("page", "mp4_label", every=every, width=mp4["width"], height=mp4["height"],
                              block=mp4["block_px"]), asset_src(mp4["path"]), mp4["bytes"])]
    if "webm" in files:
        downloads.append(download(say("page", "webm_label"), asset_src(files["webm"]["path"]), files["webm"]["bytes"]))
    downloads.append(download(say("page", "poster_label", step=manifest["steps"]["last"]), asset_src(poster["path"]),
                              poster["bytes"]))
    shown = entry.get("shown_channels") or list(range(entry["channels"]))
    pictured = (say("page", "pictured", shown=len(shown), total=entry["channels"])
                if len(shown) < entry["channels"] else None)
    return {
        "name": name, "anchor": name, "channels": entry["channels"], "scale": layer_scale(entry),
        "shown": len(shown), "all_shown": len(shown) == entry["channels"],
        "title": say("page", "layer_title", name=name, channels=entry["channels"], height=height, width=width),
        # the title says the channels and map size, the reading guide every layer's colour scale (and the explorer's
        # legend beside the grid says it again): only what is particular
        "facts": pictured or "",
        "poster": {"src": f"{ASSETS}/{poster['path']}", "width": poster["width"], "height": poster["height"],
                   "last_step": manifest["steps"]["last"]},
        "post_saw": said["post"], "post_applies": said.get("post_applies", True),
        "paragraphs": paragraphs_with_links(said["paragraphs"], name, entry["channels"]),
        # the reading path: a summary and the comparison with the post; the evidence is folded under them
        "summary": paragraphs_with_links([said["summary"]], name, entry["channels"])[0] if said.get("summary")
        else None,
        "comparison": paragraphs_with_links([" ".join(said.get("comparison") or [])], name, entry["channels"])
        if said.get("comparison") else [],
        "evidence": paragraphs_with_links(said.get("evidence", said["paragraphs"]), name, entry["channels"]),
        "table_headings": said["table"]["headings"], "table_rows": said["table"]["rows"],
        "downloads": downloads, "video_shows": say("page", "steps_shown", every=every),
    }


def chance_words(train_loss, classes: int) -> dict:
    """Return chance level for `classes` classes and whether the training loss starts there."""
    chance = math.log(classes)
    first = float(train_loss[0]) if len(train_loss) else None
    return {"classes": classes, "loss": f"{chance:.2f}", "accuracy": percent(1 / classes, 0 if classes <= 10 else 1),
            "starts_there": first is not None and abs(first - chance) <= PLATEAU_TOLERANCE}


def curves_section(said: dict, curves: dict, svg_src: str, final_accuracy: float, meta: dict,
                   batch_size: int, train_loss=()) -> dict:
    """Return the loss and accuracy figure and the run's sentences about training."""
    png = curves["png"]
    chance = chance_words(train_loss, class_count(meta))
    return {
        "paragraphs": said["training"],
        "plateau": said.get("plateau", True),  # False: the run has no loss plateau (report/numbers/conclusions.py)
        "batch_size": f"{batch_size:,}",
        "test_subset": f"{meta['test_subset_size']:,}",
        "test_size": f"{meta['final_test_size']:,}",
        "figure": {"src": svg_src, "width": png["width"] // 2, "height": png["height"] // 2,
                   "alt": say("page", "curves_alt", accuracy=percent(final_accuracy, 1)),
                   "caption": say("page", "curves_caption", classes=chance["classes"], loss=chance["loss"],
                                  accuracy=chance["accuracy"], starts_there=chance["starts_there"])},
    }
