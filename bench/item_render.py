"""Item 2: the render stage alone on a site run's capture: frame composition, encodings, peak memory."""

from __future__ import annotations

from pathlib import Path

from common import BUDGETS, mib_to_mb, say
from report_table import Report
from runs import render_run

ENCODINGS = ("mp4", "mp4+webm", "gif", "png", "curves")


def render_alone(report: Report, capture: Path, options) -> dict:
    """Add item 2's figures from one render worker run (the stage's timings hook splits its time)."""
    w = report.workload
    say(f"{w.name}: render stage alone (item 2)")
    result = render_run(w, capture, f"{options.steps}")
    report.raw["render"] = result
    parts = result["parts"]
    report.raw["render_parts"] = parts
    threads = result.get("layer_workers") or 1
    summed = f"summed over the stage's {threads} layer threads" if threads > 1 else "one thread"
    report.add("2", f"render: compose all frames of all {result['layers']} layers", parts["compose"], "s",
               BUDGETS["render_frames_s"], f"{result['frames']} frames per layer, "
               f"{result['frames'] * result['layers']} in all, at full size, for the videos; {summed} (the GIFs' "
               f"own smaller frames are inside gif below)")
    encodes = {k: parts[k] for k in ENCODINGS if parts.get(k) is not None}
    total = sum(encodes.values()) if encodes else None
    report.add("2", "render: all encodings", total, "s", BUDGETS["render_encode_s"],
               ", ".join(f"{k} {v:.1f} s" for k, v in encodes.items())
               + f" ({summed}; mp4 = yuv conversion, piping and waiting for ffmpeg, which used "
               f"{result['ffmpeg_cpu_seconds']:.1f} CPU s beside it; gif = its frames, the LZW and the size search; "
               f"png = the posters); the whole stage took {result['render_seconds']:.1f} s wall via "
               f"{result['entry']}, process {result['wall_s']:.1f} s")
    peak = max(x for x in (mib_to_mb(result["maxrss_mb"]), mib_to_mb(result["tree_peak_mb"])) if x is not None)
    report.add("2", "render: peak memory of the stage", peak, "MB", BUDGETS["render_peak_mb"],
               f"render process peak {mib_to_mb(result['worker_maxrss_mb']):.0f} MB (capture loaded: "
               f"{mib_to_mb(result['after_load_rss_mb']):.0f} MB), largest ffmpeg child "
               f"{mib_to_mb(result['children_maxrss_mb']):.0f} MB, process tree, summed PSS (sampled every 50 ms) "
               f"{mib_to_mb(result['tree_peak_mb'] or 0):.0f} MB"
               + ("; TensorFlow was imported" if result["tensorflow_imported"] else "; no TensorFlow in the process"))
    return result
