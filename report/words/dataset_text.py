"""Name the data the network was trained on: what its probes show, and which dataset and sizes it was.

Use: `subject(dataset)` gives the nouns for what the probes show (digits only on MNIST), `dataset_sentence(dataset)`
says which data it was, with sizes, and `dataset_notice(dataset, accuracy)` is the visible notice when it is not
full MNIST, with its true cause (`bundled_cause`: full MNIST could not be loaded, or the subset was asked for). Each
takes the capture's meta["dataset"].
"""

from __future__ import annotations

from report.capture_facts import MNIST_FAMILY
from report.numbers.thresholds import CLAIMED_ACCURACY
from report.words.wording import number, percent

SUBJECTS = {  # how the page names what the network looks at, per dataset ("default": the MNIST digits)
    "fashion": {"task": "tell ten kinds of clothing apart", "plural": "images", "singular": "image"},
    "cifar10": {"task": "tell ten kinds of object apart in small colour photographs", "plural": "images",
                "singular": "image"},
    "cifar100": {"task": "tell 100 kinds of object apart in small colour photographs", "plural": "images",
                 "singular": "image"},
    "default": {"task": "read handwritten digits", "plural": "digits", "singular": "digit"},
}
DIGIT_DATASETS = MNIST_FAMILY  # MNIST itself: the only data whose probes the page calls digits


def subject(dataset: dict) -> dict:
    """Return the nouns for what the probes show on this dataset (digits only for MNIST)."""
    name = dataset["name"]
    if name in SUBJECTS:
        return SUBJECTS[name]
    if name in DIGIT_DATASETS:
        return SUBJECTS["default"]
    classes = len(dataset.get("class_names") or []) or 10
    return {"task": f"tell {number(classes)} classes of image apart", "plural": "images", "singular": "image"}


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
    cause = bundled_cause(dataset)
    text = (f"This run trained on the {dataset['train_size']:,}-image MNIST subset bundled with the project, "
            f"not on the full 60,000-image training set")
    if cause == "fallback":
        text += ", because full MNIST could not be loaded on the machine that built this page."
    elif cause == "choice":
        text += ": the subset was chosen for this run (--dataset bundled)."
    else:
        text += "."
    if accuracy is not None:
        side = "above" if accuracy >= CLAIMED_ACCURACY else "below"
        text += (f" Its test accuracy, {percent(accuracy, 1)}, is {side} the {percent(CLAIMED_ACCURACY)} the original "
                 f"article reports.")
    return text


def dataset_sentence(dataset: dict) -> str:
    """Say plainly which data the network was trained on, with sizes."""
    sizes = f"{dataset['train_size']:,} training images and {dataset['test_size']:,} test images"
    if dataset["name"] == "mnist":
        return f"The network was trained on the full MNIST dataset ({sizes}), loaded with keras' own loader."
    if dataset["name"] == "bundled":
        why = {"fallback": " It stands in for full MNIST (60,000 training images), which could not be loaded.",
               "choice": " It was chosen for this run (--dataset bundled) instead of full MNIST (60,000 training "
                         "images)."}
        return (f"The network was trained on the MNIST subset bundled with this project ({sizes}): the first "
                f"10,000 images of the official training set and the complete official test set."
                + why.get(bundled_cause(dataset), " Full MNIST has 60,000 training images; it is used automatically "
                                                  "when keras can load it."))
    origin = f", from {dataset['source']}" if dataset["source"] != dataset["title"] else ""
    return f"The network was trained on {dataset['title']} ({sizes}){origin}."
