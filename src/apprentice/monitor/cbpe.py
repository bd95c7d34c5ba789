"""Performance without labels: confidence-based performance estimation (CBPE).

With probabilities that are calibrated, the chance that each prediction is right is known,
so the expected confusion matrix (and accuracy, precision, recall, F1) of unlabelled rows can
be estimated. The model's probabilities are calibrated with the isotonic map fitted on the
reference set kept apart from training (stored in the profile).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ASSUMPTIONS = [
    "the isotonic calibration fitted on the reference (holdout) rows still holds on the "
    "current rows: only the inputs' distribution changed (covariate shift), not the "
    "relation between inputs and the target (no concept drift), which CBPE cannot see",
    "the reference rows were kept apart from training and are large enough for the "
    "calibration (their number is given as calibration_rows)",
    "the interval reflects the randomness of outcomes given the probabilities, not the "
    "uncertainty of the calibration itself",
]


def estimate(
    calibration: dict[str, Any], output: np.ndarray, task: str, threshold: float | None = None
) -> dict[str, Any] | None:
    """Estimated metrics of ``output`` (probabilities ``(n, k)``) without labels, for the
    labels the model gives at its decision ``threshold`` (binary)."""
    found = sums(calibration, output, task, threshold)
    return None if found is None else from_sums(calibration, found, task)


def sums(
    calibration: dict[str, Any], output: np.ndarray, task: str, threshold: float | None = None
) -> dict[str, float] | None:
    """The sums CBPE's estimates come from; they add up across chunks of rows."""
    from apprentice.decision import decide
    from apprentice.monitor.profile import apply_calibration

    output = np.asarray(output, dtype=float)
    n = len(output)
    if n == 0 or task == "regression":
        return None
    predicted = decide(output, threshold)
    if task == "binary":
        p = apply_calibration(calibration, output[:, 1])
        pos = predicted == 1
        correct = np.where(pos, p, 1 - p)
        return {
            "rows": n,
            "tp": float(p[pos].sum()),
            "fp": float((1 - p[pos]).sum()),
            "fn": float(p[~pos].sum()),
            "tn": float((1 - p[~pos]).sum()),
            "variance": float(np.sum(correct * (1 - correct))),
        }
    correct = apply_calibration(calibration, output.max(axis=1))
    return {
        "rows": n,
        "correct": float(correct.sum()),
        "variance": float(np.sum(correct * (1 - correct))),
    }


def merge_sums(a: dict[str, float] | None, b: dict[str, float] | None) -> dict[str, float] | None:
    if a is None or b is None:
        return a if b is None else b
    return {key: a[key] + b[key] for key in a}


def from_sums(calibration: dict[str, Any], found: dict[str, float], task: str) -> dict[str, Any]:
    """The estimated metrics from :func:`sums`."""
    n = int(found["rows"])
    if task == "binary":
        tp, fp, fn, tn = found["tp"], found["fp"], found["fn"], found["tn"]
        precision = tp / (tp + fp) if tp + fp > 0 else math.nan
        recall = tp / (tp + fn) if tp + fn > 0 else math.nan
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else math.nan
        metrics: dict[str, Any] = {
            "accuracy": (tp + tn) / n,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        }
    else:
        metrics = {"accuracy": found["correct"] / n}
    sd = math.sqrt(found["variance"]) / n
    acc = metrics["accuracy"]
    metrics["accuracy_interval"] = [max(0.0, acc - 1.96 * sd), min(1.0, acc + 1.96 * sd)]
    metrics["rows"] = n
    metrics["calibration_rows"] = int(calibration.get("rows", 0))
    metrics["method"] = "CBPE on isotonic-calibrated probabilities"
    metrics["assumptions"] = ASSUMPTIONS
    return metrics
