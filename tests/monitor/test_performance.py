"""The labelled performance check: two-sample tests of each window and of all rows together
against the holdout, one family at ``performance.alpha``; for regression also the rank
correlation of predictions with labels (label noise a weak model's mean error hides)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.monitor import Policy, check
from apprentice.monitor.check import judge_windows, performance_alert
from apprentice.monitor.performance import (
    association,
    mid_rank,
    reference_association,
    row_stats,
    sorted_sample,
)
from tests.learn._data import TABLES, text_table
from tests.monitor.test_partial import _chunks, assert_same


def _weak_model(rng: np.random.Generator, n: int, rho: float = 0.4) -> tuple[Any, Any]:
    """Predictions that explain little of the labels (rank correlation about ``rho``)."""
    signal = rng.normal(size=n)
    y = 1000 * (rho * signal + np.sqrt(1 - rho * rho) * rng.normal(size=n)) + 3000
    prediction = 1000 * rho * signal + 3000
    return prediction, y


def _profile(prediction: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """What ``build_profile`` keeps of a regression holdout."""
    errors = np.abs(prediction - y)
    scores = {"prediction": sorted_sample(prediction, 0), "label": sorted_sample(y, 1)}
    return {
        "reference_metrics": {
            "mae": float(errors.mean()),
            "mae_sd": float(errors.std(ddof=1)),
            "n": len(y),
            "scores": scores,
            "association": reference_association(prediction, y, scores),
        }
    }


def _judge(profile: dict[str, Any], prediction: Any, y: Any, window: int = 1000) -> Any:
    stats = row_stats("regression", prediction, y, None, profile["reference_metrics"])
    keys = np.arange(len(y)) // window
    sums = [(f"rows {k * window + 1}-", stats[keys == k].sum(axis=0)) for k in np.unique(keys)]
    return judge_windows(sums, "regression", profile, Policy())


def test_rank_positions_and_the_holdout_correlation() -> None:
    ref = np.array([1.0, 2.0, 2.0, 3.0])
    assert mid_rank(ref, np.array([0.0, 2.0, 5.0, 1.0])).tolist() == [0.0, 0.5, 1.0, 0.125]
    rng = np.random.default_rng(0)
    prediction, y = _weak_model(rng, 1500)
    profile = _profile(prediction, y)
    from scipy.stats import spearmanr

    # on the holdout itself the rank positions are its ranks: Spearman's correlation
    want = spearmanr(prediction, y).statistic
    assert profile["reference_metrics"]["association"] == pytest.approx(want, abs=2e-3)
    assert association(np.array([5.0, 1, 1, 1, 1, 1, 1, 1])) is None  # too few rows


def test_label_noise_a_weak_models_mean_error_hides_is_found() -> None:
    """20% of the labels replaced by random ones: the mean error rises by a few percent
    (below the 5% a mean needs), the predictions' rank correlation with the labels falls."""
    rng = np.random.default_rng(1)
    profile = _profile(*_weak_model(rng, 3000))
    prediction, y = _weak_model(rng, 5000)
    noisy = y.copy()
    flip = rng.random(len(y)) < 0.2
    noisy[flip] = rng.permutation(y)[: flip.sum()]
    found = _judge(profile, prediction, noisy)
    overall = found["overall"]
    assert overall["mae"] < profile["reference_metrics"]["mae"] * 1.05
    assert overall["fired"] == ["association"], overall
    alert = performance_alert(found)
    assert alert is not None
    assert alert["message"].startswith(
        "the predictions' rank correlation with the labels fell below the reference "
    )
    assert "(holdout of 3000 rows) over all rows: 0." in alert["message"]
    # the same rows with their own labels: no alert
    clean = _judge(profile, prediction, y)
    assert not clean["overall"]["alert"] and not any(w["alert"] for w in clean["windows"])
    assert performance_alert(clean) is None


def test_same_distribution_windows_keep_the_stated_rate() -> None:
    """Simulated same-distribution checks of 500 to 5,000 rows against a 1,500-row holdout
    (a fresh holdout each time): the performance check alerts in about alpha = 1% of them."""
    rng = np.random.default_rng(2)
    alerts, sims = 0, 400
    for i in range(sims):
        rho = (0.3, 0.6, 0.9)[i % 3]
        profile = _profile(*_weak_model(rng, 1500, rho=rho))
        prediction, y = _weak_model(rng, (500, 1000, 2000, 5000)[i % 4], rho=rho)
        alerts += performance_alert(_judge(profile, prediction, y)) is not None
    assert alerts / sims <= 0.025  # alpha = 0.01, Bonferroni: at most about 1% (0.5% seen)


def test_an_old_profile_without_rank_positions_tests_the_error_only() -> None:
    rng = np.random.default_rng(3)
    profile = _profile(*_weak_model(rng, 1500))
    del profile["reference_metrics"]["scores"], profile["reference_metrics"]["association"]
    prediction, y = _weak_model(rng, 2000)
    found = _judge(profile, prediction, y + 1500)  # every label moved: the error rises
    assert found["overall"]["association"] is None
    assert found["overall"]["fired"] == ["mae"]
    assert performance_alert(found)["message"].startswith("mae rose above the reference ")


@pytest.fixture(scope="module")
def abalone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    if not (TABLES / "abalone.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    from apprentice.bundle import train

    rows = text_table("abalone.csv", seed=5).sample(frac=1.0, random_state=5)
    out = tmp_path_factory.mktemp("abalone") / "bundle"
    train(rows.iloc[:2000].reset_index(drop=True), target="rings", out=out, time_budget=None,
          max_trials=0, families=("linear",), n_jobs=1, n_boot=20)  # fmt: skip
    return out, rows.iloc[2000:].reset_index(drop=True)


def test_a_trained_regression_bundle_chunked_equals_whole(
    abalone: tuple[Path, pd.DataFrame],
) -> None:
    """A real regression bundle: its profile keeps the holdout's rank positions; the chunked
    check's sums give the whole-frame check's windows, all rows and alerts exactly; labels
    scrambled for half of the rows are an alert."""
    from apprentice.bundle import load_bundle
    from apprentice.monitor import load_profile
    from apprentice.monitor.partial import check_chunks

    path, current = abalone
    bundle = load_bundle(path)
    ref = load_profile(bundle)["reference_metrics"]
    assert len(ref["scores"]["prediction"]) == ref["n"] and 0.3 < ref["association"] < 1
    whole = check(bundle, current).to_dict()
    assert_same(whole, check_chunks(bundle, _chunks(current, 700)).to_dict())
    assert whole["performance"]["overall"]["rows"] == len(current)
    assert not [a for a in whole["alerts"] if a["check"] == "performance"]
    noisy = current.copy()
    half = noisy.index[::2]
    noisy.loc[half, "rings"] = noisy.loc[half, "rings"].sample(frac=1.0, random_state=0).values
    found = check(bundle, noisy).to_dict()
    assert_same(found, check_chunks(bundle, _chunks(noisy, 700)).to_dict())
    assert "association" in found["performance"]["overall"]["fired"]
    assert [a["check"] for a in found["alerts"]] == ["performance"]
    assert len(noisy) == len(current)  # nothing dropped
