"""Describe a run's training curve: whether and how long it sat at chance, and the final test metrics.

Use: `training_sentences(run)` takes `Findings.run` (report/numbers/run_findings.py's RunFindings) and returns the
sentences, compared with the post's plateau of about POST_PLATEAU_STEPS steps and its claimed accuracy when
`compare` (the post's model on MNIST-family data: report.capture_facts.post_yardstick_applies). `plateau_sentence`
is the first of them: a plateau only where report/numbers/conclusions.py found one (loss and accuracy at chance for
at least PLATEAU_MIN_STEPS steps), else that there is none.
"""

from __future__ import annotations

from report.numbers.run_findings import Plateau, RunFindings
from report.numbers.thresholds import CLAIMED_ACCURACY, NEAR_STEPS, PLATEAU_TOLERANCE
from report.words.post_observations import POST_PLATEAU_STEPS
from report.words.wording import percent, plural, series

NO_PLATEAU = "No plateau: the loss falls from the first steps"


def _off_clause(plateau: Plateau) -> str:
    """Say what was off chance at the first step off it: the batch accuracy above its limit, or the loss."""
    parts = []
    if "accuracy" in plateau.left_by and plateau.off_accuracy is not None:
        parts.append(f"the batch accuracy is {percent(plateau.off_accuracy, 1)}, above the "
                     f"{percent(plateau.accuracy_limit, 1)} that counts as chance")
    if "loss" in plateau.left_by and plateau.off_loss is not None:
        parts.append(f"the loss is {plateau.off_loss:.3f}, outside {plateau.chance_loss:.2f} \u00b1 "
                     f"{PLATEAU_TOLERANCE}")
    return series(parts)


def _chance_band(plateau: Plateau) -> str:
    """Return "loss 2.30 ± 0.05 and batch accuracy at most 15.0%" (the loss alone without an accuracy series)."""
    band = f"loss {plateau.chance_loss:.2f} \u00b1 {PLATEAU_TOLERANCE}"
    if plateau.accuracy_limit is not None:
        band += f" and batch accuracy at most {percent(plateau.accuracy_limit, 1)}"
    return band


def plateau_sentence(plateau: Plateau, compare: bool = True) -> str:
    """Say whether training started with a plateau at chance, how long it lasted and what ended it."""
    if plateau.num_steps == 0:
        return "The run recorded no training loss."
    post = f" The post saw about {POST_PLATEAU_STEPS} steps at chance." if compare else ""
    if not plateau.found:
        falls = plateau.later_loss is not None and plateau.first_loss is not None and \
            plateau.later_loss < plateau.first_loss
        head = NO_PLATEAU if falls else "No plateau: training leaves chance within the first steps"
        loss = (f" ({plateau.first_loss:.3f} at step 1, {plateau.later_loss:.3f} at step {plateau.later_step})"
                if plateau.first_loss is not None and plateau.later_step and plateau.later_step > 1 else "")
        if plateau.off_step is None:  # too short a run to hold a plateau, though every step was at chance
            detail = (f"; all {plural(plateau.num_steps, 'step')} are at chance, fewer than the "
                      f"{plateau.min_steps} a plateau needs")
        else:
            count = plateau.at_chance_steps
            subject = "Not even the first step is" if count == 0 else \
                f"Only {plural(count, 'step')} from the start {'is' if count == 1 else 'are'}"
            detail = (f". {subject} at chance ({_chance_band(plateau)}), fewer than the {plateau.min_steps} a "
                      f"plateau needs: at step {plateau.off_step} {_off_clause(plateau)}")
        return f"{head}{loss}{detail}.{post}"
    if plateau.left_at_step is None:
        return (f"The training loss never left chance level ({_chance_band(plateau)}) in all "
                f"{plural(plateau.num_steps, 'step')}: this run did not learn.")
    compared = ""
    if compare:
        if abs(plateau.steps - POST_PLATEAU_STEPS) <= NEAR_STEPS:
            compared = f", close to the post's {POST_PLATEAU_STEPS} or so,"
        elif plateau.steps < POST_PLATEAU_STEPS:
            compared = f", fewer than the post's {POST_PLATEAU_STEPS} or so,"
        else:
            compared = f", more than the post's {POST_PLATEAU_STEPS} or so,"
    ended = _off_clause(plateau)
    return (f"Training stayed at chance ({_chance_band(plateau)}) for the first "
            f"{plural(plateau.steps, 'step')}{compared} and left it at step {plateau.left_at_step}"
            + (f", where {ended}." if ended else "."))


def training_sentences(run: RunFindings, *, compare: bool = True) -> list[str]:
    """Describe the plateau at chance (or its absence) and the final test metrics (the post's when `compare`)."""
    sentences = [plateau_sentence(run.plateau, compare)]
    accuracy, loss = run.final_test_accuracy, run.final_test_loss
    if accuracy is None:
        sentences.append("The run has no test measurement.")
    else:
        source = "on the whole test set" if run.accuracy_source == "whole test set" else "at the last test point"
        loss_text = f" and loss {loss:.3f}" if loss is not None else ""
        above = "above" if accuracy >= CLAIMED_ACCURACY else "below"
        post = f", {above} the post's {percent(CLAIMED_ACCURACY)}" if compare else ""
        sentences.append(f"After {run.last_step} steps the test accuracy is {percent(accuracy, 1)}{loss_text} "
                         f"{source}{post}.")
    return sentences
