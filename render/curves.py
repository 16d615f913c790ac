"""Loss and accuracy over steps (training every step, test at its points), as SVG and a 2x PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend change). The
steps axis is linear and the loss axis is capped robustly, so a single spike cannot squash the
early plateau; the plateau, when the run has one, is shaded and named in both panels. Output is
byte-deterministic: a fixed `svg.hashsalt`, no dates in the metadata, text drawn as paths.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

TRAIN_COLOR = "#4c72b0"
TEST_COLOR = "#dd5500"
PNG_DPI = 200  # the 100-dpi layout at 2x, crisp on high-density screens


def plateau_end(train_accuracy: np.ndarray, classes: int = 10, window: int = 5) -> int:
    """Return the last step of the early plateau (accuracy near chance), or 0 when there is none."""
    accuracy = np.asarray(train_accuracy, np.float64)
    if accuracy.size < window or not np.isfinite(accuracy).all():
        return 0
    smooth = np.convolve(accuracy, np.ones(window) / window, mode="valid")  # (S - window + 1,)
    above = np.flatnonzero(smooth > 1.0 / classes + 0.1)
    if above.size == 0:
        return 0
    end = int(above[0]) + window // 2  # steps are 1-based: index i is step i + 1
    return end if end >= 5 else 0


def _loss_top(train_loss: np.ndarray, test_loss: np.ndarray) -> float:
    """Return a loss-axis top that shows the starting level but not a rare spike (at most 1.5x the start)."""
    train = np.asarray(train_loss, np.float64)
    values = np.concatenate([train, np.asarray(test_loss, np.float64)])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 1.0
    start = train[:3][np.isfinite(train[:3])]
    start_level = float(np.median(start)) if start.size else float(np.median(values))
    high = float(np.percentile(values, 99))
    level = max(start_level, min(high, 1.5 * start_level)) if start_level > 0 else high
    return level * 1.08 if level > 0 else 1.0


def curves_figure(capture, *, classes: int = 10):
    """Build the two-panel loss/accuracy matplotlib Figure of a capture."""
    from matplotlib.figure import Figure

    train_loss = np.asarray(capture.train_loss, np.float64)  # (S,)
    train_accuracy = np.asarray(capture.train_accuracy, np.float64)
    train_steps = np.arange(1, train_loss.size + 1)
    test_steps = np.asarray(capture.test_steps)  # (K,)
    last = int(max(train_steps[-1] if train_steps.size else 1, test_steps.max(initial=1)))
    figure = Figure(figsize=(10, 3.6), dpi=100, layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    panels = ((loss_axes, train_loss, np.asarray(capture.test_loss), "loss (cross-entropy)"),
              (accuracy_axes, train_accuracy, np.asarray(capture.test_accuracy), "accuracy"))
    plateau = plateau_end(train_accuracy, classes)
    for axes, train, test, title in panels:
        axes.plot(train_steps, train, color=TRAIN_COLOR, linewidth=0.9, alpha=0.85,
                  label="training (each step's batch)")
        axes.plot(test_steps, test, color=TEST_COLOR, linewidth=1.2, marker="o", markersize=3, label="test")
        if plateau:
            axes.axvspan(0, plateau, color="#000000", alpha=0.06, linewidth=0)
            axes.text(plateau / 2, 0.5, "plateau", transform=axes.get_xaxis_transform(), ha="center",
                      va="center", rotation=90, color="#555555", fontsize=9)
        axes.set_xlim(0, last)
        axes.set_xlabel("training step")
        axes.set_ylabel(title)
        axes.grid(True, color="#dddddd", linewidth=0.6)
        axes.legend(loc="center right", frameon=False, fontsize=9)
    top = _loss_top(train_loss, capture.test_loss)
    loss_axes.set_ylim(0, top)
    with np.errstate(invalid="ignore"):
        above = int(np.count_nonzero(train_loss > top) + np.count_nonzero(np.asarray(capture.test_loss) > top))
    if above:
        loss_axes.text(0.99, 0.98, f"{above} point{'s' if above > 1 else ''} above the axis", ha="right", va="top",
                       transform=loss_axes.transAxes, fontsize=8, color="#555555")
    accuracy_axes.set_ylim(0, 1.02)
    return figure


def palette_png(figure) -> bytes:
    """Return the figure at PNG_DPI as a 256-colour palette PNG (a few line colours and their anti-aliasing: the same
    picture at about a third of the RGBA file's bytes; Pillow's median cut is deterministic)."""
    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    picture = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    out = io.BytesIO()
    picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True)
    return out.getvalue()


def write_curves(capture, out_dir: str | os.PathLike, *, stem: str = "curves") -> dict:
    """Write `<stem>.svg` and a 2x `<stem>.png` of the curves into out_dir; return their manifest entries."""
    import matplotlib

    out_dir = Path(out_dir)
    entries = {}
    with matplotlib.rc_context({"svg.hashsalt": "render-curves", "svg.fonttype": "path"}):
        figure = curves_figure(capture)
        figure.savefig(out_dir / f"{stem}.svg", format="svg", metadata={"Date": None})
        (out_dir / f"{stem}.png").write_bytes(palette_png(figure))
        for kind in ("svg", "png"):
            path = out_dir / f"{stem}.{kind}"
            entries[kind] = {"path": path.name, "bytes": path.stat().st_size}
    width, height = figure.get_size_inches()
    entries["png"].update(width=int(round(width * PNG_DPI)), height=int(round(height * PNG_DPI)))
    entries["plateau_end_step"] = plateau_end(capture.train_accuracy)
    return entries
