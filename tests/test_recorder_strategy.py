"""ActivationRecorder under tf.distribute.MirroredStrategy on two logical CPU devices.

TensorFlow's devices are fixed when it initialises, so the cases run in one child process
(`python tests/test_recorder_strategy.py`) that splits the CPU into two logical devices before
anything imports TensorFlow; each test reads its case's result. Every case compares snapshot k
with a fresh forward pass of the model holding step k's weights (tests/recorder_models.py's check, which
tests/test_recorder_any_model.py uses too), for a model built in the strategy's scope and `fit` called outside it
or inside it.
(`steps_per_execution` > 1 is not covered here: Keras 3.15 itself fails under MirroredStrategy with it,
recorder or not, with "You must feed a value for placeholder tensor 'while/body/.../Placeholder_1'".)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

CASES = {  # name: (fit inside strategy.scope(), in_graph, model, compile options)
    "fit outside scope, in-graph": (False, True, "conv", {}),
    "fit outside scope, per-step": (False, False, "conv", {}),
    "fit inside scope, in-graph": (True, True, "conv", {}),
    "fit inside scope, per-step": (True, False, "conv", {}),
    "fit inside scope, in-graph, subclassed with nested names": (True, True, "subclassed", {}),
}


@pytest.fixture(scope="module")
def results():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, __file__], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_mirrored_strategy_records_exactly(results, case):
    assert results["replicas"] == 2
    assert results[case] == "ok", results[case]


def run_case(strategy, inside, in_graph, kind, options):
    """Train with the recorder and a weight log; return "ok" or what failed."""
    import contextlib

    from model.recorder import ActivationRecorder
    from tests import recorder_models as cases

    names = ["block/conv", "head"] if kind == "subclassed" else ["conv", "head"]
    build = cases.subclassed_model if kind == "subclassed" else cases.conv_model
    reference = cases.subclassed_reference if kind == "subclassed" else cases.functional_reference(names)

    def trained(compile_options, callbacks):
        with strategy.scope():
            model = build(**compile_options)
        with strategy.scope() if inside else contextlib.nullcontext():
            cases.fit_arrays(model, callbacks)
        return model

    log = cases.WeightLog()
    if options:  # every step's weights come from the same training with one step per execution
        trained({}, [log])
        recorder = ActivationRecorder(cases.PROBES, names, in_graph=in_graph)
        model = trained(options, [recorder])
    else:
        recorder = ActivationRecorder(cases.PROBES, names, in_graph=in_graph)
        model = trained(options, [recorder, log])
    try:
        cases.check_snapshots(recorder, model, log.weights, reference, list(range(9)))
    except AssertionError as error:
        return str(error).splitlines()[0][:500]
    return "ok"


def main() -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from model.quiet import import_tensorflow_quietly

    tf = import_tensorflow_quietly()
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {"replicas": strategy.num_replicas_in_sync}
    for name, case in CASES.items():
        try:
            results[name] = run_case(strategy, *case)
        except Exception as error:  # reported to the test as the case's result
            results[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:500] if str(error) else ''}"
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
