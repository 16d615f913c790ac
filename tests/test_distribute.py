"""Training under tf.distribute: MirroredStrategy on 2 logical CPUs; several machines refused with the reason.

Each run is a real `model.stage.run` / generate.py in its own process (logical devices and TF_CONFIG must be
set before TensorFlow starts). Truth: the last snapshot equals a fresh forward pass of the saved model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHORT = ["--quiet", "--dataset", "bundled", "--steps", "4", "--batch-size", "64", "--set", "test_every=2",
         "--set", "test_subset=100"]

FRESH_PASS = textwrap.dedent("""
    import json, sys
    from model.quiet import import_tensorflow_quietly
    import_tensorflow_quietly()
    import keras, numpy as np
    from model.capture import Capture
    from model.train import to_inputs
    capture = Capture.load(sys.argv[1] + "/capture.h5")
    model = keras.models.load_model(sys.argv[1] + "/model.keras")
    names = capture.layer_names
    extractor = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    fresh = extractor.predict(to_inputs(capture.probe_images), verbose=0)
    print(json.dumps({"steps": capture.steps.tolist(), "replicas": capture.meta["replicas"],
                      "max_error": max(float(np.abs(capture.activations[n][-1].astype(np.float32) - f).max())
                                       for n, f in zip(names, fresh)),
                      "moved": max(float(np.abs(capture.activations[n][-1].astype(np.float32)
                                                - capture.activations[n][0].astype(np.float32)).max())
                                   for n in names)}))
""")

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


def check_against_fresh_pass(build: Path, replicas: int) -> None:
    result = python(FRESH_PASS, str(build))
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["steps"] == [0, 1, 2, 3, 4] and facts["replicas"] == replicas
    assert facts["moved"] > 20 * facts["max_error"], facts  # the comparison would tell a wrong step apart
    assert facts["max_error"] < 2e-3, facts


def test_mirrored_on_two_logical_cpus_records_what_a_fresh_pass_computes(tmp_path):
    build = tmp_path / "build"
    result = python(TWO_CPUS, "capture", *SHORT, "--strategy", "mirrored", "--build-dir", str(build))
    assert result.returncode == 0, result.stderr
    check_against_fresh_pass(build, replicas=2)


def test_several_machines_are_refused_with_the_reason(tmp_path):
    result = python("import sys, generate; sys.exit(generate.main(sys.argv[1:]))", "capture", *SHORT,
                    "--strategy", "multiworker", "--build-dir", str(tmp_path / "b"))
    assert result.returncode == 2 and "keras-team/keras#20585" in result.stderr, result.stderr
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("name", ["mirrored", "auto"])
def test_strategy_is_a_validated_config_field(name):
    from model.config import Config

    assert Config(strategy=name).strategy == name
    with pytest.raises(ValueError, match="strategy"):
        Config(strategy="tpu-pod")
