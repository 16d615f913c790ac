"""The explorer's template data: the step control, jump points, compact view, curves, row labels, tables.

`explorer_context(findings, explore_meta, plateau_end, data_base)` returns what the partials
templates/partials/explorer*.html.j2 show (the words are the partials'); `explore_meta` is the explore.json
render/page_data.py wrote (inlined into the page as JSON, so that nothing is fetched), `data_base` the folder
its chunk paths are relative to ("assets/"). Row labels carry the analysis' kind of each channel
(report/analysis.py), numbered from 1 as in the text; `paragraphs_with_links` links "channel N" to its row.
"""

from __future__ import annotations

import json
import re

from markupsafe import Markup

from report.explorer_curves import curve_panels
from report.findings import ChannelFindings, Findings

EDGE_GLYPHS = {"horizontal": "\u2014", "vertical": "|", "diagonal_rising": "/", "diagonal_falling": "\\"}
SPEEDS = (5, 10, 20, 40)
DEFAULT_SPEED = 10


def short_kind(channel: ChannelFindings) -> str:
    """Return a channel's kind in a few characters for its row label: copy, inv. copy, edge /, idle, ..."""
    if channel.kind == "copy":
        return "copy" if channel.copy_r >= 0 else "inv. copy"
    if channel.kind == "edge":
        return f"edge {EDGE_GLYPHS[channel.best_edge]}"
    return {"saturated": "saturated", "idle": "idle"}.get(channel.kind, "other")


def long_kind(channel: ChannelFindings) -> str:
    """Return a channel's kind with the number that decided it, for the row label's title."""
    if channel.kind == "copy":
        return f"{'inverted ' if channel.copy_r < 0 else ''}copy of the input (r = {channel.copy_r:+.2f})"
    if channel.kind == "edge":
        return f"{channel.best_edge.replace('_', ' ')} edge detector (r = {channel.best_edge_r:+.2f})"
    if channel.kind == "idle":
        return f"idle (spread {channel.spread:.3f})"
    if channel.kind == "saturated":
        return f"saturated ({round(100 * channel.saturated_share)}% of values beyond the saturation level)"
    return "none of the named kinds"


def row_labels(layer) -> list[dict]:
    """Return one label per channel row: its id (link target), number, short kind and long kind."""
    return [{"id": f"{layer.name}-ch{ch.channel + 1}", "number": ch.channel + 1, "kind": short_kind(ch),
             "title": f"Channel {ch.channel + 1}: {long_kind(ch)}"} for ch in layer.channels]


def jump_points(findings: Findings) -> list[dict]:
    """Return the steps worth a button, each {"kind", "step"}: start, plateau's end, every layer informative, end."""
    points = [{"kind": "start", "step": int(findings.steps[0])}]
    plateau = findings.run.get("plateau") or {}
    if plateau.get("left_at_step"):
        points.append({"kind": "plateau", "step": int(plateau["left_at_step"])})
    informative = [layer.informative_step for layer in findings.layers]
    if informative and None not in informative:
        points.append({"kind": "informative", "step": int(max(informative))})
    points.append({"kind": "end", "step": int(findings.last_step)})
    return points


def script_json(data: dict) -> Markup:
    """Return JSON that is safe inside a <script type="application/json"> element."""
    text = json.dumps(data, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def explorer_context(findings, explore_meta: dict, plateau_end: int, data_base: str) -> dict:
    """Return the explorer's data: control, jump points, probes, compact blocks, curves, row labels, tables."""
    findings = Findings.coerce(findings)
    steps = explore_meta["steps"]
    last_step = int(steps[-1])
    initial = last_step  # the trained network; the jump buttons lead to where the change happens
    return {
        "meta_json": script_json(explore_meta), "data_base": data_base,
        "slider_max": len(steps) - 1, "initial_index": steps.index(initial), "initial_step": initial,
        "last_step": last_step,
        "speeds": [{"value": s, "selected": s == DEFAULT_SPEED} for s in SPEEDS],
        "jumps": jump_points(findings),
        "probes": [{"index": i, "number": i + 1, "name": name, "checked": i == 0}
                   for i, name in enumerate(explore_meta["probe_names"])],
        "probe_names": ", ".join(explore_meta["probe_names"]),
        "compact": [{"name": layer["name"], "channels": layer["channels"]} for layer in explore_meta["layers"]],
        "curves": curve_panels(explore_meta["curves"], last_step, plateau_end, initial),
        "rows": {layer.name: row_labels(layer) for layer in findings.layers},
    }


def paragraphs_with_links(paragraphs: list[str], layer: str, channels: int) -> list[list[dict]]:
    """Return each paragraph as segments in which every "channel N" links to that row of the layer's view."""
    return [channel_links(paragraph, layer, channels) for paragraph in paragraphs]


_CHANNEL_NUMBERS = re.compile(r"\b([Cc]hannels?) ((?:\d+(?:, | and | or ))*\d+)\b")
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
