"""ActivationRecorder on models other than the article's: each case of issue 12, against real training.

Every check trains a tiny model on random data (the numbers mean nothing; synthetic on purpose) with
the recorder, logs the weights after every step in a second callback, and compares snapshot k with
a fresh forward pass (`training=False`) of the model holding step k's weights. Consecutive steps
differ by far more than the tolerance, so a snapshot labelled with the wrong step fails. The models, data and
checks that tests/test_recorder_strategy.py uses too are in tests/recorder_models.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from model.quiet import import_tensorflow_quietly

tf = import_tensorflow_quietly()

import keras  # after TensorFlow is imported quietly

from model.recorder import ActivationRecorder, RecorderError, RecorderWarning
from tests.recorder_models import (
    EPOCHS,
    LOSS,
    PROBES,
    STEPS_PER_EPOCH,
    V,
    WeightLog,
    X,
    Y,
    check_snapshots,
    compile_model,
    conv_model,
    final_weights_without_recorder,
    fit_arrays,
    functional_reference,
    subclassed_model,
    subclassed_reference,
)


@pytest.mark.parametrize("in_graph", [True, False])
def test_a_single_layer_name(in_graph):
    model, log = conv_model(), WeightLog()
    recorder = ActivationRecorder(PROBES, "conv", in_graph=in_graph)
    fit_arrays(model, [recorder, log])
    steps, activations = recorder.result()
    assert list(activations) == ["conv"] and activations["conv"].shape == (9, 3, 6, 6, 4)
    check_snapshots(recorder, model, log.weights, functional_reference(["conv"]), list(range(9)))
    # the recorder does not change training
    same = final_weights_without_recorder(conv_model, fit_arrays)
    for with_recorder, without in zip(model.get_weights(), same):
        np.testing.assert_array_equal(with_recorder, without)


def test_steps_per_execution_records_inside_the_compiled_step():
    log = WeightLog()  # the same training with one step per execution: every step's weights
    fit_arrays(conv_model(), [log])
    model = conv_model(steps_per_execution=3)  # 4 steps an epoch: executions of 3 and 1 steps
    recorder = ActivationRecorder(PROBES, ["conv", "head"], every=2)
    fit_arrays(model, [recorder])
    check_snapshots(recorder, model, log.weights, functional_reference(["conv", "head"]), [0, 2, 4, 6, 8])
    np.testing.assert_allclose(model.get_weights()[0], log.weights[-1][0], atol=1e-6)  # the final model
    with pytest.raises(RecorderError, match=r"^ActivationRecorder: steps_per_execution=3 .*in_graph=True"):
        fit_arrays(conv_model(steps_per_execution=3), [ActivationRecorder(PROBES, "conv", in_graph=False)])


def unknown_length():
    dataset = tf.data.Dataset.from_tensor_slices((X, Y)).filter(lambda x, y: True).batch(16)
    assert int(dataset.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    return dataset


@pytest.mark.parametrize("every", [1, 3])
def test_unknown_length_input_without_total_steps(every):
    model, log = conv_model(), WeightLog()
    recorder = ActivationRecorder(PROBES, ["conv"], every=every)
    model.fit(unknown_length(), epochs=EPOCHS, verbose=0, callbacks=[recorder, log])
    assert not recorder.in_graph  # the plan needs the length: the exact per-step path
    steps = list(range(9)) if every == 1 else [0, 3, 6, 8]  # the final step, off the stride, is kept
    check_snapshots(recorder, model, log.weights, functional_reference(["conv"]), steps)


def test_unknown_length_refusals():
    with pytest.raises(RecorderError, match=r"^ActivationRecorder: the number of steps is unknown .*total_steps="):
        conv_model().fit(unknown_length(), epochs=1, verbose=0, callbacks=[ActivationRecorder(PROBES, "conv",
                                                                                               in_graph=True)])
    with pytest.raises(RecorderError, match="the number of steps is unknown"):
        conv_model(steps_per_execution=2).fit(unknown_length(), epochs=1, verbose=0,
                                              callbacks=[ActivationRecorder(PROBES, "conv")])
    # with an estimate it records in-graph, the final state at its real step
    model, log = conv_model(), WeightLog()
    recorder = ActivationRecorder(PROBES, ["conv"], total_steps=6, every=2, in_graph=True)
    model.fit(unknown_length(), epochs=EPOCHS, verbose=0, callbacks=[recorder, log])
    check_snapshots(recorder, model, log.weights, functional_reference(["conv"]), [0, 2, 4, 6, 8])


@pytest.mark.parametrize("in_graph", [True, False])
@pytest.mark.parametrize(("total_steps", "every", "steps"), [(5, 1, [0, 1, 2, 3, 4, 5, 8]),  # plan shorter
                                                             (2, 2, [0, 2, 8]),
                                                             (1, 1, [0, 1, 8]),
                                                             (12, 5, [0, 5, 8])])  # plan longer than the run
def test_total_steps_other_than_the_run(in_graph, total_steps, every, steps):
    """Past total_steps it keeps training, records the final state, and says once which stride steps it left out."""
    model, log = conv_model(), WeightLog()
    recorder = ActivationRecorder(PROBES, ["conv", "head"], total_steps=total_steps, every=every, in_graph=in_graph)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_arrays(model, [recorder, log])
    check_snapshots(recorder, model, log.weights, functional_reference(["conv", "head"]), steps)
    last = STEPS_PER_EPOCH * EPOCHS
    dropped = sorted(set(range(0, last + 1, every)) - set(steps))  # the stride's steps the fit ran but not kept
    said = [str(warning.message) for warning in caught if issubclass(warning.category, RecorderWarning)]
    if not dropped:
        assert said == []
        return
    assert len(said) == 1, said
    listed = ", ".join(map(str, dropped)) if len(dropped) <= 4 else \
        f"{dropped[0]}, {dropped[1]}, ..., {dropped[-1]} ({len(dropped)} steps)"
    assert f"past total_steps={total_steps}: steps {listed} were not recorded (the final step {last} was)" in said[0]


def two_input_model():
    keras.utils.set_random_seed(7)
    image, vector = keras.Input((8, 8, 1), name="image"), keras.Input((5,), name="vector")
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, activation="tanh", name="conv")(image))
    x = keras.layers.Dense(4, activation="tanh", name="mix")(keras.layers.Concatenate()([x, vector]))
    return compile_model(keras.Model([image, vector], keras.layers.Dense(3, name="head")(x)))


@pytest.mark.parametrize("in_graph", [True, False])
@pytest.mark.parametrize("as_dict", [False, True])
def test_two_inputs_with_probes_as_list_or_dict(in_graph, as_dict):
    probes = {"image": X[:3], "vector": V[:3]} if as_dict else [X[:3], V[:3]]
    model, log = two_input_model(), WeightLog()
    recorder = ActivationRecorder(probes, ["conv", "mix"], in_graph=in_graph)
    model.fit([X, V], Y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=[recorder, log])
    check_snapshots(recorder, model, log.weights, functional_reference(["conv", "mix"], [X[:3], V[:3]]),
                    list(range(9)))


@pytest.mark.parametrize(("in_graph", "options"), [(True, {}), (False, {}), (True, {"jit_compile": True}),
                                                   (True, {"steps_per_execution": 2})])
def test_subclassed_model_and_a_layer_inside_a_custom_layer(in_graph, options):
    model, log = subclassed_model(), WeightLog()
    recorder = ActivationRecorder(PROBES, ["block/conv", "block", "head"], in_graph=in_graph)
    fit_arrays(model, [recorder, log])
    if options:  # the same training, with the recorder in the compiled step under other options
        other = subclassed_model(**options)
        again = ActivationRecorder(PROBES, ["block/conv", "block", "head"], in_graph=in_graph)
        fit_arrays(other, [again])
        for name, values in recorder.result()[1].items():
            np.testing.assert_allclose(again.result()[1][name].astype(np.float32), values.astype(np.float32),
                                       atol=2e-3, err_msg=name)
    check_snapshots(recorder, model, log.weights, subclassed_reference, list(range(9)))
    assert "call" not in vars(model.block.conv), "the layer hook stays after training"
    if not options:  # the hooks do not change training
        for with_recorder, without in zip(model.get_weights(), final_weights_without_recorder(subclassed_model,
                                                                                             fit_arrays)):
            np.testing.assert_array_equal(with_recorder, without)


def nested_model():
    keras.utils.set_random_seed(7)
    inner_in = keras.Input((8, 8, 1))
    inner = keras.layers.Conv2D(4, 3, activation="tanh", name="conv")(inner_in)
    block = keras.Model(inner_in, keras.layers.BatchNormalization(name="norm")(inner), name="block1")
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(block(inputs))
    return compile_model(keras.Model(inputs, keras.layers.Dense(3, name="head")(x)))


@pytest.mark.parametrize("in_graph", [True, False])
def test_nested_layer_names_inside_a_sub_model(in_graph):
    model, log = nested_model(), WeightLog()
    recorder = ActivationRecorder(PROBES, ["block1/conv", "block1/norm", "head"], in_graph=in_graph)
    fit_arrays(model, [recorder, log])

    def reference(model):
        block = model.get_layer("block1")
        inner = keras.Model(block.inputs, [block.get_layer("conv").output, block.get_layer("norm").output])
        conv, norm = inner(PROBES, training=False)
        return {"block1/conv": conv, "block1/norm": norm, "head": model(PROBES, training=False)}

    check_snapshots(recorder, model, log.weights, reference, list(range(9)))


def test_repeated_fits_custom_train_step_and_sequence_outputs():
    class OwnStep(keras.Model):  # a functional model with its own train step
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                loss = LOSS(y, self(x, training=True))
            self.optimizer.apply(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
            return {"loss": loss}

    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8))  # rows as a sequence: Dense gives 3-D (N, 8, 6) outputs
    x = keras.layers.Dense(6, activation="tanh", name="seq")(inputs)
    x = keras.layers.Dropout(0.2)(keras.layers.Flatten()(x))
    model = compile_model(OwnStep(inputs, keras.layers.Dense(3, name="head")(x)), jit_compile=True)
    for _ in range(2):  # each fit starts at step 0 again
        log = WeightLog()
        recorder = ActivationRecorder(X[:3, :, :, 0], ["seq", "head"], every=3)
        model.fit(X[..., 0], Y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0, callbacks=[recorder, log])
        check_snapshots(recorder, model, log.weights, functional_reference(["seq", "head"], X[:3, :, :, 0]),
                        [0, 3, 6, 8])


@pytest.mark.parametrize("in_graph", [True, False])
def test_sequential_built_by_fit_and_a_run_shorter_than_its_plan(in_graph):
    keras.utils.set_random_seed(7)
    model = compile_model(keras.Sequential([keras.layers.Conv2D(3, 3, activation="tanh", name="conv"),
                                            keras.layers.Flatten(), keras.layers.Dense(3, name="head")]))
    log, recorder = WeightLog(), ActivationRecorder(PROBES, ["conv", "head"], in_graph=in_graph)
    fit_arrays(model, [recorder, log])  # no Input: fit builds the model before the recorder starts
    check_snapshots(recorder, model, log.weights, functional_reference(["conv", "head"]), list(range(9)))
    # initial_epoch=1 of 3: the plan (3 epochs x 4 steps) is longer than the 8 steps run
    log, recorder = WeightLog(), ActivationRecorder(PROBES, "conv", every=3, in_graph=in_graph)
    model.fit(X, Y, batch_size=16, epochs=3, initial_epoch=1, shuffle=False, verbose=0, callbacks=[recorder, log])
    check_snapshots(recorder, model, log.weights, functional_reference(["conv"]), [0, 3, 6, 8])


def test_refusals_name_what_is_supported():
    with pytest.raises(RecorderError, match=r"^ActivationRecorder: no layer 'conv' in the model; did you mean "
                                            r"'block1/conv'\?"):
        fit_arrays(nested_model(), [ActivationRecorder(PROBES, "conv")])
    with pytest.raises(RecorderError, match=r"no layer 'nope' in 'block1'"):
        fit_arrays(nested_model(), [ActivationRecorder(PROBES, "block1/nope")])

    keras.utils.set_random_seed(7)
    inputs = keras.Input((8, 8, 1))
    shared = keras.layers.Dense(1, name="shared")
    x = keras.layers.Flatten()(shared(shared(inputs)))
    model = compile_model(keras.Model(inputs, keras.layers.Dense(3)(x)))
    with pytest.raises(RecorderError, match=r"layer 'shared' ran 2 times in one forward pass"):
        fit_arrays(model, [ActivationRecorder(PROBES, "shared")])
    assert "call" not in vars(shared), "a refused recorder leaves no hook behind"
    with pytest.raises(RecorderError, match="the model cannot run on the probes"):
        fit_arrays(conv_model(), [ActivationRecorder(np.zeros((2, 5, 5, 3)), "conv")])


def test_the_docstring_example_runs_as_written():
    import model.recorder as recorder_module

    doc = recorder_module.__doc__
    lines = doc.split("::\n\n", 1)[1].splitlines()
    end = next(index for index, line in enumerate(lines) if line and not line.startswith("    "))
    code = "\n".join(line[4:] for line in lines[:end])
    assert "from model.recorder import ActivationRecorder" in code  # its two files copied next to a notebook
    namespace = {}
    exec(code, namespace)
    steps, activations = namespace["steps"], namespace["activations"]
    assert steps.tolist() == list(range(17))
    assert activations["conv"].shape == (17, 5, 26, 26, 4) and activations["head"].shape == (17, 5, 10)
