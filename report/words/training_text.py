"""Describe a run's training curve: whether and how long it sat at chance, and the final test metrics.

Use: `training_sentences(run)` takes `Findings.run` (report/numbers/run_findings.py's RunFindings) and returns the
sentences, compared with the post's plateau of about POST_PLATEAU_STEPS steps and its claimed accuracy when
`compare` (the post's model on MNIST-family data: report.capture_facts.post_yardstick_applies). `plateau_sentence`
is the first of them: a plateau only where report/numbers/conclusions.py found one (loss and accuracy at chance for
at least PLATEAU_MIN_STEPS steps), else that there is none. The sentences are macros of
templates/words/training.txt.j2; this module chooses which to say.
"""

from __future__ import annotations

from report.numbers.run_findings import Plateau, RunFindings
from report.numbers.thresholds import CLAIMED_ACCURACY, NEAR_STEPS, PLATEAU_TOLERANCE
from report.voice import say
from report.words.post_observations import POST_PLATEAU_STEPS


def _compared(plateau: Plateau) -> str:
    """Return how the plateau's length compares with the post's: "close", "fewer" or "more"."""
    if abs(plateau.steps - POST_PLATEAU_STEPS) <= NEAR_STEPS:
        return "close"
    return "fewer" if plateau.steps < POST_PLATEAU_STEPS else "more"


def plateau_sentence(plateau: Plateau, compare: bool = True) -> str:
    """Say whether training started with a plateau at chance, how long it lasted and what ended it."""
    if plateau.num_steps == 0:
        return say("training", "no_loss")
    post = [say("training", "post_plateau", post_steps=POST_PLATEAU_STEPS)] if compare else []
    if not plateau.found:
        falls = plateau.later_loss is not None and plateau.first_loss is not None and \
            plateau.later_loss < plateau.first_loss
        losses = plateau.first_loss is not None and bool(plateau.later_step) and plateau.later_step > 1
        if plateau.off_step is None:  # too short a run to hold a plateau, though every step was at chance
            sentences = [say("training", "too_short", plateau=plateau, falls=falls, losses=losses)]
        else:
            sentences = [say("training", "no_plateau", plateau=plateau, falls=falls, losses=losses),
                         say("training", "left_early", plateau=plateau, tolerance=PLATEAU_TOLERANCE)]
        return " ".join(sentences + post)
    if plateau.left_at_step is None:
        return say("training", "never_left", plateau=plateau, tolerance=PLATEAU_TOLERANCE)
    return say("training", "plateau", plateau=plateau, tolerance=PLATEAU_TOLERANCE,
               compared=_compared(plateau) if compare else None, post_steps=POST_PLATEAU_STEPS)


def training_sentences(run: RunFindings, *, compare: bool = True) -> list[str]:
    """Describe the plateau at chance (or its absence) and the final test metrics (the post's when `compare`)."""
    sentences = [plateau_sentence(run.plateau, compare)]
    accuracy = run.final_test_accuracy
    if accuracy is None:
        sentences.append(say("training", "no_test"))
    else:
        against = ("above" if accuracy >= CLAIMED_ACCURACY else "below") if compare else None
        sentences.append(say("training", "final_test", step=run.last_step, accuracy=accuracy,
                             loss=run.final_test_loss, source=run.accuracy_source, against=against,
                             claimed=CLAIMED_ACCURACY))
    return sentences
