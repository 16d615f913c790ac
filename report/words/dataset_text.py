"""Name the data the network was trained on: what its probes show, and which dataset and sizes it was.

Use: `subject(dataset)` gives the nouns for what the probes show (digits only on MNIST), `dataset_sentence(dataset)`
says which data it was, with sizes, and `dataset_notice(dataset, accuracy)` is the visible notice when it is not
full MNIST, with its true cause (`bundled_cause`: full MNIST could not be loaded, or the subset was asked for). Each
takes the capture's meta["dataset"]. The words are macros of templates/words/dataset.txt.j2.
"""

from __future__ import annotations

from report.capture_facts import MNIST_FAMILY
from report.numbers.thresholds import CLAIMED_ACCURACY
from report.voice import N_, gettext, say

SUBJECTS = ("fashion", "cifar10", "cifar100")  # datasets with their own task; "default": the MNIST digits
DIGIT_DATASETS = MNIST_FAMILY  # MNIST itself: the only data whose probes the page calls digits
FULL_MNIST_TRAIN = 60_000  # images in full MNIST's training set
BUNDLED_TRAIN = 10_000  # the bundled subset: the first images of the official training set
# The titles model/data.py gives the datasets it loads, marked for translation (a user's own file keeps its name).
TITLES = (N_("full MNIST"), N_("bundled MNIST subset"), N_("Fashion-MNIST"), N_("MNIST from idx files"),
          N_("Fashion-MNIST from idx files"), N_("CIFAR-10"), N_("CIFAR-100"))


def data_title(dataset: dict | None) -> str | None:
    """Return the training data's title in the edition being written (a user's file name as it is)."""
    title = (dataset or {}).get("title") or (dataset or {}).get("name")
    return gettext(title) if title in TITLES else title


def subject(dataset: dict) -> dict:
    """Return the nouns for what the probes show on this dataset (digits only for MNIST)."""
    name = dataset["name"]
    kind = name if name in SUBJECTS else "default" if name in DIGIT_DATASETS else "other"
    task = say("dataset", "task", kind=kind, classes=len(dataset.get("class_names") or []) or 10)
    if kind == "default":
        return {"task": task, "plural": gettext("digits"), "singular": gettext("digit")}
    return {"task": task, "plural": gettext("images"), "singular": gettext("image")}


def bundled_cause(dataset: dict) -> str | None:
    """Return why a run trained on the bundled subset: "fallback" (full MNIST could not be loaded), "choice" (it was
    asked for, --dataset bundled), or None (not the bundled subset, or a capture too old to say).

    The data loader (model/data.py) writes a notice only when it replaced the requested data, so an empty notice on
    the bundled subset means it was the requested one.
    """
    if dataset.get("name") != "bundled" or "notice" not in dataset:
        return None
    return "fallback" if dataset["notice"] else "choice"


def dataset_notice(dataset: dict, accuracy: float | None = None) -> str:
    """Return the visible notice when the training data is not full MNIST (with its true cause), else "".

    accuracy: the final test accuracy; with it the notice says where it lies against the post's, instead of an
    expectation.
    """
    if dataset["name"] != "bundled":
        return ""
    sentences = [say("dataset", "bundled_notice", train_size=dataset["train_size"], full=FULL_MNIST_TRAIN,
                     cause=bundled_cause(dataset))]
    if accuracy is not None:
        sentences.append(say("dataset", "against_claim", accuracy=accuracy, claimed=CLAIMED_ACCURACY))
    return " ".join(sentences)


def dataset_sentence(dataset: dict) -> str:
    """Say plainly which data the network was trained on, with sizes."""
    if dataset["name"] == "mnist":
        return say("dataset", "full_mnist", dataset=dataset)
    if dataset["name"] == "bundled":
        return say("dataset", "bundled", dataset=dataset, subset=BUNDLED_TRAIN, full=FULL_MNIST_TRAIN,
                   cause=bundled_cause(dataset))
    return say("dataset", "other", dataset=dataset)
