"""Checks that are right by construction: no alarm from what a sample of the reference itself
would show, an alarm for a large certain shift whatever the column's importance, and a
label-free estimate that says when it cannot be trusted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.monitor import Policy, check, load_profile
from apprentice.monitor.check import judge_windows
from apprentice.monitor.quality import quality_counts, quality_verdicts
from tests.monitor.conftest import Monitored


def _title_profile(n: int = 1000) -> dict:
    # a free-text-like column typed as a category: most reference titles are seen once
    counts = {f"title {i}": 1 for i in range(n - 200)}
    counts.update({"nurse": 100, "teacher": 100})
    return {"rows": n, "features": {"title": {"kind": "categorical", "n": n, "missing_rate": 0.08,
                                              "counts": counts}}}  # fmt: skip


def test_unseen_free_text_is_not_missing() -> None:
    """The loans table's `emp_title`: new job titles are the column's normal state. They are
    unseen values, not missing ones (it alarmed with 'missing in 52% of rows')."""
    profile = _title_profile()
    rng = np.random.default_rng(0)
    raw_titles = [f"new title {i}" if rng.random() < 0.5 else "nurse" for i in range(500)]
    raw_titles[:40] = [""] * 40  # 8% really missing, as in the reference
    raw = pd.DataFrame({"title": raw_titles})
    typed = pd.DataFrame({"title": [t if t == "nurse" else None for t in raw_titles]})
    counts = quality_counts(profile, typed, raw=raw)
    assert counts["title"]["missing"] == 40
    found = quality_verdicts(
        profile, counts, rows=500, raw_columns=["title"], input_columns=["title"],
        policy=Policy().quality,
    )  # fmt: skip
    assert found["columns"]["title"]["missing_rate"] == pytest.approx(0.08)
    assert not [i for i in found["issues"] if i["check"] == "missing_rate"], found["issues"]


def test_real_missing_jump_still_alerts() -> None:
    profile = _title_profile()
    raw = pd.DataFrame({"title": [""] * 300 + ["nurse"] * 200})
    typed = pd.DataFrame({"title": [None] * 300 + ["nurse"] * 200})
    found = quality_verdicts(
        profile, quality_counts(profile, typed, raw=raw), rows=500, raw_columns=["title"],
        input_columns=["title"], policy=Policy().quality,
    )  # fmt: skip
    assert [i["message"] for i in found["issues"] if i["check"] == "missing_rate"] == [
        "'title' is missing in 60.0% of rows (reference 8.0%)"
    ]


def _sparse_profile() -> dict:
    return {"rows": 5000, "features": {"amount": {"kind": "numeric", "n": 400, "min": 0.0,
                                                  "max": 100.0, "missing_rate": 0.92}}}  # fmt: skip


def test_out_of_range_is_judged_by_the_sample_size() -> None:
    """A sparse column: 1 of its 20 filled values past the reference's max is what a sample
    of that size can show (5% > the 1% threshold, yet no evidence); 30 of 100 is not."""
    profile = _sparse_profile()
    few = pd.DataFrame({"amount": [np.nan] * 480 + [50.0] * 19 + [101.0]})
    found = quality_verdicts(
        profile, quality_counts(profile, few), rows=500, raw_columns=None, input_columns=[],
        policy=Policy().quality,
    )  # fmt: skip
    assert found["columns"]["amount"]["out_of_range_share"] == pytest.approx(0.05)
    assert not found["issues"]
    many = pd.DataFrame({"amount": [np.nan] * 400 + [50.0] * 70 + [150.0] * 30})
    found = quality_verdicts(
        profile, quality_counts(profile, many), rows=500, raw_columns=None, input_columns=[],
        policy=Policy().quality,
    )  # fmt: skip
    assert [i["check"] for i in found["issues"]] == ["out_of_range"]


def _regression_windows(values: list[tuple[float, float]], n: int) -> list[tuple[str, Any]]:
    """Windows' sums from (MAE, sd of the errors) of ``n`` rows each, without rank positions."""
    nan = float("nan")
    return [
        (f"rows {i * n + 1}-",
         np.array([n, n * mae, (n - 1) * sd * sd + n * mae * mae, nan, nan, nan, nan, nan]))
        for i, (mae, sd) in enumerate(values)
    ]  # fmt: skip


