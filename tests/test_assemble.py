"""Wording the page derives from the run's config and data, without a browser."""

from __future__ import annotations

import shlex
import subprocess

import numpy as np
import pytest

from generate import config_from, parse_arguments
from pipeline.config import Config
from report.page.appendix import rebuild_command
from report.words.dataset_text import subject
from tests.helpers import REPO


def test_rebuild_command_of_the_default_run_is_plain_make_site():
    assert rebuild_command(Config().to_dict()) == "make site"


def test_rebuild_command_reproduces_a_changed_config():
    config = Config(dataset="fashion", steps=580, seed=3, test_every=20, conv_widths=(4, 4, 8, 8, 16, 32))
    command = rebuild_command(config.to_dict())
    assert command.startswith('make site ARGS="')
    arguments = shlex.split(command.split("ARGS=", 1)[1])[0]
    assert config_from(parse_arguments(["site", *shlex.split(arguments)])) == config


def test_subject_names_what_the_probes_show():
    assert subject({"name": "fashion"})["plural"] == "images"
    assert subject({"name": "bundled"})["plural"] == "digits"
    assert subject({"name": "mnist"})["task"] == "read handwritten digits"


HOSTILE_FOLDERS = ["$(touch PWNED)", "`touch PWNED`", "with space", "it's", 'say "hi"', "semi;colon && touch PWNED",
                   "$HOME", "100%", "a#b", "back\\slash", "trailing\\"]


@pytest.mark.parametrize("folder", HOSTILE_FOLDERS)
def test_rebuild_command_survives_hostile_folder_names_in_a_real_shell_and_make(folder, tmp_path):
    """Paste the command into bash (with make in dry-run mode), then run make's recipe line's arguments in bash."""
    config = Config(data_dir=f"/data/{folder}", steps=12)
    command = rebuild_command(config.to_dict())
    assert command.startswith("make site ARGS=")
    dry_run = "make -n -s -C " + shlex.quote(str(REPO)) + " site" + command[len("make site"):]
    printed = subprocess.run(["bash", "-c", dry_run], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    recipe = next(line for line in printed.stdout.splitlines() if "generate.py capture" in line)
    arguments = recipe.split("generate.py capture", 1)[1]
    echoed = subprocess.run(["bash", "-c", f"printf '%s\\0' {arguments}"], cwd=tmp_path, capture_output=True,
                            timeout=60)
    received = echoed.stdout.decode().split("\0")[:-1]
    assert config_from(parse_arguments(["site", *received])) == config
    assert not (tmp_path / "PWNED").exists() and not (REPO / "PWNED").exists()


@pytest.mark.parametrize("top", [0.3, 2.3, 10.0, 51.0, 3.7e12, 1e21])
def test_loss_ticks_fit_any_loss_however_large(top):
    from report.page.explorer_curves import _value_ticks, tick_spacing

    spacing = tick_spacing(top)
    ticks = _value_ticks(top, percent=False)
    assert 2 <= len(ticks) <= 6 and top / spacing <= 5 * (1 + 1e-9)
    mantissa = spacing / 10 ** np.floor(np.log10(spacing))
    assert any(np.isclose(mantissa, round_step) for round_step in (1, 2, 2.5, 5))
    assert [float(tick["label"]) for tick in ticks] == pytest.approx([i * spacing for i in range(len(ticks))])
