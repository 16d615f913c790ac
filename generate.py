"""Command line for the three stages: capture (train + record), render (animations), site (article).

Run `python generate.py site` for the whole job (what `make site` does), or one stage:
`python generate.py capture --steps 20 --dataset bundled`. Every config field can be set with its
own flag or `--set field=value`; bad input exits with status 2 and a one-line error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


STAGES = ("capture", "render", "site")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", nargs="?", default="site", choices=STAGES,
                        help="run up to this stage (default: site, the whole job)")
    parser.add_argument("--build-dir", default="build", help="where capture.npz, model.keras and assets go")
    parser.add_argument("--site-dir", default="site", help="where the article is written")
    parser.add_argument("--dataset", help="auto (default), mnist, bundled or fashion")
    parser.add_argument("--data-dir", help="folder of MNIST-format idx files to train on")
    parser.add_argument("--steps", type=int, help="training steps (default 290)")
    parser.add_argument("--batch-size", type=int, help="images per step (default 1024)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--every", type=int, dest="capture_every", help="record every k-th step (default 1)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="set any config field (value parsed as JSON, else taken as a string)")
    parser.add_argument("--gif-budget-mb", type=float, default=1.0,
                        help="largest GIF preview per layer, in MB (1 keeps the whole site under 15 MB)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser.parse_args(argv)


def config_from(arguments: argparse.Namespace):
    """Build the frozen Config from flags; unknown fields or bad values raise ValueError."""
    from model.config import Config

    overrides = {}
    for name in ("dataset", "data_dir", "steps", "batch_size", "seed", "capture_every"):
        value = getattr(arguments, name)
        if value is not None:
            overrides[name] = value
    for assignment in arguments.set:
        name, separator, text = assignment.partition("=")
        if not separator:
            raise ValueError(f"--set {assignment!r} must look like FIELD=VALUE")
        try:
            overrides[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            overrides[name.strip()] = text
    return Config.from_overrides(overrides)


def run(arguments: argparse.Namespace) -> None:
    """Run the stages up to the one asked for."""
    config = config_from(arguments)  # bad flags fail here, before anything slow
    from model.stage import run_capture  # imports TensorFlow only if it has to train

    build_dir = Path(arguments.build_dir)
    capture = run_capture(config, build_dir, progress=not arguments.quiet)
    if arguments.stage == "capture":
        return
    from render.cache import render_if_stale

    manifest = render_if_stale(capture, build_dir, gif_budget_bytes=int(arguments.gif_budget_mb * 1_000_000),
                               progress=not arguments.quiet)
    if arguments.stage == "render":
        return
    from report.build import build_site

    build_site(capture, manifest, build_dir, Path(arguments.site_dir))


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the exit status (2 for bad input)."""
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        run(arguments)
    except ValueError as error:  # DataError, CaptureError and config errors all derive from it
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
