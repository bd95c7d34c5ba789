"""Paired bootstrap comparisons, worded plainly."""

from __future__ import annotations

import numpy as np

from apprentice.evaluate import calibration, paired_test


def _proba(y: np.ndarray, strength: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = strength * (2 * y - 1) + rng.normal(size=len(y))
    p = 1 / (1 + np.exp(-z))
    return np.column_stack([1 - p, p])


def test_clearly_better_model_is_shown_better() -> None:
    y = np.random.default_rng(0).integers(0, 2, 1000)
    result = paired_test(
        "binary", "roc_auc", y, _proba(y, 2.0, 1), _proba(y, 0.0, 2), role="baseline"
    )
    assert result.better and result.p_value < 0.001
    assert result.wording == "better than the baseline: yes, p < 0.001"
    assert result.to_dict()["better"] is True


def test_equal_models_are_not_shown_better() -> None:
    y = np.random.default_rng(0).integers(0, 2, 300)
    a = _proba(y, 1.0, 1)
    result = paired_test("binary", "log_loss", y, a, a.copy(), role="runner-up")
    assert not result.better
    assert result.wording.startswith("better than the runner-up: not shown (p = ")


def test_regression_direction_uses_lower_is_better() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    good, bad = y + rng.normal(scale=0.1, size=500), y + rng.normal(scale=1.0, size=500)
    assert paired_test("regression", "rmse", y, good, bad).better
    assert not paired_test("regression", "rmse", y, bad, good).better


def test_calibration_bins_and_ece() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    calib = calibration(y, np.column_stack([1 - p, p]))
    assert calib.ece < 0.02
    assert sum(b["count"] for b in calib.bins) == 20000
    overconfident = calibration(y, np.column_stack([1 - p**0.2, p**0.2]))
    assert overconfident.ece > 0.1
    multi = calibration(np.array([0, 1, 2, 2]), np.eye(3)[[0, 1, 2, 1]])
    assert multi.kind == "top label" and multi.ece == 0.25
