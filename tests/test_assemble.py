"""Wording the page derives from the run's config and data, without a browser."""

from __future__ import annotations

import shlex

from generate import config_from, parse_arguments
from model.config import Config
from report.assemble import rebuild_command, subject


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
