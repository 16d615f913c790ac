"""Choose the article's sentences from a run's findings, with the numbers beside the words.

Use: `commentary(analyse(capture))` (or pass `Findings.to_dict()`, e.g. read back from JSON) returns one
plain dict for the template: per layer what the post saw (restated as a hypothesis), what this run shows
and what to look for in its animation, the training curve's plateau, the three conclusions with the verdict
the analysis computed (report.summaries) and its checks, and the thresholds for the appendix. Every
sentence is picked by the numbers, so another seed or dataset gets other, still true, text. Strings are
plain text (the template escapes them); no HTML. Channels are numbered from 1 in the text ("channel 1" is
index 0 of the layer's last axis).

The sentences are written by report.training_text, report.layer_text (with report.post_observations)
and report.verdicts, from the words of report.wording; this module only puts them together.
"""

from __future__ import annotations

from report.findings import Findings
from report.layer_text import channel_sentence, kind_sentences, layer_commentary, similarity_sentences
from report.page_facts import DIGIT_DATASETS
from report.post_observations import comparison_sentences
from report.thresholds import appendix_rows
from report.training_text import training_sentences
from report.verdicts import (
    DOES_NOT_HOLD,
    HOLDS,
    PARTLY,
    VERDICT_CLASSES,
    conclusion_1,
    conclusion_2,
    conclusion_3,
)
from report.wording import DIGIT_WORDS, IMAGE_WORDS, ImageWords

# The composer and the parts a caller (or a test) may want on their own, all reachable from this module.
__all__ = [
    "commentary", "training_sentences", "layer_commentary", "kind_sentences", "similarity_sentences",
    "channel_sentence", "comparison_sentences", "conclusion_1", "conclusion_2", "conclusion_3", "image_words",
    "HOLDS", "PARTLY", "DOES_NOT_HOLD", "VERDICT_CLASSES",
]


def image_words(dataset: dict | None) -> ImageWords:
    """Return the words for what the probes show: MNIST's strokes of ink, else any image's bright regions."""
    name = (dataset or {}).get("name")
    return DIGIT_WORDS if name is None or name in DIGIT_DATASETS else IMAGE_WORDS


def commentary(findings: Findings | dict, *, article: bool = True, dataset: dict | None = None) -> dict:
    """Return the article's sentences for a run: training, layers, conclusions and thresholds (plain data).

    article: the run's model is the original post's (report.run_facts.is_article); only then are the post's
    observations, plateau and conclusions compared, and the thresholds only they use listed.
    dataset: the capture's meta["dataset"]; the layers speak of strokes and ink only for MNIST (or when missing).
    """
    findings = Findings.coerce(findings)
    words = image_words(dataset)
    run = findings.run
    regimes = {layer.regime for layer in findings.layers}
    return {
        "training": training_sentences(run, compare=article),
        "layers": [layer_commentary(layer, findings.last_step, findings.steps, article=article, words=words)
                   for layer in findings.layers],
        "conclusions": [conclusion_1(run), conclusion_2(run), conclusion_3(run)] if article else [],
        "thresholds": appendix_rows(bounded="bounded" in regimes, unbounded=bool(regimes - {"bounded"}),
                                    post=article),
    }
