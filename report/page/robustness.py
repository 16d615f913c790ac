"""The numbers behind the page's statements of uncertainty: where labels were measured, how sure they are, the
conclusions' variants and the research checks (issue 21; docs/analysis-set.md).

Use: `measured_on(findings, meta)`, `uncertain_labels(layer)`, `variant_rows(conclusion)` and
`research_table(findings)` return plain data for templates/partials/measured.html.j2, layer.html.j2,
conclusions.html.j2 and research.html.j2. The templates own every word; this module passes numbers formatted
for display and the keys that choose a sentence (e.g. "first", "last" or "unclear").
"""

from __future__ import annotations

from report.numbers.checks import HOLDS
from report.numbers.thresholds import DUPLICATE_MIN_R, KIND_SURE_SHARE
from report.words.wording import channel_label, percent, signed


def _interval(values, formatter=str) -> dict | None:
    """Return {"lo", "hi"} formatted, or None when either end is unknown."""
    if not values or any(value is None for value in values):
        return None
    return {"lo": formatter(values[0]), "hi": formatter(values[1])}


def _steps(value) -> str:
    return "\u2014" if value is None else f"{int(round(value))}"


def _signed_steps(value) -> str:
    return "\u2014" if value is None else f"{int(round(value)):+d}".replace("-", "\u2212")


def measured_on(findings, meta: dict) -> dict:
    """Return what the labels, groups and verdicts were measured on, for the experiment section."""
    run = findings.run
    analysis = meta.get("analysis") or {}
    per_class = analysis.get("per_class") or []
    even = bool(per_class) and min(per_class) == max(per_class)
    return {"source": run.analysis_source, "images": f"{run.analysis_images:,}", "resamples": run.bootstrap_resamples,
            "probes": findings.num_probes, "per_class": per_class[0] if even else None,
            "grid_every": analysis.get("grid_every"), "sure_share": percent(KIND_SURE_SHARE),
            "per_class_range": None if even or not per_class else {"lo": min(per_class), "hi": max(per_class)}}


def uncertain_labels(layer) -> dict | None:
    """Return the layer's uncertain labels: those a resample could flip, and those a near-duplicate contradicts."""
    flips, conflicts = [], []
    for channel in layer.channels:
        if getattr(channel, "kind_sure", True):
            continue
        if channel.duplicate_conflicts:
            conflicts.append({"channel": channel.channel + 1, "kind": channel.kind})
        elif channel.kind_runner_up:
            flips.append({"channel": channel_label(channel.channel), "kind": channel.kind,
                          "other": channel.kind_runner_up, "share": round(100 * channel.kind_stability),
                          "other_share": round(100 * (channel.kind_runner_up_share or 0.0))})
    if not flips and not conflicts:
        return None
    return {"flips": flips, "conflicts": conflicts, "channels": len(layer.channels),
            "duplicate_r": DUPLICATE_MIN_R}


def variant_rows(conclusion) -> dict | None:
    """Return a conclusion's variants: how many hold, which fail, and whether the data explain a failure."""
    variants = getattr(conclusion, "variants", None) or []
    if not variants:
        return None
    failing = [variant.definition for variant in variants if variant.verdict != HOLDS]
    holding = [variant.definition for variant in variants if variant.verdict == HOLDS]
    return {"total": len(variants), "holding": len(holding), "holding_keys": holding, "failing": failing,
            "verdicts": [{"definition": variant.definition, "verdict": variant.verdict} for variant in variants],
            "data_explained": bool(getattr(conclusion, "data_explained", False))}


def _direction(value, interval) -> str:
    """Say how sure a signed number's sign is: "positive", "negative" or "unclear" (its interval spans 0)."""
    if value is None or interval is None:
        return "unclear"
    lo, hi = interval
    if lo is not None and lo > 0:
        return "positive"
    if hi is not None and hi < 0:
        return "negative"
    return "unclear"


def research_table(findings) -> dict | None:
    """Return the research checks as table rows per layer and the run-level numbers with their choices."""
    research = findings.run.research
    if research is None or findings.run.analysis_images == 0:
        return None
    rows = []
    for layer in findings.layers:
        checks = layer.research
        if checks is None:
            continue
        settled = layer.settling.settled_step if layer.settling else None
        rows.append({
            "name": layer.name, "settled": _steps(settled), "settled_ci": _interval(layer.settle_step_ci, _steps),
            "done_10": "\u2014" if checks.change_done_10 is None else percent(checks.change_done_10),
            "done_10_ci": _interval(checks.change_done_10_ci, percent),
            "done_25": "\u2014" if checks.change_done_25 is None else percent(checks.change_done_25),
            "done_25_ci": _interval(checks.change_done_25_ci, percent),
            "pc1_end": percent(checks.pc1_share_end), "pc1_end_ci": _interval(checks.pc1_share_end_ci, percent),
            "pc1_peak": percent(checks.pc1_peak_share), "pc1_peak_step": checks.pc1_peak_step,
            "speed_peak": _steps(checks.speed_peak_step), "speed_peak_ci": _interval(checks.speed_peak_step_ci, _steps),
            "lag": _signed_steps(research.speed_lag.get(layer.name)),
            "lag_ci": _interval(research.speed_lag_ci.get(layer.name), _signed_steps),
        })
    done_25 = [layer.research.change_done_25 for layer in findings.layers
               if layer.research is not None and layer.research.change_done_25 is not None]
    rho, rho_ci = research.depth_settle_spearman, research.depth_settle_spearman_ci
    lag, lag_ci = research.median_speed_lag, research.median_speed_lag_ci
    return {
        "rows": rows, "layers": len(rows),
        "spearman": None if rho is None else signed(rho), "spearman_ci": _interval(rho_ci, signed),
        "order": _direction(rho, rho_ci),
        "loss_drop": _steps(research.loss_drop_step), "loss_window": research.loss_window,
        "lag": _signed_steps(lag), "lag_ci": _interval(lag_ci, _signed_steps),
        "lag_side": {"positive": "after", "negative": "before"}.get(_direction(lag, lag_ci), "at"),
        "early_layers": sum(share >= 0.5 for share in done_25), "done_25_layers": len(done_25),
        "resamples": findings.run.bootstrap_resamples, "images": f"{findings.run.analysis_images:,}",
    }
