"""`generate.py sweep`: two short seeds into their own build folders, sweep.json checked against each archive, and
the article's "Across seeds" section, present only with a sweep of its own config. Everything runs in process."""

from __future__ import annotations

import json
import shutil

import pytest

from capture.archive import Capture
from report.numbers.analysis import analyse
from tests.helpers import assert_refused, page_text, run_in_process

FLAGS = ["--quiet", "--dataset", "bundled", "--steps", "8", "--batch-size", "64", "--set", "test_every=4",
         "--set", "analysis_images=50"]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    """Seeds 0 and 1 of one short run, swept into a fresh folder: the folder."""
    folder = tmp_path_factory.mktemp("sweep") / "seeds"
    result = run_in_process("sweep", "--seeds", "0-1", *FLAGS, "--sweep-dir", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


def steps_words(values: list[int]) -> str:
    """The page's words for a range of steps."""
    low, high = min(values), max(values)
    return f"at step {low:,}" if low == high else f"between steps {low:,} and {high:,}"


def test_sweep_json_matches_every_archive(sweep_dir):
    sweep = json.loads((sweep_dir / "sweep.json").read_text())
    assert sweep["seeds"] == [0, 1] and sweep["seconds"] > 0 and "seed" not in sweep["config"]
    assert sweep["config"]["steps"] == 8 and sweep["config"]["dataset"] == "bundled"
    for seed, entry in zip((0, 1), sweep["runs"]):
        capture = Capture.load(sweep_dir / f"seed-{seed}" / "capture.h5")
        findings = analyse(capture)
        assert entry["seed"] == seed and entry["config"] == capture.config and entry["seconds"] > 0
        assert entry["plateau_end"] == findings.run.plateau.steps
        assert [(layer["name"], layer["settled_step"], layer["settle_step_ci"]) for layer in entry["layers"]] == \
            [(layer.name, layer.settling.settled_step, list(layer.settle_step_ci)) for layer in findings.layers]
        assert entry["final_test_accuracy"] == pytest.approx(capture.meta["final_test_accuracy"])
        assert entry["verdicts"] == {name: getattr(findings.run, name).verdict
                                     for name in ("conclusion_1", "conclusion_2", "conclusion_3")}


def test_sweep_again_reuses_every_seed(sweep_dir):
    result = run_in_process("sweep", "--seeds", "0-1", *FLAGS, "--sweep-dir", str(sweep_dir))
    assert result.returncode == 0, result.stderr
    assert all(run["reused"] for run in json.loads((sweep_dir / "sweep.json").read_text())["runs"])


def test_page_states_the_seed_counts_and_ranges(sweep_dir, tmp_path):
    site = tmp_path / "site"
    result = run_in_process("site", *FLAGS, "--build-dir", str(sweep_dir / "seed-0"), "--site-dir", str(site),
                            "--sweep-dir", str(sweep_dir))
    assert result.returncode == 0, result.stderr
    text = page_text(site / "index.html")
    runs = json.loads((sweep_dir / "sweep.json").read_text())["runs"]
    assert "Across seeds" in text and "seeds 0 to 1 (2 runs, this one among them;" in text
    plateaus = [run["plateau_end"] for run in runs if run["plateau_end"] > 0]
    if plateaus:
        assert f"The loss leaves its plateau {steps_words(plateaus)} in {len(plateaus)} of 2 seeds" in text
    for index, layer in enumerate(runs[0]["layers"]):
        settled = [run["layers"][index]["settled_step"] for run in runs if run["layers"][index]["settled_step"]
                   is not None]
        if settled:
            assert f"{layer['name']} settles {steps_words(settled)} in {len(settled)} of 2 seeds" in text
    for number in (1, 2, 3):
        verdicts = [run["verdicts"][f"conclusion_{number}"] for run in runs]
        assert (f"Conclusion {number} holds in {verdicts.count('holds')} of 2 seeds, partly holds in "
                f"{verdicts.count('partly holds')} and does not hold in {verdicts.count('does not hold')}") in text

    # A sweep of another configuration says nothing: the page is the one built without any sweep.
    other = tmp_path / "other"
    other.mkdir()
    sweep = json.loads((sweep_dir / "sweep.json").read_text())
    sweep["config"]["steps"] = 9
    (other / "sweep.json").write_text(json.dumps(sweep))
    pages = {}
    for name, folder in (("other", other), ("none", tmp_path / "absent")):
        result = run_in_process("site", *FLAGS, "--build-dir", str(sweep_dir / "seed-0"),
                                "--site-dir", str(tmp_path / f"site-{name}"), "--sweep-dir", str(folder))
        assert result.returncode == 0, result.stderr
        pages[name] = (tmp_path / f"site-{name}" / "index.html").read_bytes()
    assert pages["other"] == pages["none"] and b'id="seeds"' not in pages["none"]


@pytest.mark.parametrize(("arguments", "words"), [
    (["--seeds", "3-1"], ["--seeds", "backwards"]),
    (["--seeds", "one"], ["--seeds", "range"]),
    (["--seeds", "0,0"], ["--seeds", "twice"]),
    (["--seeds", "0-1", "--seed", "3"], ["--seed", "sweep"]),
    (["--seeds", "0-1", "--build-dir", "elsewhere"], ["--build-dir", "sweep"]),
    (["--seeds", "0-1", "--steps", "-3"], ["steps"]),
])
def test_bad_input_is_refused_and_writes_nothing(tmp_path, arguments, words):
    folder = tmp_path / "seeds"
    result = run_in_process("sweep", *FLAGS, *arguments, "--sweep-dir", str(folder))
    assert_refused(result, *words)
    assert not folder.exists()


def test_a_folder_of_other_files_is_refused(tmp_path):
    folder = tmp_path / "seeds"
    (folder / "seed-0").mkdir(parents=True)
    (folder / "seed-0" / "notes.txt").write_text("mine")
    result = run_in_process("sweep", *FLAGS, "--seeds", "0", "--sweep-dir", str(folder))
    assert_refused(result, "--sweep-dir", "notes.txt")
    assert sorted(path.name for path in folder.rglob("*")) == ["notes.txt", "seed-0"]
    shutil.rmtree(folder)
