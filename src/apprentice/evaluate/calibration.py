"""Calibration: reliability-curve data and the expected calibration error (ECE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """Reliability bins (equal width on predicted probability) and the ECE.

    For a binary task the curve is for the positive class; for multiclass it is the
    confidence of the predicted class against how often that prediction is right.
    """

    kind: str
    ece: float
    bins: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ece": self.ece, "bins": list(self.bins)}


def calibration(y: np.ndarray, proba: np.ndarray, *, n_bins: int = 10) -> Calibration:
    """Reliability data of class probabilities ``proba`` for class indices ``y``."""
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y).astype(np.int64)
    if proba.shape[1] == 2:
        kind = "positive class"
        confidence = proba[:, 1]
        outcome = (y == 1).astype(float)
    else:
        kind = "top label"
        labels = proba.argmax(axis=1)
        confidence = proba[np.arange(len(y)), labels]
        outcome = (labels == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    bins: list[dict[str, float]] = []
    ece = 0.0
    n = len(y)
    for b in range(n_bins):
        members = index == b
        count = int(members.sum())
        if count == 0:
            continue
        mean_pred = float(confidence[members].mean())
        observed = float(outcome[members].mean())
        ece += count / n * abs(observed - mean_pred)
        bins.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": count,
                "mean_predicted": mean_pred,
                "observed": observed,
            }
        )
    return Calibration(kind, float(ece), bins)
