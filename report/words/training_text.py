"""Describe a run's training curve: how long the loss sat at chance, and the final test metrics.

Use: `training_sentences(run)` takes `Findings.run` (report/numbers/run_findings.py's RunFindings) and returns the
sentences, compared with the post's plateau of about POST_PLATEAU_STEPS steps and its claimed accuracy.
"""

from __future__ import annotations

from report.numbers.run_findings import RunFindings
from report.numbers.thresholds import CLAIMED_ACCURACY, NEAR_STEPS, PLATEAU_TOLERANCE
from report.words.post_observations import POST_PLATEAU_STEPS
from report.words.wording import percent, plural


def training_sentences(run: RunFindings, *, compare: bool = True) -> list[str]:
    """Describe the loss plateau at chance and the final test metrics (compared with the post's when `compare`)."""
    plateau = run.plateau
    sentences = []
    if plateau.num_steps == 0:
        sentences.append("The run recorded no training loss.")
    elif plateau.steps == 0:
        post = f"; the post saw about {POST_PLATEAU_STEPS} steps at chance" if compare else ""
        sentences.append(f"The training loss left chance level (ln of the number of classes, "
                         f"{plateau.chance_loss:.2f}) from the very first step{post}.")
    elif plateau.left_at_step is None:
        sentences.append(f"The training loss never left chance level ({plateau.chance_loss:.2f} "
                         f"\u00b1 {PLATEAU_TOLERANCE}) in all {plateau.num_steps} steps: this run did not learn.")
    else:
        if abs(plateau.steps - POST_PLATEAU_STEPS) <= NEAR_STEPS:
            compared = f"close to the post's {POST_PLATEAU_STEPS} or so"
        elif plateau.steps < POST_PLATEAU_STEPS:
            compared = f"fewer than the post's {POST_PLATEAU_STEPS} or so"
        else:
            compared = f"more than the post's {POST_PLATEAU_STEPS} or so"
        compared = f", {compared}," if compare else ""
        sentences.append(f"The training loss stayed at chance ({plateau.chance_loss:.2f} \u00b1 "
                         f"{PLATEAU_TOLERANCE}) for the first {plural(plateau.steps, 'step')}{compared} "
                         f"and began to fall at step {plateau.left_at_step}.")
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

