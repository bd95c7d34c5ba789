"""Every interval stays inside its metric's range (a CV interval for ROC AUC was printed as
[0.9773, 1.001]): holdout bootstrap intervals, the leaderboard's CV intervals, slice intervals."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.evaluate import holdout_metrics
from apprentice.evaluate.metrics import METRIC_RANGE, bounded
from apprentice.evaluate.slices import error_slices
from apprentice.report.render import context

BOUNDED_01 = [m for m, (lo, hi) in METRIC_RANGE.items() if (lo, hi) == (0.0, 1.0)]
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
finite = st.floats(min_value=-5.0, max_value=5.0, allow_nan=False)


@given(metric=st.sampled_from(sorted(METRIC_RANGE)), a=finite, b=finite)
def test_bounded_keeps_any_interval_inside_the_range(metric: str, a: float, b: float) -> None:
    low, high = bounded(metric, min(a, b), max(a, b))
    lo, hi = METRIC_RANGE[metric]
    assert lo <= low <= high <= hi
    if lo <= a <= hi and lo <= b <= hi:  # an interval already inside is unchanged
        assert (low, high) == (min(a, b), max(a, b))


@settings(max_examples=60, deadline=None)
@given(
    metric=st.sampled_from([*BOUNDED_01, "r2", "rmse", "log_loss"]),
    scores=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=10),
)
def test_the_leaderboard_cv_interval_stays_inside(metric: str, scores: list[float]) -> None:
    """A leaderboard row as the search writes it (mean, std over folds): the rendered
    interval never leaves the metric's range, even for scores at the bound."""
    values = np.asarray(scores)
    row = {
        "rank": 1,
        "model": "lightgbm_default",
        f"cv_{metric}": float(values.mean()),
        "cv_std": float(values.std(ddof=1)),
        "folds": len(values),
        "status": "ok",
    }
    shown = context({"metric": metric, "leaderboard": [row]})["leaderboard"]["rows"][0]
    numbers = [float(x) for x in re.findall(NUMBER, shown["interval"])]
    lo, hi = METRIC_RANGE[metric]
    if numbers:
        low, high = numbers
        assert lo <= low <= high <= hi


def test_a_near_perfect_roc_auc_over_folds() -> None:
    """The case that was seen: AUC 0.9773 to 1.001 over five folds."""
    scores = [0.975, 0.99, 1.0, 0.999, 0.982]
    row = {"model": "m", "cv_roc_auc": np.mean(scores), "cv_std": np.std(scores, ddof=1)}
    shown = context({"metric": "roc_auc", "leaderboard": [{**row, "folds": 5}]})
    low, high = (float(x) for x in re.findall(NUMBER, shown["leaderboard"]["rows"][0]["interval"]))
    assert 0.97 < low < 0.98 and high == 1.0


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(min_value=8, max_value=60),
    noise=st.floats(min_value=0.0, max_value=3.0),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_holdout_intervals_stay_inside(n: int, noise: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    z = 4 * (2 * y - 1) + noise * rng.normal(size=n)  # from near perfect to noisy
    p = 1 / (1 + np.exp(-z))
    result = holdout_metrics("binary", y, np.column_stack([1 - p, p]), threshold=0.5, n_boot=64)
    yr = rng.normal(size=n)
    result |= holdout_metrics("regression", yr, yr + noise * rng.normal(size=n), n_boot=64)
    for name, iv in result.items():
        lo, hi = METRIC_RANGE[name]
        for v in (iv.low, iv.high):
            assert math.isnan(v) or lo <= v <= hi, (name, iv)


def test_a_regression_slice_interval_never_goes_below_zero() -> None:
    rng = np.random.default_rng(0)
    n = 400
    group = np.where(np.arange(n) < 60, "rare", "common")
    y = rng.normal(size=n)
    tiny = rng.exponential(0.05, n) * (rng.random(n) < 0.1)
    err = np.where(group == "rare", tiny, 0.5 + 0.1 * rng.random(n))
    frame = pd.DataFrame({"group": group})
    table = error_slices(frame, y, y + err, task="regression", min_size=30)
    assert len(table)
    assert (table["low"].dropna() >= 0).all()
