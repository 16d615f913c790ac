"""The explorer's template data: the step control, jump points, compact view, curves, row labels, tables.

`explorer_context(findings, explore_meta, plateau_end, data_base)` returns what the partials
templates/partials/explorer*.html.j2 show (the words are the partials', and the row titles' and group choices'
templates/words/explorer.txt.j2's); `explore_meta` is the explore.json
render/page_data.py wrote (inlined into the page as JSON, so that nothing is fetched), `data_base` the folder
its chunk paths are relative to ("assets/"); findings may be None (no analysis: plain row labels, no jumps
but start and end). Row labels carry the analysis' kind of each channel (report/numbers/analysis.py), numbered
from 1 as in the text; every channel has a row, those outside the layer's first (most active) group
hidden until its view shows their group. `paragraphs_with_links` links "channel N" to its row.
`step_context(explore_meta, data_base)` is the part that depends on the kept steps (the one-file report,
report/share.py, may keep fewer). `moment` is the stretch of steps the page plays once when the explorer first
comes into sight (templates/static/explorer-control.js): around the plateau's end, or the start of training.
"""

from __future__ import annotations

import json
import re

from markupsafe import Markup

from report.numbers.findings import ChannelFindings, Findings, LayerFindings
from report.numbers.thresholds import DEAD_ZERO_SHARE
from report.page.explorer_curves import curve_panels
from report.voice import gettext, say
from report.words.wording import scale_basis

EDGE_GLYPHS = {"horizontal": "\u2014", "vertical": "|", "diagonal_rising": "/", "diagonal_falling": "\\"}
SPEEDS = (5, 10, 20, 40)
DEFAULT_SPEED = 10


def row_kind_word(kind: str) -> str:
    """Return the one word a row label gives an analysis kind (copy, silhouette, edge, unnamed, idle, saturated)."""
    return {"copy": gettext("copy"), "silhouette": gettext("silhouette"), "edge": gettext("edge"),
            "idle": gettext("idle"), "saturated": gettext("saturated")}.get(kind, gettext("unnamed"))


def short_kind(channel: ChannelFindings) -> str:
    """Return a channel's kind in a few characters for its row label: copy, inv. copy, edge /, idle, ..."""
    if channel.kind == "copy":
        return gettext("copy") if channel.copy_r >= 0 else gettext("inv. copy")
    if channel.kind == "silhouette":
        return gettext("silhouette") if channel.silhouette_r >= 0 else gettext("inv. silhouette")
    if channel.kind == "edge":
        return f"{gettext('edge')} {EDGE_GLYPHS[channel.best_edge]}"
    if getattr(channel, "dead", False):
        return gettext("dead")
    return row_kind_word(channel.kind)


def _resampled(channel: ChannelFindings) -> str:
    """Return the resamples' shares of a channel's kind and its runner-up: "62/38"."""
    return f"{round(100 * channel.kind_stability)}/{round(100 * channel.kind_runner_up_share)}"


def _doubt(channel: ChannelFindings) -> str:
    """Mark a row label that is not sure: a resample could flip it ("/edge 62/38") or a near-duplicate reads it
    otherwise ("?"); the row's title says which (row_title). "" for a sure label."""
    if getattr(channel, "kind_sure", True):
        return ""
    if channel.duplicate_conflicts or not channel.kind_runner_up:
        return "?"
    return f"/{row_kind_word(channel.kind_runner_up)} {_resampled(channel)}"


def row_title(channel: ChannelFindings) -> str:
    """Return a row's title: the channel's kind with the number that decided it, and why it is not sure, if not."""
    doubt = {}
    if not getattr(channel, "kind_sure", True):
        if channel.duplicate_conflicts:
            doubt = {"doubt": "duplicate", "others": [index + 1 for index in channel.duplicate_conflicts]}
        elif not channel.kind_runner_up:
            doubt = {"doubt": "unsure"}
        else:
            doubt = {"doubt": "runner-up", "other": row_kind_word(channel.kind_runner_up),
                     "shares": _resampled(channel)}
    return say("explorer", "row_title", number=channel.channel + 1, kind=long_kind(channel), **doubt)


