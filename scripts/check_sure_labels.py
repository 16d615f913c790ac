"""Check a built site's sure labels on test images it never measured: no near-duplicate pair may read two ways.

    python scripts/check_sure_labels.py --build-dir build --site-dir site [--images 2000] [--min-r 0.95]

Passes `--images` test images that are neither probes nor analysis images (seeded, in test-set order) through
the published model (site/assets/model.keras), takes each recorded layer's output, and correlates every pair of
channels over images x positions. A pair with |r| >= --min-r whose channels findings.json labels differently
while marking both labels sure is a contradiction: it is printed, and the exit status is 1. Issue 21's check
of the analysis set, independent of the code that labelled it (Keras' own forward pass, numpy's corrcoef).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def other_images(build: Path, count: int) -> tuple[np.ndarray, list[str]]:
    """Return `count` test images outside the probes and the analysis set, and the recorded layer names."""
    from capture.archive import Capture
    from model.data import load_dataset
    from pipeline.config import Config

    capture = Capture.load(build / "capture.h5")
    config = Config.from_overrides(capture.config)
    dataset = load_dataset(config)
    taken = set(capture.meta["dataset"]["probe_indices"])
    if capture.analysis is not None:
        taken |= set(int(index) for index in capture.analysis.indices)
    free = np.array([index for index in range(len(dataset.x_test)) if index not in taken])
    chosen = np.sort(np.random.default_rng(2021).permutation(free)[:count])
    return np.asarray(dataset.x_test)[chosen], capture.layer_names


def layer_outputs(model_path: Path, images: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Return each recorded layer's output for the images, from a fresh load of the published model."""
    from model.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    model = keras.saving.load_model(model_path, compile=False)
    inputs = images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)
    if inputs.ndim == 3:
        inputs = inputs[..., None]
    probe = keras.Model(model.inputs, [model.get_layer(name).output for name in names])
    outputs = probe.predict(inputs, batch_size=250, verbose=0)
    return dict(zip(names, outputs if isinstance(outputs, list) else [outputs]))


def contradictions(findings: dict, build: Path, model: Path, images: int = 2000,
                   min_r: float = 0.95) -> tuple[list[str], int]:
    """Return one line per sure near-duplicate pair labelled two ways, and the number of pairs at |r| >= min_r."""
    pictures, names = other_images(build, images)
    outputs = layer_outputs(model, pictures, names)
    problems, close = [], 0
    for layer in findings["layers"]:
        values = np.asarray(outputs[layer["name"]], np.float64)
        flat = values.reshape(-1, values.shape[-1])
        varying = flat.std(axis=0) > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.corrcoef(flat.T)
        channels = layer["channels"]
        for a in range(len(channels)):
            for b in range(a + 1, len(channels)):
                if not (varying[a] and varying[b]) or abs(r[a, b]) < min_r:
                    continue
                close += 1
                first, second = channels[a], channels[b]
                if first["kind"] != second["kind"] and first.get("kind_sure") and second.get("kind_sure"):
                    problems.append(f"{layer['name']} channels {a + 1} ({first['kind']}) and {b + 1} "
                                    f"({second['kind']}): |r| {abs(r[a, b]):.3f} on {images} other images, both sure")
    return problems, close


def main() -> int:
    """Print the contradictions; exit 1 when there is one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--site-dir", default="site")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--min-r", type=float, default=0.95)
    arguments = parser.parse_args()
    assets = Path(arguments.site_dir) / "assets"
    problems, close = contradictions(json.loads((assets / "findings.json").read_text()), Path(arguments.build_dir),
                                     assets / "model.keras", arguments.images, arguments.min_r)
    print(f"{close} channel pairs at |r| >= {arguments.min_r} on {arguments.images} other test images; "
          f"{len(problems)} labelled two ways while both are marked sure")
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
