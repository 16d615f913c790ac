"""Command line: `python -m render BUILD/capture.h5 OUTDIR [--fps 10] [--gif-budget BYTES] [--webm] [--quiet]`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Render a capture archive into OUTDIR and print where the manifest is."""
    parser = argparse.ArgumentParser(prog="python -m render", description=__doc__)
    parser.add_argument("capture", help="a capture archive written by capture.archive.Capture.save")
    parser.add_argument("out_dir", help="folder for the videos, previews, curves and manifest.json")
    parser.add_argument("--fps", type=float, default=10)
    parser.add_argument("--gif-budget", type=int, default=5_000_000, help="largest GIF preview in bytes")
    parser.add_argument("--webm", action="store_true", help="also write a VP9 WebM per layer")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    from pathlib import Path

    from capture.archive import Capture
    from pipeline.folders import check_owned
    from pipeline.ownership import ASSETS, claim
    from render.assets import render_capture
    from render.encode import RenderSettings

    try:
        settings = RenderSettings(gif_budget_bytes=args.gif_budget, fps=args.fps, webm=args.webm)
        check_owned(Path(args.out_dir), "OUTDIR", ASSETS)  # it rewrites files in OUTDIR: only a folder of its own
        capture = Capture.load(args.capture)
        claim(Path(args.out_dir), ASSETS)
        manifest = render_capture(capture, args.out_dir, settings, progress=not args.quiet)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{args.out_dir}/manifest.json: {len(manifest['layers'])} layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
