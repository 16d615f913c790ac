"""Name the data the network was trained on: what its probes show, and which dataset and sizes it was.

Use: `subject(dataset)` gives the nouns for what the probes show (digits only on MNIST), `dataset_sentence(dataset)`
says which data it was, with sizes, and `dataset_notice(dataset)` is the visible notice when it is not full
MNIST. Each takes the capture's meta["dataset"].
"""

from __future__ import annotations

from report.words.wording import number

SUBJECTS = {  # how the page names what the network looks at, per dataset ("default": the MNIST digits)
    "fashion": {"task": "tell ten kinds of clothing apart", "plural": "images", "singular": "image"},
    "cifar10": {"task": "tell ten kinds of object apart in small colour photographs", "plural": "images",
                "singular": "image"},
    "cifar100": {"task": "tell 100 kinds of object apart in small colour photographs", "plural": "images",
                 "singular": "image"},
    "default": {"task": "read handwritten digits", "plural": "digits", "singular": "digit"},
}
DIGIT_DATASETS = ("mnist", "bundled")  # MNIST itself: the only data whose probes the page calls digits


def subject(dataset: dict) -> dict:
    """Return the nouns for what the probes show on this dataset (digits only for MNIST)."""
    name = dataset["name"]
    if name in SUBJECTS:
        return SUBJECTS[name]
    if name in DIGIT_DATASETS:
        return SUBJECTS["default"]
    classes = len(dataset.get("class_names") or []) or 10
    return {"task": f"tell {number(classes)} classes of image apart", "plural": "images", "singular": "image"}


def dataset_notice(dataset: dict) -> str:
    """Return the visible notice when the training data is not full MNIST, else an empty string."""
    if dataset["name"] == "bundled":
        return (f"This run trained on the {dataset['train_size']:,}-image MNIST subset bundled with the project, "
                f"not on the full 60,000-image training set, because full MNIST could not be loaded on the "
                f"machine that built this page. Expect slightly lower accuracy than the original article.")
    return ""


def dataset_sentence(dataset: dict) -> str:
    """Say plainly which data the network was trained on, with sizes."""
    sizes = f"{dataset['train_size']:,} training images and {dataset['test_size']:,} test images"
    if dataset["name"] == "mnist":
        return f"The network was trained on the full MNIST dataset ({sizes}), loaded with keras' own loader."
    if dataset["name"] == "bundled":
        return (f"The network was trained on the MNIST subset bundled with this project ({sizes}): the first "
                f"10,000 images of the official training set and the complete official test set. Full MNIST "
                f"has 60,000 training images; it is used automatically when keras can load it.")
    origin = f", from {dataset['source']}" if dataset["source"] != dataset["title"] else ""
    return f"The network was trained on {dataset['title']} ({sizes}){origin}."
