"""What sweep.json keeps of one seed's run: the figures the article's claims rest on, read from its findings.

    entry = seed_record(config_dict, capture, findings, build_dir, seconds)

Steps are integers (None where a layer never settled), verdicts the strings of report/numbers/checks.py.
"""

from __future__ import annotations

SWEEP_NAME = "sweep.json"
CONCLUSIONS = ("conclusion_1", "conclusion_2", "conclusion_3")


def _step(value) -> int | None:
    return None if value is None else int(value)


def seed_record(config: dict, capture, findings, build_dir: str, seconds: float) -> dict:
    """Return one seed's entry of sweep.json."""
    accuracy = findings.run.final_test_accuracy
    if accuracy is None:
        accuracy = capture.meta.get("final_test_accuracy")
    return {
        "seed": int(config["seed"]),
        "build_dir": build_dir,
        "config": config,
        "plateau_end": int(findings.run.plateau.steps),
        "layers": [{"name": layer.name, "settled_step": _step(layer.settling.settled_step if layer.settling else None),
                    "settle_step_ci": [_step(value) for value in layer.settle_step_ci]}
                   for layer in findings.layers],
        "final_test_accuracy": None if accuracy is None else float(accuracy),
        "verdicts": {name: getattr(findings.run, name).verdict for name in CONCLUSIONS},
        "seconds": round(float(seconds), 2),
    }


def without_seed(config: dict) -> dict:
    """Return a config dict without its seed: what the runs of one sweep share."""
    return {name: value for name, value in config.items() if name != "seed"}