def test_performance_counts_the_reference_uncertainty() -> None:
    """The hotel-price case: a 1,000-row window whose interval holds the reference MAE of a
    2,000-row holdout is no evidence of degradation (it alerted, and said 'fell below')."""
    profile = {"reference_metrics": {"mae": 9.146, "n": 2000, "mae_sd": 14.0}}
    found = judge_windows(_regression_windows([(9.9, 14.0), (9.0, 13.0), (9.4, 14.0)], 1000),
                          "regression", profile, Policy())  # fmt: skip
    assert found is not None
    assert not [w for w in found["windows"] if w["alert"]]
    assert found["windows"][0]["low"] < 9.146 < found["windows"][0]["high"]


def test_performance_alert_names_the_direction_and_the_window(monitored: Monitored) -> None:
    profile = {"reference_metrics": {"mae": 9.146, "n": 2000, "mae_sd": 14.0}}
    found = judge_windows(_regression_windows([(9.1, 14.0), (14.0, 15.0)], 1000),
                          "regression", profile, Policy())  # fmt: skip
    assert [w["alert"] for w in found["windows"]] == [False, True]
    from apprentice.monitor.check import performance_alert

    alert = performance_alert(found)
    assert alert is not None
    assert alert["message"].startswith(
        "mae rose above the reference 9.146 (holdout of 2000 rows) over all rows: 11.55 [95% CI"
    )
    assert "; in 1 of 2 window(s), worst rows 1001-: 14 [95% CI" in alert["message"]


def test_a_large_swap_in_an_unimportant_column_alerts(monitored: Monitored) -> None:
    """A category swap that moves most rows is reported whatever the column's importance
    (importance decides the severity, not silence)."""
    bundle = load_bundle(monitored.path)
    profile = load_profile(bundle)
    column = min(
        (c for c, ref in profile["features"].items() if ref["kind"] == "categorical"),
        key=lambda c: profile["importance"].get(c, 0.0),
    )
    assert profile["importance"].get(column, 0.0) < Policy().drift.important_feature
    shifted = monitored.current.copy()
    values = shifted[column].value_counts().index
    # the two commonest categories written as a rare one: over half the rows move
    swap = {values[0]: values[-1], values[1]: values[-1]}
    shifted[column] = shifted[column].map(lambda v: swap.get(v, v))
    result = check(bundle, shifted)
    drift = [a for a in result.alerts if a["check"] == "feature_drift"]
    assert drift, result.alerts
    assert column in drift[0]["message"]


def test_cbpe_says_when_it_cannot_be_trusted(monitored: Monitored) -> None:
    """Rows far outside the training support: the model's confidence says nothing there."""
    bundle = load_bundle(monitored.path)
    shifted = monitored.current.copy()
    shifted["age"] = (pd.to_numeric(shifted["age"]) + 80).astype(str)
    result = check(bundle, shifted)
    assert result.estimated is not None
    assert result.estimated["trusted"] is False
    assert "age" in result.estimated["why_not_trusted"]
    assert not [a for a in result.alerts if a["check"] == "estimated_performance"]


def test_same_distribution_samples_rarely_alert(monitored: Monitored) -> None:
    """Twenty samples of 500 rows from the reference's own distribution, labels included:
    the stated false-alarm rate is 5%, so 20 runs give at most a few alerts (0 expected)."""
    bundle = load_bundle(monitored.path)
    pool = pd.concat([monitored.current, monitored.reference.iloc[2200:]], ignore_index=True)
    alerted = []
    for seed in range(20):
        sample = pool.sample(500, replace=True, random_state=seed)
        result = check(bundle, sample)
        if result.alerts:
            alerted.append((seed, result.alerts))
    assert len(alerted) <= 2, alerted


def test_monitored_accuracy_is_that_of_the_served_labels(monitored: Monitored) -> None:
    """One threshold everywhere: the monitor's accuracy is that of the labels the bundle
    serves (at its decision threshold), and the reference's was measured the same way."""
    bundle = load_bundle(monitored.path)
    assert bundle.threshold is not None
    result = check(bundle, monitored.current)
    served = bundle.predict(monitored.current.drop(columns=["income"]))
    truth = monitored.current["income"].str.strip().to_numpy()
    (window,) = result.performance["windows"]
    assert window["accuracy"] == pytest.approx(float(np.mean(served == truth)))
    assert load_profile(bundle)["reference_metrics"]["threshold"] == bundle.threshold
