"""Choose the article's sentences from a run's findings, with the numbers beside the words.

Use: `commentary(analyse(capture))` returns one plain dict for the template: per layer what the post saw
(restated as a hypothesis), what this run shows and what to look for in its animation, the training curve's
plateau, the three conclusions with the verdict the analysis computed (report/numbers/conclusions.py) and its
checks, and the thresholds for the appendix. Every sentence is picked by the numbers, so another seed or
dataset gets other, still true, text. Strings are plain text (the template escapes them); no HTML. Channels
are numbered from 1 in the text ("channel 1" is index 0 of the layer's last axis).

The sentences are written by report/words/training_text.py, layer_text.py (with channel_text.py,
regime_text.py and post_observations.py) and conclusion_text.py, from the words of wording.py; this module
only puts them together.
"""

from __future__ import annotations

from report.capture_facts import post_yardstick_applies
from report.numbers.findings import Findings
from report.numbers.thresholds import appendix_rows
from report.words.conclusion_text import conclusion_1_text, conclusion_2_text, conclusion_3_text
from report.words.dataset_text import DIGIT_DATASETS, data_title
from report.words.layer_text import layer_commentary
from report.words.post_observations import POST_LIKE
from report.words.training_text import training_sentences
from report.words.wording import DIGIT_WORDS, IMAGE_WORDS, ImageWords


def image_words(dataset: dict | None) -> ImageWords:
    """Return the words for what the probes show: MNIST's strokes of ink, else any image's bright regions."""
    name = (dataset or {}).get("name")
    return DIGIT_WORDS if name is None or name in DIGIT_DATASETS else IMAGE_WORDS


def commentary(findings: Findings, *, article: bool = True, dataset: dict | None = None) -> dict:
    """Return the article's sentences for a run: training, layers, conclusions and thresholds (plain data).

    article: the run's model is the original post's (report/capture_facts.py's is_article); only then are the
    post's observations, plateau and conclusions compared, and the thresholds only they use listed.
    dataset: the capture's meta["dataset"]; the layers speak of strokes and ink only for MNIST (or when missing), and
    only there are the post's accuracy, plateau and per-layer readings of digits compared.
    """
    words = image_words(dataset)
    run = findings.run
    regimes = {layer.regime for layer in findings.layers}
    # The post's yardsticks (its accuracy, plateau and readings of digits) compare only on MNIST-family data.
    yardstick = post_yardstick_applies((dataset or {}).get("name"))
    like = {layer.name: layer for layer in findings.layers}  # the layer the post compared another with (POST_LIKE)
    return {
        "training": training_sentences(run, compare=article and yardstick),
        "plateau": bool(run.plateau.found),  # the curves' words: a plateau band only where there is one
        "layers": [layer_commentary(layer, findings.last_step, findings.steps, article=article, words=words,
                                    post_applies=yardstick, like=like.get(POST_LIKE.get(layer.name)))
                   for layer in findings.layers],
        "conclusions": [conclusion_1_text(run.conclusion_1, data_title(dataset)),
                        conclusion_2_text(run.conclusion_2), conclusion_3_text(run.conclusion_3)] if article else [],
        "thresholds": appendix_rows(bounded="bounded" in regimes, unbounded=bool(regimes - {"bounded"}),
                                    post=article),
    }
