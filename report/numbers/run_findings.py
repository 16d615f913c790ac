"""The run-level findings: final metrics, the loss plateau, and the numbers behind the post's three conclusions.

Use: report/numbers/conclusions.py builds a `RunFindings` (`Findings.run`); report/words/ phrases it. Each
conclusion carries its checks (report/numbers/checks.py), its verdict and whether that verdict is borderline.
"""

from __future__ import annotations

from dataclasses import dataclass

from report.numbers.checks import Check, Flip, ShareCheck


@dataclass
class Plateau:
    """How many initial steps the training loss stayed within `tolerance` of chance, ln(number of classes)."""

    chance_loss: float
    tolerance: float
    steps: int  # initial steps at chance
    num_steps: int  # training steps with a loss
    left_at_step: int | None  # the first step off chance (None: never)


@dataclass
class KindCounts:
    """Channel kinds counted over several layers, with the numbers behind the labels."""

    layers: list[str]
    channels: int
    counts: dict[str, int]  # CHANNEL_KINDS -> channels
    shares: dict[str, float]  # CHANNEL_KINDS -> share of the channels
    by_basis: dict[str, int]  # filter, correlation, spread, saturation -> channels labelled on that basis
    fitted_channels: int  # working channels (not idle or saturated) with a fitted filter
    median_fit_r: float | None
    median_edge_share: float | None
    median_linear_r: float | None


@dataclass
class EarlyLayersConclusion(KindCounts):
    """Conclusion 1: conv1-4 extract few features, yet the model is accurate."""

    final_test_accuracy: float | None
    test_size: int | None
    checks: list[ShareCheck | Check]
    verdict: str
    borderline: bool
    flips: list[Flip]


@dataclass
class LateLayersConclusion(KindCounts):
    """Conclusion 2: conv5-6 learn hard-to-name, entangled features."""

    active_channels: int
    unnamed: int  # active channels neither a copy nor an edge detector
    unnamed_share: float
    median_best_abs_r: float | None
    pair_mean_abs_r: float | None  # over the layers' mean |r| between channels
    pair_mean_abs_r_by_layer: dict[str, float]
    checks: list[ShareCheck | Check]
    verdict: str
    borderline: bool
    flips: list[Flip]


@dataclass
class LayerTiming:
    """When one layer's pattern and contrast came into place, and whether that was early."""

    pattern_step: int | None
    contrast_step: int | None
    settled_step: int | None
    early: bool
    borderline: bool
    share_of_learning: float | None  # how far from the plateau's end to the last step it settled


@dataclass
class IdleChannel:
    """A channel that stayed idle to the end."""

    layer: str
    channel: int
    spread: float


@dataclass
class SettlingConclusion:
    """Conclusion 3: once a layer has learned its representation it barely changes."""

    last_step: int
    learning_start: int  # the last step of the loss plateau
    early_limit: float  # a layer settled by this step settled early
    margin_steps: float
    layers: list[str]
    layers_early: list[str]
    layer_timing: dict[str, LayerTiming]
    active_channels: int
    median_pattern_step: float | None
    median_settle_step: float | None
    idle_channels: list[IdleChannel]
    layer_channels: dict[str, int]  # layer -> its number of channels
    checks: list[Check]
    verdict: str
    borderline: bool
    flips: list[Flip]


@dataclass
class RunFindings:
    """The run's final metrics, loss plateau and the three conclusions with their checks and verdicts."""

    final_test_accuracy: float | None
    final_test_loss: float | None
    accuracy_source: str  # "whole test set", "last test point" or "none"
    test_size: int | None
    last_step: int
    plateau: Plateau
    conclusion_1: EarlyLayersConclusion
    conclusion_2: LateLayersConclusion
    conclusion_3: SettlingConclusion
