"""Paired bootstrap comparisons, worded plainly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.evaluate import calibration, paired_test


def _proba(y: np.ndarray, strength: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = strength * (2 * y - 1) + rng.normal(size=len(y))
    p = 1 / (1 + np.exp(-z))
    return np.column_stack([1 - p, p])


def test_clearly_better_model_is_shown_better() -> None:
    y = np.random.default_rng(0).integers(0, 2, 1000)
    result = paired_test(
        "binary",
        "roc_auc",
        y,
        _proba(y, 2.0, 1),
        _proba(y, 0.0, 2),
        name_a="lightgbm",
        name_b="dummy",
        role="constant baseline",
    )
    assert result.better and result.p_value < 0.001
    assert result.wording.startswith(
        f"lightgbm beats dummy (constant baseline): roc_auc {result.value_a:.4f} vs "
        f"{result.value_b:.4f}, gain {result.difference:+.4f} (95% CI {result.low:+.4f} to "
    )
    assert result.wording.endswith(", p < 0.001)")
    assert result.to_dict()["better"] is True


def test_equal_models_are_not_shown_better() -> None:
    y = np.random.default_rng(0).integers(0, 2, 300)
    a = _proba(y, 1.0, 1)
    result = paired_test(
        "binary", "log_loss", y, a, a.copy(), name_a="ensemble", name_b="linear",
        role="linear baseline", weight=0.64,
    )  # fmt: skip
    assert not result.better
    assert result.wording.startswith("no evidence that ensemble beats linear (linear baseline): ")
    assert "(95% CI +0.0000 to +0.0000, p = 1.000); linear is 64% of ensemble" in result.wording
    assert "not shown" not in result.wording


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


def test_each_model_is_compared_once_in_its_fixed_role() -> None:
    from apprentice.evaluate.compare import comparison_plan

    baselines = {"constant": "dummy", "linear": "linear"}
    # the runner-up is the linear model: one row, as the linear baseline
    plan, notes = comparison_plan(
        "lightgbm_default", [("lightgbm_default", 1.0)], baselines, "linear"
    )
    assert plan == [("constant baseline", "dummy", None), ("linear baseline", "linear", None)]
    assert notes == []
    # an ensemble: each member's weight is known
    members = [("linear", 0.64), ("lightgbm_default", 0.36)]
    plan, _ = comparison_plan("ensemble", members, baselines, "lightgbm_default")
    assert plan == [
        ("constant baseline", "dummy", None),
        ("linear baseline", "linear", 0.64),
        ("runner-up", "lightgbm_default", 0.36),
    ]
    # the champion is never compared with itself; a baseline that did not run is said
    plan, notes = comparison_plan("linear", [("linear", 1.0)], {"constant": "dummy"}, "dummy")
    assert plan == [("constant baseline", "dummy", None)]
    plan, notes = comparison_plan("dummy", [("dummy", 1.0)], {"constant": "dummy"}, None)
    assert plan == [] and notes == [
        "the linear baseline did not run (see the leaderboard): no paired test with it"
    ]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=20, max_value=200),
    gap=st.floats(min_value=-1.0, max_value=1.5),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_the_verdict_never_contradicts_its_interval(n: int, gap: float, seed: int) -> None:
    y = np.random.default_rng(seed).integers(0, 2, n)
    a, b = _proba(y, 1.0 + gap, seed + 1), _proba(y, 1.0, seed + 2)
    result = paired_test("binary", "roc_auc", y, a, b, name_a="a", name_b="b", n_boot=200)
    if result.better:
        assert result.low > 0 and result.wording.startswith("a beats b")
    else:
        assert result.wording.startswith("no evidence that a beats b")
    assert -1.0 <= result.low <= result.high <= 1.0