def long_kind(channel: ChannelFindings) -> str:
    """Return a channel's kind with the number that decided it, for the row label's title."""
    if channel.kind == "copy":
        return say("explorer", "kind_title", kind="copy" if channel.copy_r >= 0 else "inverted copy",
                   r=channel.copy_r)
    if channel.kind == "silhouette":
        return say("explorer", "kind_title", kind="silhouette" if channel.silhouette_r >= 0 else "inverted silhouette",
                   r=channel.silhouette_r)
    if channel.kind == "edge":
        return say("explorer", "kind_title", kind="edge", direction=channel.best_edge, r=channel.best_edge_r)
    if getattr(channel, "dead", False):
        return say("explorer", "kind_title", kind="dead", share=round(100 * DEAD_ZERO_SHARE),
                   step=channel.dead_step)
    if channel.kind == "idle":
        return say("explorer", "kind_title", kind="idle", spread=channel.spread)
    if channel.kind == "saturated":
        return say("explorer", "kind_title", kind="saturated", share=round(100 * channel.saturated_share))
    return say("explorer", "kind_title", kind="other")


def row_labels(layer: LayerFindings, groups: list[list[int]] | None = None) -> list[dict]:
    """Return one label per channel row: its id (link target), channel, number, kinds, and hidden (not in group 0)."""
    first = set(groups[0]) if groups else None
    return [{"id": f"{layer.name}-ch{ch.channel + 1}", "channel": ch.channel, "number": ch.channel + 1,
             "kind": short_kind(ch) + _doubt(ch), "title": row_title(ch),
             "hidden": first is not None and ch.channel not in first} for ch in layer.channels]


def plain_rows(name: str, groups: list[list[int]]) -> list[dict]:
    """Return row labels without the analysis' kinds (a layer the analysis did not describe)."""
    channels = sorted(channel for group in groups for channel in group)
    return [{"id": f"{name}-ch{channel + 1}", "channel": channel, "number": channel + 1, "kind": "",
             "title": say("explorer", "row_title", number=channel + 1), "hidden": channel not in groups[0]}
            for channel in channels]


def jump_points(findings: Findings | None, steps: list[int]) -> list[dict]:
    """Return the steps worth a button, each {"kind", "step"}: start, plateau's end, every layer informative, end."""
    points = [{"kind": "start", "step": int(steps[0])}]
    if findings is not None:
        left_at = findings.run.plateau.left_at_step
        if left_at:
            points.append({"kind": "plateau", "step": int(left_at)})
        informative = [layer.informative_step for layer in findings.layers]
        if informative and None not in informative:
            points.append({"kind": "informative", "step": int(max(informative))})
    points.append({"kind": "end", "step": int(steps[-1])})
    return points


def curve_marks(findings: Findings | None) -> dict:
    """Return the steps the curves mark: {"plateau": the loss leaves its plateau, "informative": the last layer
    to become informative}; None where the findings have no such step (or there are no findings)."""
    if findings is None:
        return {"plateau": None, "informative": None}
    left_at = findings.run.plateau.left_at_step
    informative = [layer.informative_step for layer in findings.layers]
    return {"plateau": int(left_at) if left_at else None,  # 0: the loss never sat on a plateau (as jump_points)
            "informative": int(max(informative)) if informative and None not in informative else None}


MOMENT_AROUND = 0.04  # the share of the run played on each side of the plateau's end
MOMENT_START = 0.15  # the share of the run played from step 0 when there is no plateau


def moment(plateau_step: int | None, steps: list[int]) -> dict:
    """Return {"start", "end"}: a few steps either side of the plateau's end (at least two kept snapshots), or,
    without one, the first ~15% of training (at least one kept snapshot past step 0)."""
    first, last = int(steps[0]), int(steps[-1])
    stride = int(steps[1] - steps[0]) if len(steps) > 1 else 1
    if plateau_step is not None:
        around = max(2 * stride, round(MOMENT_AROUND * (last - first)))
        return {"start": max(first, int(plateau_step) - around), "end": min(last, int(plateau_step) + around)}
    return {"start": first, "end": min(last, first + max(stride, round(MOMENT_START * (last - first))))}


def script_json(data: dict) -> Markup:
    """Return JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def group_options(layer: dict) -> list[dict]:
    """Return a layer's channel groups as choices: {"index", "label"} ("ranked 17–32"; the first the most active)."""
    options, first = [], 1
    for index, group in enumerate(layer["groups"]):
        last = first + len(group["channels"]) - 1
        place = "first" if index == 0 else "last" if index == len(layer["groups"]) - 1 else None
        options.append({"index": index, "label": say("explorer", "group_option", first=first, last=last, place=place)})
        first = last + 1
    return options


def layer_view_facts(layer: dict) -> dict:
    """Return what a layer's view says about its channels: how many, how many shown first, the group choices."""
    shown = len(layer["groups"][0]["channels"])
    return {"channels": layer["channels"], "shown": shown, "all_shown": shown == layer["channels"],
            "groups": group_options(layer)}


