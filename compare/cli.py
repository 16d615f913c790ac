"""`generate.py compare BUILD_A BUILD_B [...] --site-dir DIR [--align step|fraction]`: the arguments and the run.

generate.py parses with its one-line-error parser and reports errors as for every stage (`error:` and exit
status 2 for bad input, before anything is written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from compare.align import ALIGNS

DESCRIPTION = ("Compare finished runs side by side: one step control over every run's layers, their loss and "
               "accuracy curves overlaid, and a table of their differences, written as one static page.")


def parse_arguments(argv: list[str], parser_class=argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the compare subcommand's arguments (parser_class: generate.py's parser with one-line errors)."""
    parser = parser_class(prog="generate.py compare", description=DESCRIPTION)
    parser.add_argument("builds", nargs="*", metavar="BUILD",
                        help="build folders of finished runs (`generate.py render` or `site` wrote them), two or more")
    parser.add_argument("--site-dir", default="site-compare",
                        help="where the comparison page is written (replaced whole: new, empty or a comparison page "
                             "this tool wrote; default site-compare)")
    parser.add_argument("--align", default="step", choices=ALIGNS,
                        help="step (default): the control moves every run to the same step, a shorter run holding "
                             "its last frame; fraction: to the same fraction of its training")
    parser.add_argument("--wait", action="store_true",
                        help="when another run is using a build folder, wait for it instead of stopping")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser.parse_args(argv)


def run(arguments: argparse.Namespace) -> Path:
    """Write the comparison page; return its index.html (ValueError: bad input, nothing written)."""
    from compare.stage import run as compare

    return compare([Path(build) for build in arguments.builds], Path(arguments.site_dir), arguments.align,
                   wait=arguments.wait, progress=not arguments.quiet)
