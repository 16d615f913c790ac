"""Command line for the stages: capture (train + record), render (animations), site (article), share (one file).

`python generate.py compare BUILD_A BUILD_B [...] --site-dir DIR` compares finished runs on one page
(compare/; `python generate.py compare --help`); `generate.py sweep --seeds 0-4` trains over seeds (sweep/).

Run `python generate.py site` for the whole job (what `make site` does), or one stage:
`python generate.py capture --steps 20 --dataset bundled`. Every config field can be set with its
own flag or `--set field=value`. Everything is checked before any work starts; bad input exits
with status 2 and a one-line `error:`, and leaves every existing file as it was. `share` also writes
the whole article as one self-contained HTML file into share/ (what `make share` does).
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import sys
import tempfile
import traceback
import urllib.parse
from pathlib import Path

STAGES = ("capture", "render", "site", "share")


class OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose errors are one `error:` line (no usage block), with exit status 2."""

    def error(self, message: str):
        """Print the problem in one line and exit with status 2."""
        self.exit(2, f"error: {message} (see `python generate.py --help`)\n")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """Parse the command line."""
    parser = OneLineErrors(description=__doc__.splitlines()[0],
                           epilog="`generate.py compare BUILD_A BUILD_B [...] --site-dir DIR` compares finished runs "
                                  "side by side (see `generate.py compare --help`).")
    parser.add_argument("stage", nargs="?", default="site", choices=STAGES,
                        help="run up to this stage (default: site, the whole job; share: the site and then the "
                             "whole report as one HTML file)")
    parser.add_argument("--build-dir", default="build", help="where capture.h5, model.keras and assets go")
    parser.add_argument("--site-dir", default="site",
                        help="where the article is written (replaced whole: new, empty or written by this tool)")
    parser.add_argument("--share-dir", default="share",
                        help="where `share` writes the report as one HTML file (replaced whole: new, empty or "
                             "written by this tool)")
    parser.add_argument("--public-url", help="the published site's address (https://...): the one-file report "
                                             "links its videos and model there, and og:image becomes absolute")
    parser.add_argument("--dataset", help="auto (default), mnist, bundled, fashion (= fashion_mnist), cifar10 or "
                                          "cifar100 (keras' loaders)")
    parser.add_argument("--data-dir", help="folder of MNIST-format idx files to train on")
    parser.add_argument("--data", metavar="FILE.npz", help="your own images: x_train, y_train, x_test, y_test "
                                                           "(optional class_names)")
    parser.add_argument("--model", metavar="FILE.py:FUNCTION|FILE.keras",
                        help="your own model: a function (input_shape, num_classes) -> compiled keras.Model, or a "
                             "saved compiled .keras file (default: the article's CNN)")
    parser.add_argument("--layers", help="recorded layers: names (a,b or outer/inner), conv (every Conv2D, the "
                                         "default) and/or dense (every Dense)")
    parser.add_argument("--probes", help="test-set indices of the pictured images, e.g. 3,17,42 (default: the "
                                         "first test image of each class, up to 10)")
    parser.add_argument("--steps", type=int, help="training steps (default 290)")
    parser.add_argument("--batch-size", type=int, help="images per step (default 1024)")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--every", type=int, dest="capture_every", help="record every k-th step (default 1)")
    parser.add_argument("--strategy", help="none (default), mirrored (all local GPUs or devices), multiworker "
                                           "(every machine in TF_CONFIG) or auto (mirrored when more than one "
                                           "GPU is visible)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="set any config field (value parsed as JSON, else taken as a string)")
    parser.add_argument("--gif-budget-mb", type=float, default=None,
                        help="also write a GIF preview per layer into build/assets, at most this many MB each "
                             "(for READMEs and chats; the page itself needs none)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted capture from its last checkpoint (build/capture.partial), "
                             "with the same flags as that run")
    parser.add_argument("--sweep-dir", default="build-seeds", help="`site`: the article says how its claims fare "
                        "in this folder's sweep.json (`generate.py sweep`) when its config is this run's but the seed")
    parser.add_argument("--compare-dir", default="site-compare", help="`site`: the article links this folder's "
                        "comparison page (`generate.py compare`, `make compare`) when it compares this run with others")
    parser.add_argument("--languages", default="en,zh", help="`site`: the article's editions, comma-separated: "
                        "en (index.html) and zh (zh/index.html, Simplified Chinese); en alone for English only")
    parser.add_argument("--wait", action="store_true",
                        help="when another run is using the build folder, wait for it instead of stopping")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser.parse_args(argv)


def config_from(arguments: argparse.Namespace):
    """Build the frozen Config from flags; unknown fields or bad values raise ValueError."""
    from pipeline.config import Config, model_file

    overrides = {}
    for name in ("dataset", "data_dir", "data", "model", "steps", "batch_size", "seed", "capture_every", "strategy"):
        value = getattr(arguments, name)
        if value is not None:
            overrides[name] = value
    if arguments.layers is not None:
        overrides["layers"] = tuple(part.strip() for part in arguments.layers.split(","))
    if arguments.probes is not None:
        overrides["probes"] = parse_indices(arguments.probes)
    for assignment in arguments.set:
        name, separator, text = assignment.partition("=")
        if not separator:
            raise ValueError(f"--set {assignment!r} must look like FIELD=VALUE")
        try:
            overrides[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            overrides[name.strip()] = text
    for name in ("model_sha256", "data_sha256"):
        overrides.pop(name, None)  # always the file's own hash, never a typed one
    config = Config.from_overrides(overrides)
    hashes = {}
    if config.model is not None:
        hashes["model_sha256"] = input_file_sha256("--model", model_file(config.model))
    if config.data is not None:
        hashes["data_sha256"] = input_file_sha256("--data", Path(config.data))
    return Config.from_overrides({**overrides, **hashes}) if hashes else config


def parse_indices(text: str) -> tuple[int, ...]:
    """Parse --probes 3,17,42 into integers, refusing anything else."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"--probes {text!r} must be test-set indices separated by commas, e.g. 3,17,42") from None


def input_file_sha256(flag: str, path: Path) -> str:
    """Return the sha256 of an input file's bytes, or raise ValueError when it is not a readable file."""
    from pipeline.files import file_sha256

    if not path.is_file():
        raise ValueError(f"{flag} {path}: no such file; check the path")
    try:
        return file_sha256(path)
    except OSError as error:
        raise ValueError(f"{flag} {path} cannot be read ({error.strerror}); fix its permissions") from None


def languages_from(text: str) -> tuple[str, ...]:
    """Parse --languages en,zh into editions, English first; refuse an unknown one or a list without English."""
    from report.voice import LOCALES, SOURCE

    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in LOCALES]
    if unknown or SOURCE not in chosen:
        raise ValueError(f"--languages {text!r} must list editions from {', '.join(LOCALES)} including {SOURCE} "
                         f"(the site's index.html), e.g. --languages en,zh")
    return tuple(sorted(set(chosen), key=list(LOCALES).index))


def render_settings_from(arguments: argparse.Namespace):
    """Return the render settings, refusing a GIF budget that is not a positive number of megabytes."""
    from render.encode import RenderSettings

    budget = arguments.gif_budget_mb
    if budget is None:
        return RenderSettings()
    if not (math.isfinite(budget) and budget > 0):
        raise ValueError(f"--gif-budget-mb must be a positive number of megabytes, got {budget:g}")
    return RenderSettings(gif_budget_bytes=max(1, int(budget * 1_000_000)))


def public_url_from(text: str | None) -> str | None:
    """Return the published site's address as a folder URL (ending in "/"), refusing anything but http(s)://host/..."""
    if text is None:
        return None
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or \
            any(character.isspace() or character in '"<>' for character in text):
        raise ValueError(f"--public-url {text!r} must be the published site's address, e.g. "
                         f"https://example.org/learning-to-see/")
    return text if text.endswith("/") else text + "/"


def run(arguments: argparse.Namespace, layout, held: list) -> None:
    """Check every input and output folder, then run the stages up to the one asked for (`held`: the preparation)."""
    from pipeline.folders import prepare

    config = config_from(arguments)  # bad flags fail here, before anything slow
    settings = render_settings_from(arguments)
    public_url = public_url_from(arguments.public_url)
    editions = languages_from(arguments.languages)
    if config.strategy == "multiworker":
        from model.distribute import worker_role

        role = worker_role()  # a missing or malformed TF_CONFIG fails here
        if arguments.resume:
            raise ValueError("--resume does not work with --strategy multiworker: every worker would need the "
                             "chief's checkpoint; start every worker again without --resume")
        if not role.chief:  # trains in step with the chief, which writes everything
            import model.stage

            model.stage.train_as_worker(config, role, progress=not arguments.quiet)
            return
    held.append(prepare(layout, writes_site=arguments.stage in ("site", "share"), wait=arguments.wait,
                        writes_share=arguments.stage == "share"))
    import model.stage  # imports TensorFlow only if it has to train

    capture = model.stage.run(config, layout, progress=not arguments.quiet, resume=arguments.resume)
    if arguments.stage == "capture":
        return
    import render.stage

    manifest = render.stage.run(capture, layout, settings, progress=not arguments.quiet)
    if arguments.stage == "render":
        return
    import report.stage

    report.stage.run(capture, manifest, layout, public_url, Path(arguments.sweep_dir), Path(arguments.compare_dir),
                     editions)
    if arguments.stage == "share":
        import report.share

        report.share.run(capture, manifest, layout, public_url, Path(arguments.sweep_dir))


def one_line(error: BaseException) -> str:
    """Return an error's message on one line."""
    return " ".join(str(error).split()) or type(error).__name__


def log_traceback(layout, held: list) -> Path:
    """Write the traceback to build/error.log when the build folder was there before, else to a temporary file."""
    text = traceback.format_exc()
    if held and not held[0].created:
        try:
            layout.error_log.write_text(text)
            return layout.error_log
        except OSError:
            pass
    with tempfile.NamedTemporaryFile("w", prefix="generate-error-", suffix=".log", delete=False) as stream:
        stream.write(text)
    return Path(stream.name)


def os_error_line(error: OSError) -> str:
    """Return one line saying which path failed, why, and the fix."""
    path = error.filename or "an output file"
    if error.errno == errno.ENOSPC:
        return f"no space left on the device of {path}: free some space, then run again"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{error.strerror} for {path}: fix its permissions (or pass another folder), then run again"
    return f"{error.strerror or one_line(error)}: {path}"


def subcommand(name: str, argv: list[str]) -> int:
    """`generate.py compare` (compare/cli.py) or `sweep` (sweep/cli.py); errors as main's, in one line."""
    if name == "compare":
        from compare.cli import parse_arguments as parse
        from compare.cli import run as go
    else:
        from sweep.cli import run as go

        def parse(rest, parser_class):
            from sweep.cli import parse_arguments as sweep_arguments
            return sweep_arguments(rest, parser_class, lambda flags: parse_arguments(["capture", *flags]), config_from)
    arguments = parse(argv, OneLineErrors)
    try:
        go(arguments)
        return 0
    except ValueError as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"error: interrupted; the {name} outputs finished so far were kept", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"error: {os_error_line(error)}", file=sys.stderr)
    except Exception as error:
        print(f"error: unexpected {type(error).__name__}: {one_line(error)[:300]} (traceback in "
              f"{log_traceback(None, [])}; please report it)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the exit status (2 for any error, each reported in one line)."""
    from pipeline.layout import Layout

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["compare"], ["sweep"]):
        return subcommand(argv[0], argv[1:])
    arguments = parse_arguments(argv)
    layout = Layout(Path(arguments.build_dir), Path(arguments.site_dir), Path(arguments.share_dir))
    held = []  # the build folder's preparation (its lock) once taken
    status = 2
    try:
        run(arguments, layout, held)
        status = 0
    except ValueError as error:  # DataError, CaptureError, FolderError and config errors all derive from it
        print(f"error: {one_line(error)}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted; the outputs of the previous run are unchanged (`--resume` continues the "
              "capture from its last flushed chunk)", file=sys.stderr)
        status = 130
    except MemoryError:
        print("error: out of memory: record fewer snapshots (--every K) or fewer --steps", file=sys.stderr)
    except OSError as error:  # a full disk, a permission taken away mid-run
        print(f"error: {os_error_line(error)}", file=sys.stderr)
    except Exception as error:  # a bug, not bad input: keep the traceback, say where
        print(f"error: unexpected {type(error).__name__}: {one_line(error)[:300]} (traceback in "
              f"{log_traceback(layout, held)}; please report it)", file=sys.stderr)
    finally:
        if held:
            if status != 0:
                held[0].undo_if_unused()  # a refused run leaves no new build folder behind (still locked here)
            held[0].lock.close()  # main may run again in this process (tests): the lock goes with the run
    return status

if __name__ == "__main__":
    sys.exit(main())