def step_context(explore_meta: dict, data_base: str) -> dict:
    """Return the explorer's data that depend on the kept steps: the inlined explore.json, the control, the stride."""
    steps = explore_meta["steps"]
    last_step = int(steps[-1])
    initial = last_step  # the trained network; the jump buttons lead to where the change happens
    stride = int(explore_meta.get("stride", 1))
    return {
        # the scales' bases in the edition written (the renderer's English text is only its own captions'); the
        # terms they are worded from stay out of the page, whose scripts never read them
        "meta_json": script_json(dict(explore_meta, layers=[
            {**{key: value for key, value in layer.items() if key != "basis_terms"}, "basis": scale_basis(layer)}
            for layer in explore_meta["layers"]])),
        "data_base": data_base,
        "slider_max": len(steps) - 1, "initial_index": steps.index(initial), "initial_step": initial,
        "last_step": last_step, "stride": stride,
        "snapshots": int(explore_meta.get("snapshots", len(steps))),
        "shown_snapshots": len(steps),
        # Play moves the same number of snapshots a second whatever the stride: the speeds are in steps.
        "speeds": [{"value": s * stride, "selected": s == DEFAULT_SPEED} for s in SPEEDS],
    }


def explorer_context(findings: Findings | None, explore_meta: dict, plateau_end: int, data_base: str) -> dict:
    """Return the explorer's data: control, jump points, probes, compact blocks, curves, row labels, tables."""
    steps = explore_meta["steps"]
    last_step = int(steps[-1])
    initial = last_step  # as step_context's
    layers = explore_meta["layers"]
    groups = {layer["name"]: [group["channels"] for group in layer["groups"]] for layer in layers}
    described = {layer.name: layer for layer in findings.layers} if findings is not None else {}
    rows = {name: row_labels(described[name], groups[name]) if name in described else plain_rows(name, groups[name])
            for name in groups}
    marks = curve_marks(findings)
    return {
        **step_context(explore_meta, data_base),
        "jumps": jump_points(findings, steps),
        "probes": [{"index": i, "number": i + 1, "name": name, "checked": i == 0}
                   for i, name in enumerate(explore_meta["probe_names"])],
        "probe_names": ", ".join(explore_meta["probe_names"]),
        "compact": [{"name": layer["name"], "channels": layer["channels"], "shown": len(layer["groups"][0]["channels"])}
                    for layer in layers],
        "curves": curve_panels(explore_meta["curves"], last_step, plateau_end, initial, marks),
        "marks": marks,
        "autoplay": moment(marks["plateau"], steps),
        "rows": rows,
        "views": {layer["name"]: layer_view_facts(layer) for layer in layers},
        # the colour bar's words; the colours themselves are said under "How to read the layers"
        "scales": {"any_signed": any(layer["domain"][0] < 0 for layer in layers)},
        "any_grouped": any(len(layer["groups"]) > 1 for layer in layers),
        "group_size": int(explore_meta.get("group_size", 16)),
    }


def paragraphs_with_links(paragraphs: list[str], layer: str, channels: int) -> list[list[dict]]:
    """Return each paragraph as segments in which every "channel N" links to that row of the layer's view."""
    return [channel_links(paragraph, layer, channels) for paragraph in paragraphs]


# "channel 3", "channels 1, 3 and 4" in English; "通道 3", "通道 1、3 和 4" in Chinese (report/voice.py's lists).
_CHANNEL_NUMBERS = re.compile(r"(\b[Cc]hannels?|通道) ?((?:\d+(?:, | and | or |、| ?和 ?| ?或 ?))*\d+)(?!\d)")
_NUMBER = re.compile(r"\d+")


def channel_links(text: str, layer: str, channels: int) -> list[dict]:
    """Split a paragraph into segments, each {"text", "href"}: every "channel N" of the layer links to its row."""
    segments, at = [], 0
    for match in _CHANNEL_NUMBERS.finditer(text):
        start = match.start(2)
        for number in _NUMBER.finditer(match.group(2)):
            value = int(number.group())
            if not 1 <= value <= channels:
                continue
            begin, end = start + number.start(), start + number.end()
            if number.start() == 0:  # the first number carries the word: "channel 14" is the link
                begin = match.start(1)
            segments.append({"text": text[at:begin], "href": None})
            segments.append({"text": text[begin:end], "href": f"#{layer}-ch{value}"})
            at = end
    segments.append({"text": text[at:], "href": None})
    return [segment for segment in segments if segment["text"]]
