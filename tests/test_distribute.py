"""Training under tf.distribute: MirroredStrategy on 2 logical CPUs, MultiWorkerMirroredStrategy on 2 local workers.

Each distributed run is a real generate.py in its own process (logical devices and TF_CONFIG must be set before
TensorFlow starts); the two workers are two processes on 127.0.0.1. The one-device run they are compared with
and the fresh forward passes run in the test process (generate.main; TensorFlow imported once). Truths: the last
snapshot equals a fresh forward pass of the saved model, and the per-step losses and test points equal those of
the same run on one device (the global batch is the same images in the same order, summed in another order).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import REPO, run_in_process

# The analysis set's replay on 20 images with 10 resamples: its path runs under each strategy, the statistics
# (which the default's 1,000 images and 200 resamples make the longest part of such a short run) are not checked.
SHORT = ["--quiet", "--dataset", "bundled", "--steps", "4", "--batch-size", "64", "--set", "test_every=2",
         "--set", "test_subset=100", "--set", "analysis_images=20", "--set", "bootstrap=10"]

TWO_CPUS = textwrap.dedent("""
    import sys
    from model.quiet import import_tensorflow_quietly
    import_tensorflow_quietly()
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import generate
    sys.exit(generate.main(sys.argv[1:]))
""")


def python(code: str, *arguments: str, env: dict | None = None, wait: bool = True):
    command = [sys.executable, "-c", code, *arguments]
    options = dict(cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, text=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(command, timeout=600, **options) if wait else subprocess.Popen(command, **options)


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for probe in sockets:
        probe.bind(("127.0.0.1", 0))
    ports = [probe.getsockname()[1] for probe in sockets]
    for probe in sockets:
        probe.close()
    return ports


GENERATE = "import sys, generate; sys.exit(generate.main(sys.argv[1:]))"


def two_workers(stage: str, builds: list[Path], *extra: str, worker_env: dict | None = None):
    """Run generate.py `stage` as worker 0 (the chief) and worker 1 of a local cluster; return both results."""
    ports = free_ports(2)
    processes = [python(GENERATE, stage, *SHORT, "--strategy", "multiworker", "--build-dir", str(build),
                        "--site-dir", str(build.parent / f"site{index}"), *extra, wait=False,
                        env={"TF_CONFIG": tf_config(ports, index), **((worker_env or {}) if index else {})})
                 for index, build in enumerate(builds)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def losses(build: Path) -> dict:
    from capture.archive import Capture

    capture = Capture.load(build / "capture.h5")
    return {"train_loss": capture.train_loss, "test_steps": capture.test_steps, "test_loss": capture.test_loss,
            "test_accuracy": capture.test_accuracy}


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    build = tmp_path_factory.mktemp("one-device") / "build"
    result = run_in_process("capture", *SHORT, "--build-dir", str(build))  # one device: no process of its own
    assert result.returncode == 0, result.stderr
    return losses(build)


def check_same_training_as_one_device(build: Path, one_device: dict) -> None:
    import numpy as np

    run = losses(build)
    assert np.array_equal(run["test_steps"], one_device["test_steps"])
    for name in ("train_loss", "test_loss", "test_accuracy"):
        np.testing.assert_allclose(run[name], one_device[name], atol=1e-4, err_msg=name)


def fresh_pass(build: Path) -> dict:
    """The run's steps and replicas, and how far its last snapshot is from a fresh forward pass of model.keras
    (here, in this process: the saved model is the same whichever process loads it)."""
    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras
    import numpy as np

    from capture.archive import Capture
    from model.train import to_inputs

    capture = Capture.load(build / "capture.h5")
    model = keras.models.load_model(build / "model.keras")
    names = capture.layer_names
    extractor = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    fresh = extractor.predict(to_inputs(capture.probe_images), verbose=0)
    last = {name: capture.activations[name][-1].astype(np.float32) for name in names}
    return {"steps": capture.steps.tolist(), "replicas": capture.meta["replicas"],
            "max_error": max(float(np.abs(last[name] - output).max()) for name, output in zip(names, fresh)),
            "moved": max(float(np.abs(last[name] - capture.activations[name][0].astype(np.float32)).max())
                         for name in names)}


def check_against_fresh_pass(build: Path, replicas: int) -> None:
    facts = fresh_pass(build)
    assert facts["steps"] == [0, 1, 2, 3, 4] and facts["replicas"] == replicas
    assert facts["moved"] > 20 * facts["max_error"], facts  # the comparison would tell a wrong step apart
    assert facts["max_error"] < 2e-3, facts


def test_mirrored_on_two_logical_cpus_records_what_a_fresh_pass_computes(tmp_path, one_device):
    build = tmp_path / "build"
    result = python(TWO_CPUS, "capture", *SHORT, "--strategy", "mirrored", "--build-dir", str(build))
    assert result.returncode == 0, result.stderr
    check_against_fresh_pass(build, replicas=2)
    check_same_training_as_one_device(build, one_device)


def test_two_workers_train_together_and_only_the_chief_writes(tmp_path, one_device):
    chief, worker = tmp_path / "chief" / "build", tmp_path / "worker" / "build"
    results = two_workers("site", [chief, worker])
    assert [result.returncode for result in results] == [0, 0], results[0].stderr + results[1].stderr
    check_against_fresh_pass(chief, replicas=2)
    check_same_training_as_one_device(chief, one_device)
    assert (tmp_path / "chief" / "site0" / "index.html").is_file()
    assert not worker.exists() and not (tmp_path / "worker" / "site1").exists()  # the worker wrote nothing
    assert "worker 1 of 2 finished" in results[1].stderr


def test_a_lost_worker_stops_the_chief_in_one_line_and_no_site_is_written(tmp_path):
    chief, worker = tmp_path / "chief" / "build", tmp_path / "worker" / "build"
    # The worker is killed (SIGKILL) right after its first 64-step chunk, so the chief is mid-run (of 80 steps).
    results = two_workers("site", [chief, worker], "--steps", "80", worker_env={
        "GENERATE_CRASH_AT": "capture-chunk-flushed", "TMPDIR": str(tmp_path)})
    assert results[1].returncode == -9
    assert results[0].returncode == 2, results[0].stderr
    last = results[0].stderr.strip().splitlines()[-1]
    assert last.startswith("error: training stopped: worker 1 of the cluster stopped"), results[0].stderr
    assert not (chief / "capture.h5").exists() and not (chief / "model.keras").exists()
    assert not (tmp_path / "chief" / "site0").exists()


@pytest.mark.parametrize("tf_config_value, message", [
    (None, "needs the TF_CONFIG environment variable"),
    ("{not json", "TF_CONFIG is not a cluster and task description"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}', "is not one of"),
])
def test_a_missing_or_wrong_tf_config_is_refused_before_anything_is_written(tmp_path, tf_config_value, message):
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    env = {**env, "PYTHONPATH": str(REPO), **({"TF_CONFIG": tf_config_value} if tf_config_value else {})}
    result = subprocess.run([sys.executable, "-c", GENERATE, "capture", *SHORT, "--strategy", "multiworker",
                             "--build-dir", str(tmp_path / "b")], cwd=REPO, env=env, text=True,
                            capture_output=True, timeout=300)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "b").exists()


def test_resume_is_refused_under_several_workers(tmp_path):
    result = python(GENERATE, "capture", *SHORT, "--strategy", "multiworker", "--resume", "--build-dir",
                    str(tmp_path / "b"), env={"TF_CONFIG": tf_config([1, 2], 0)})
    assert result.returncode == 2 and "--resume does not work with --strategy multiworker" in result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("name", ["mirrored", "multiworker", "auto"])
def test_strategy_is_a_validated_config_field(name):
    from pipeline.config import Config

    assert Config(strategy=name).strategy == name
    with pytest.raises(ValueError, match="strategy"):
        Config(strategy="tpu-pod")
