"""The XOR figure: four points no line separates, and the same points after one learned layer.

`learn_xor()` trains a 2-2-1 tanh network on XOR with plain numpy gradient descent (seeded); `fold_facts(network)`
says how its hidden layer places the points: it folds the square, so the two class-0 inputs land on one spot;
`xor_svg(network, facts)` draws both views as deterministic SVG bytes, each input named beside its marker (the
folded class-0 inputs as one marker named for both). report/words/figure_text.py's `xor_caption(facts)` says so.
The drawing's words are `xor_labels()` (templates/words/figures.txt.j2, in the edition being written) unless
`xor_svg` is given others.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from report.figures.svg import svg_bytes, svg_rc
from report.voice import say

XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)  # (4, 2)
XOR_TARGETS = np.array([0, 1, 1, 0], np.float64)  # (4,)


@dataclass
class XorNetwork:
    """A learned hidden layer (tanh) and the linear read-out on top of it."""

    hidden_weights: np.ndarray  # (2, 2)
    hidden_bias: np.ndarray  # (2,)
    output_weights: np.ndarray  # (2,)
    output_bias: float

    def hidden(self, inputs: np.ndarray) -> np.ndarray:
        """Return the hidden layer's view of the inputs, (n, 2)."""
        return np.tanh(inputs @ self.hidden_weights + self.hidden_bias)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Return the probability of class 1 for each input, (n,)."""
        return 1 / (1 + np.exp(-(self.hidden(inputs) @ self.output_weights + self.output_bias)))


@functools.cache  # the same network every time: trained once per process, not once per edition and run
def learn_xor(seed: int = 0, steps: int = 4000, learning_rate: float = 0.5) -> XorNetwork:
    """Train a 2-2-1 network on the four XOR points with full-batch gradient descent."""
    rng = np.random.default_rng(seed)
    w1, b1 = rng.normal(0, 1, (2, 2)), np.zeros(2)
    w2, b2 = rng.normal(0, 1, 2), 0.0
    for _ in range(steps):
        hidden = np.tanh(XOR_INPUTS @ w1 + b1)  # (4, 2)
        probability = 1 / (1 + np.exp(-(hidden @ w2 + b2)))  # (4,)
        error = (probability - XOR_TARGETS) / len(XOR_TARGETS)  # d(cross-entropy)/d(logit)
        grad_hidden = np.outer(error, w2) * (1 - hidden ** 2)
        w2 -= learning_rate * hidden.T @ error
        b2 -= learning_rate * error.sum()
        w1 -= learning_rate * XOR_INPUTS.T @ grad_hidden
        b1 -= learning_rate * grad_hidden.sum(axis=0)
    return XorNetwork(w1, b1, w2, float(b2))


FOLD_DISTANCE = 0.15  # hidden-space distance below which two points would be drawn on top of each other
_NAMES = ["(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"]


def fold_facts(network: XorNetwork) -> dict:
    """Return how the hidden layer places the points: correct count, hidden points, and whether class 0 folds."""
    hidden = network.hidden(XOR_INPUTS)
    correct = int(np.sum((network.predict(XOR_INPUTS) > 0.5) == XOR_TARGETS.astype(bool)))
    zeros = hidden[XOR_TARGETS == 0]
    distance = float(np.linalg.norm(zeros[0] - zeros[1]))
    return {"correct": correct, "hidden_points": hidden.round(3).tolist(), "class_0_distance": round(distance, 3),
            "folded": distance < FOLD_DISTANCE}


def xor_labels() -> dict:
    """Return the XOR figure's words in the edition being written: titles, axes, legend and the folded spot."""
    zeros = np.flatnonzero(XOR_TARGETS == 0)
    return {"inputs": say("figures", "xor_inputs_title"), "hidden": say("figures", "xor_hidden_title"),
            "units": tuple(say("figures", "xor_unit", number=number) for number in (1, 2)),
            "outputs": (say("figures", "xor_output_0"), say("figures", "xor_output_1")),
            "one_spot": say("figures", "xor_one_spot", first=_NAMES[zeros[0]], second=_NAMES[zeros[1]]),
            "line": say("figures", "xor_line")}


def xor_svg(network: XorNetwork, facts: dict, labels: dict | None = None) -> bytes:
    """Draw the input space and the learned hidden space side by side, as deterministic SVG bytes."""
    import matplotlib
    from matplotlib.figure import Figure

    hidden = network.hidden(XOR_INPUTS)
    with matplotlib.rc_context(svg_rc("xor-figure")):
        figure = Figure(figsize=(7.2, 3.4), layout="constrained")
        left, right = figure.subplots(1, 2)
        _draw(figure, left, right, network, hidden, facts, labels or xor_labels())
        return svg_bytes(figure)


def _draw(figure, left, right, network: XorNetwork, hidden: np.ndarray, facts: dict, words: dict) -> None:
    """Draw both panels: the inputs, and their hidden coordinates with the learned line (`words`: xor_labels())."""
    for axis, points, title, labels in ((left, XOR_INPUTS, words["inputs"], ("A", "B")),
                                        (right, hidden, words["hidden"], words["units"])):
        for target, marker, colour, name in ((0, "o", "#b2182b", words["outputs"][0]),
                                             (1, "X", "#2166ac", words["outputs"][1])):
            chosen = points[XOR_TARGETS == target]
            axis.scatter(chosen[:, 0], chosen[:, 1], marker=marker, s=140, color=colour, label=name, zorder=3)
        axis.set_title(title, fontsize=11)
        axis.set_xlabel(labels[0])
        axis.set_ylabel(labels[1])
        axis.grid(alpha=0.3)
    for index, name in enumerate(_NAMES):  # every input named beside its marker, in both views
        left.annotate(name, XOR_INPUTS[index], xytext=(9, 7), textcoords="offset points", fontsize=8)
    zeros = np.flatnonzero(XOR_TARGETS == 0)
    for index, name in enumerate(_NAMES):
        if facts["folded"] and index in zeros:
            if index != zeros[0]:
                continue
            name = words["one_spot"]
        right.annotate(name, hidden[index], xytext=(-9, 9), textcoords="offset points", fontsize=8, ha="right")
    low, high = hidden.min() - 0.3, hidden.max() + 0.3
    right.set_xlim(low, high)
    right.set_ylim(low, high)
    left.set_xlim(-0.3, 1.3)
    left.set_ylim(-0.3, 1.3)
    # The read-out's decision boundary w . h + b = 0 is a straight line in the hidden space.
    (w_first, w_second), bias = network.output_weights, network.output_bias
    xs = np.linspace(low, high, 50)
    if abs(w_second) > 1e-9:
        right.plot(xs, -(w_first * xs + bias) / w_second, color="#444", linestyle="--", label=words["line"])
    else:
        right.axvline(-bias / w_first, color="#444", linestyle="--", label=words["line"])
    left.legend(loc="center", fontsize=8, framealpha=0.9)
    right.legend(loc="center left", fontsize=8, framealpha=0.9)
