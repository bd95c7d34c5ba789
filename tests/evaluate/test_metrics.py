"""Holdout metrics with bootstrap intervals agree with scikit-learn's point estimates."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from apprentice.evaluate import HOLDOUT_METRICS, holdout_metrics, weighted_metric


def _binary(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p1 = np.round(np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1), 2)  # many ties
    return y, np.column_stack([1 - p1, p1])


def test_binary_point_estimates_match_sklearn() -> None:
    y, proba = _binary()
    p1 = proba[:, 1]
    result = holdout_metrics("binary", y, proba, threshold=0.4, n_boot=200)
    assert set(result) == set(HOLDOUT_METRICS["binary"])
    expected = {
        "roc_auc": skm.roc_auc_score(y, p1),
        "pr_auc": skm.average_precision_score(y, p1),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, p1),
        # every label metric at the one decision threshold
        "accuracy": skm.accuracy_score(y, p1 >= 0.4),
        "balanced_accuracy": skm.balanced_accuracy_score(y, p1 >= 0.4),
        "f1": skm.f1_score(y, p1 >= 0.4),
    }
    for name, value in expected.items():
        assert result[name].value == pytest.approx(value, abs=1e-9), name
        assert result[name].low <= result[name].value <= result[name].high


def test_multiclass_and_regression_match_sklearn() -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 500)
    proba = rng.dirichlet(np.ones(4), 500)
    proba[np.arange(500), y] += 0.4
    proba /= proba.sum(1, keepdims=True)
    got = holdout_metrics("multiclass", y, proba, n_boot=100)
    labels = proba.argmax(1)
    assert got["log_loss"].value == pytest.approx(skm.log_loss(y, proba))
    assert got["accuracy"].value == pytest.approx(skm.accuracy_score(y, labels))
    assert got["f1_macro"].value == pytest.approx(skm.f1_score(y, labels, average="macro"))
    assert got["balanced_accuracy"].value == pytest.approx(skm.balanced_accuracy_score(y, labels))
    yr = rng.normal(size=300)
    pr = yr + rng.normal(scale=0.3, size=300)
    got = holdout_metrics("regression", yr, pr, n_boot=100)
    assert got["rmse"].value == pytest.approx(np.sqrt(skm.mean_squared_error(yr, pr)))
    assert got["mae"].value == pytest.approx(skm.mean_absolute_error(yr, pr))
    assert got["r2"].value == pytest.approx(skm.r2_score(yr, pr))


def test_weighted_auc_equals_auc_of_the_resample() -> None:
    y, proba = _binary(200, seed=3)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 200, 200)
    W = np.bincount(idx, minlength=200)[None, :].astype(float)
    got = weighted_metric("roc_auc", "binary", y, proba, W)[0]
    assert got == pytest.approx(skm.roc_auc_score(y[idx], proba[idx, 1]))
    got = weighted_metric("pr_auc", "binary", y, proba, W)[0]
    assert got == pytest.approx(skm.average_precision_score(y[idx], proba[idx, 1]))


def test_intervals_are_seeded_and_narrow_with_more_rows() -> None:
    y, proba = _binary(400)
    a = holdout_metrics("binary", y, proba, n_boot=200, seed=1)
    b = holdout_metrics("binary", y, proba, n_boot=200, seed=1)
    assert a == b
    big_y, big_p = _binary(4000)
    wide = a["roc_auc"].high - a["roc_auc"].low
    narrow = holdout_metrics("binary", big_y, big_p, n_boot=200)["roc_auc"]
    assert narrow.high - narrow.low < wide
