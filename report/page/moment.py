"""The opening figure's context: which steps and which probe show the moment every layer switches on.

    context = moment_context(capture, manifest, findings, staging / ASSETS)   # None: nothing to show

It chooses COLUMNS recorded steps from this run's findings (`choose_steps`), the probe whose layers change most
over them (`choose_probe`), draws them (report/figures/moment.py) into `moment.png` in the assets folder, and
returns numbers for templates/partials/moment.html.j2, which owns the words. The steps come from one of four rules:
- "plateau": the loss sat at chance first; the window runs from the step it left chance (plateau.left_at_step)
  to the step by which every layer is informative (the latest `informative_step`), widened by half its width on
  each side so that the columns start a little before the plateau's end and end after the last layer switched on;
- "spread": no plateau; the window is where the layers' mean relative spread (each layer's median channel spread
  as a share of its final value, report/numbers/settling.py) grows fastest: the stretch where its highest level
  so far rises at least half as fast as at its fastest, widened the same way;
- "run": no plateau and the spread never grows: the window is the whole run;
- "all": the run recorded no more than COLUMNS steps, and every one is shown.
The window's steps are evenly spaced recorded steps; the run's first step is added for reference when the window
does not hold it. Nothing here is tuned to one run: no step or threshold is fixed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from pipeline.images import write_png
from render.palette import PALETTE
from report.figures.moment import moment_pixels, palette_indices
from report.numbers.thresholds import INFORMATIVE_SHARE
from report.page.sections import ASSETS
from report.words.wording import percent

COLUMNS = 6  # steps shown, the reference included (about 55 KB for the article's six layers)
FILE_NAME = "moment.png"


def _window_indices(steps: np.ndarray, low: float, high: float, count: int) -> list[int]:
    """Return `count` evenly spaced indices of recorded steps in [low, high], widened until it holds that many."""
    first = int(np.searchsorted(steps, low, side="left"))
    last = int(np.searchsorted(steps, high, side="right")) - 1
    first, last = min(max(first, 0), len(steps) - 1), max(min(last, len(steps) - 1), 0)
    first, last = min(first, last), max(first, last)
    while last - first + 1 < count and (first > 0 or last < len(steps) - 1):
        if first > 0:
            first -= 1
        if last - first + 1 < count and last < len(steps) - 1:
            last += 1
    return sorted({int(round(index)) for index in np.linspace(first, last, min(count, last - first + 1))})


def _widened(low: float, high: float, gap: float) -> tuple[float, float]:
    """Return [low, high] widened by half its width (at least one recorded gap) on each side."""
    half = max(high - low, gap) / 2
    return low - half, high + half


def _spread_window(steps: np.ndarray, spread) -> tuple[float, float] | None:
    """Return the steps over which the layers' mean spread grows at least half as fast as at its fastest.

    The growth is that of the running maximum (the highest level so far), so that a passing dip does not count
    as growth when the level comes back; None when it never grows.
    """
    with warnings.catch_warnings():  # a step where no layer has a spread is simply not growth
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.asarray(spread, np.float64), axis=0)  # (T,)
    rising = np.maximum.accumulate(np.where(np.isfinite(mean), mean, -np.inf))
    with np.errstate(invalid="ignore"):
        rate = np.nan_to_num(np.diff(rising), nan=0.0, posinf=0.0) / np.maximum(np.diff(steps), 1)  # (T - 1,)
    peak = int(np.argmax(rate))
    if not rate[peak] > 0:
        return None
    left = right = peak
    while left > 0 and rate[left - 1] >= rate[peak] / 2:
        left -= 1
    while right < len(rate) - 1 and rate[right + 1] >= rate[peak] / 2:
        right += 1
    return float(steps[left]), float(steps[right + 1])


def choose_steps(steps, plateau_end: int | None, informative: list[int | None], spread,
                 count: int = COLUMNS) -> tuple[list[int], str, list[int], list[int]]:
    """Return the figure's steps, the rule that chose them, the window's first and last step and the rule's basis.

    The basis is the pair of steps the window was widened from: the plateau's end and the step every layer is
    informative by (the last step when one never is), the stretch of fastest growth, or the run's ends.

    plateau_end: the step the loss left its plateau at chance (None: no plateau); informative: each layer's
    informative step (None: never); spread: (layers, T) each layer's relative spread at the recorded steps.
    """
    steps = np.asarray(steps, np.int64)
    if len(steps) <= count:
        shown = [int(step) for step in steps]
        return shown, "all", [shown[0], shown[-1]], [shown[0], shown[-1]]
    gap = float(np.median(np.diff(steps)))
    if plateau_end is not None:
        reached = [int(step) for step in informative if step is not None]
        everyone = max([plateau_end, *reached]) if len(reached) == len(informative) else int(steps[-1])
        rule, basis = "plateau", (plateau_end, everyone)
        window = _widened(*basis, gap)
    else:
        found = _spread_window(steps, spread)
        rule, basis = ("spread", found) if found else ("run", (float(steps[0]), float(steps[-1])))
        window = _widened(*basis, gap) if found else basis
    inside = _window_indices(steps, *window, count)
    if inside[0] != 0:  # the run's first step, for reference, and one step fewer in the window
        inside = _window_indices(steps, *window, count - 1)
    window_steps = [int(steps[index]) for index in inside]
    chosen = window_steps if inside[0] == 0 else [int(steps[0]), *window_steps]
    return chosen, rule, [window_steps[0], window_steps[-1]], [int(basis[0]), int(basis[1])]


def choose_probe(capture, names: list[str], scales: list[dict], first: int, last: int) -> int:
    """Return the probe whose layers change most between two recorded steps (mean |change| over each layer's scale)."""
    change = np.zeros(len(capture.probe_images))
    for name, scale in zip(names, scales):
        extent = max(abs(float(end)) for end in scale["domain"]) or 1.0
        before = np.asarray(capture.activations[name][first], np.float32)  # (N, H, W, C)
        after = np.asarray(capture.activations[name][last], np.float32)
        difference = np.nan_to_num(np.abs(after - before), nan=0.0, posinf=extent, neginf=extent)
        change += np.minimum(difference, extent).reshape(len(change), -1).mean(axis=1) / extent
    return int(np.argmax(change))


def moment_context(capture, manifest: dict, findings, folder: Path, drawn: dict | None = None) -> dict | None:
    """Write the opening figure into `folder` (the staging assets) and return its context; None when there is none.

    drawn: the context this returned for another edition of the same run: its steps, probe and maps are reused
    (kept under "inputs"), and only the figure's words are drawn again."""
    steps = np.asarray(capture.steps, np.int64)
    if findings is None or not findings.layers or len(steps) < 2 or not manifest.get("layers"):
        return None
    entries = manifest["layers"]
    names = [entry["name"] for entry in entries]
    scales = [entry["scale"] for entry in entries]
    by_name = {layer.name: layer for layer in findings.layers}
    plateau = findings.run.plateau
    plateau_end = plateau.left_at_step if plateau.left_at_step is not None and plateau.steps > 0 else None
    informative = [by_name[name].informative_step if name in by_name else None for name in names]
    spread = [by_name[name].timeline.get("relative_spread", [np.nan] * len(steps)) if name in by_name
              else [np.nan] * len(steps) for name in names]
    shown = [entry.get("shown_channels") or list(range(entry["channels"])) for entry in entries]
    if drawn:
        chosen, rule, window, basis, probe, maps = drawn["inputs"]
    else:
        chosen, rule, window, basis = choose_steps(steps, plateau_end, informative, spread)
        index = {int(step): position for position, step in enumerate(steps)}
        probe = choose_probe(capture, names, scales, index[window[0]], index[window[-1]])
        maps = [[np.asarray(capture.activations[name][index[step]][probe], np.float32)[..., channels]
                 for step in chosen] for name, channels in zip(names, shown)]
    reference = rule != "all" and chosen[0] < window[0]
    pixels = moment_pixels(maps, scales, names, chosen, capture.train_loss, int(plateau.steps),
                           references=(reference, False))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    size = write_png(palette_indices(pixels), folder / FILE_NAME, PALETTE)
    labels = [int(label) for label in capture.probe_labels]
    class_names = capture.meta.get("dataset", {}).get("class_names") or []
    label = labels[probe]
    reached = [step for step in informative if step is not None]
    return {
        "src": f"{ASSETS}/{FILE_NAME}", "width": int(pixels.shape[1]), "height": int(pixels.shape[0]), "bytes": size,
        "steps": chosen, "rule": rule, "window": window, "basis": basis, "last_step": int(steps[-1]),
        "reference": chosen[0] if reference else None, "informative_percent": percent(INFORMATIVE_SHARE),
        "plateau_end": plateau_end, "plateau_steps": int(plateau.steps),
        "all_informative_step": max(reached) if reached and len(reached) == len(names) else None,
        "layers": names, "layer_count": len(names),
        "channels": [{"name": name, "shown": len(channels), "total": entry["channels"]}
                     for name, channels, entry in zip(names, shown, entries)],
        "partial": any(len(channels) < entry["channels"] for channels, entry in zip(shown, entries)),
        "probe": {"number": probe + 1, "count": len(labels),
                  "label": class_names[label] if 0 <= label < len(class_names) else str(label)},
        "inputs": (chosen, rule, window, basis, probe, maps),  # for another edition (never shown)
    }
