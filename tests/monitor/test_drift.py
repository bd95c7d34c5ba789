"""The drift tests' statistical properties: false alarms at alpha and power.

CI scale (a few hundred simulations per setting, checked with a binomial tolerance of three
standard errors); ``benchmarks/drift.py`` runs 1,000 per setting.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from apprentice.monitor.check import drift_alert, feature_drift
from apprentice.monitor.drift import (
    benjamini_hochberg,
    categorical_drift,
    chi_square,
    jensen_shannon,
    ks_test,
    merge_rare,
    numeric_drift,
)
from apprentice.monitor.policy import DriftPolicy
from apprentice.monitor.profile import categorical_profile, frame_profile, numeric_profile

ALPHA = 0.05
#: a skewed set of categories with rare ones: where a naive chi-square breaks down
PROBS = np.array([0.4, 0.25, 0.15, 0.1, 0.05, 0.03, 0.015, 0.005])


def _within(rate: float, sims: int, alpha: float = ALPHA) -> bool:
    return abs(rate - alpha) <= 3 * math.sqrt(alpha * (1 - alpha) / sims)


@pytest.mark.parametrize("n_ref", [200, 1000, 10000])
def test_chi_square_false_alarms_with_small_reference_and_10x_current(n_ref: int) -> None:
    rng = np.random.default_rng(n_ref)
    sims = 400
    alarms = 0
    for _ in range(sims):
        ref = rng.multinomial(n_ref, PROBS)
        cur = rng.multinomial(10 * n_ref, PROBS)
        alarms += chi_square(ref, cur)[1] < ALPHA
    assert _within(alarms / sims, sims), alarms / sims


def test_chi_square_false_alarms_equal_sizes_through_the_column_path() -> None:
    rng = np.random.default_rng(7)
    cats = np.array(list("abcdefgh"))
    sims = 300
    alarms = 0
    for _ in range(sims):
        ref = categorical_profile(pd.Series(rng.choice(cats, 500, p=PROBS)))
        cur = pd.Series(rng.choice(cats, 500, p=PROBS))
        alarms += categorical_drift("c", ref, cur).p_value < ALPHA
    assert _within(alarms / sims, sims), alarms / sims


@pytest.mark.parametrize(("n_ref", "n_cur"), [(1000, 1000), (1000, 10000), (5000, 500)])
def test_ks_false_alarms(n_ref: int, n_cur: int) -> None:
    rng = np.random.default_rng(n_ref + n_cur)
    sims = 400
    alarms = 0
    for _ in range(sims):
        ref = np.sort(rng.normal(size=n_ref))
        cur = np.sort(rng.normal(size=n_cur))
        alarms += ks_test(ref, cur)[1] < ALPHA
    assert _within(alarms / sims, sims), alarms / sims


def test_ks_agrees_with_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(0)
    a, b = np.sort(rng.normal(size=700)), np.sort(rng.normal(0.1, size=900))
    d, p = ks_test(a, b)
    ref = stats.ks_2samp(a, b)
    assert d == pytest.approx(ref.statistic)
    assert p == pytest.approx(ref.pvalue, rel=1e-6)
    big_a, big_b = np.sort(rng.normal(size=3000)), np.sort(rng.normal(0.05, size=3000))
    d, p = ks_test(big_a, big_b)
    assert p == pytest.approx(stats.ks_2samp(big_a, big_b, method="asymp").pvalue, rel=1e-6)


def test_merge_rare_leaves_every_expected_count_at_least_five() -> None:
    table = np.array([[100, 50, 30, 10, 5, 3, 1, 1], [1000, 500, 300, 100, 50, 30, 10, 10]])
    merged = merge_rare(table.astype(float))
    expected = np.outer(merged.sum(axis=1), merged.sum(axis=0)) / merged.sum()
    assert expected.min() >= 5
    assert merged.sum() == table.sum()


def test_distances() -> None:
    assert jensen_shannon(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert jensen_shannon(np.array([5, 5]), np.array([50, 50])) == pytest.approx(0.0)
    rng = np.random.default_rng(1)
    ref = numeric_profile(rng.normal(size=5000))
    same = numeric_drift("x", ref, rng.normal(size=5000))
    moved = numeric_drift("x", ref, rng.normal(1.0, size=5000))
    assert same.distance["psi"] < 0.02 and same.distance["wasserstein"] < 0.06
    assert moved.distance["psi"] > 0.5
    assert moved.distance["wasserstein"] == pytest.approx(1.0, abs=0.1)


def test_benjamini_hochberg() -> None:
    adj = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    assert adj == pytest.approx([0.04, 0.04 * 4 / 3 * 3 / 4 * 4 / 3, 0.04, 0.5], abs=0.02)
    assert adj[0] <= adj[2] <= adj[1] <= adj[3]
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).uniform(size=30)
    assert benjamini_hochberg(list(p)) == pytest.approx(false_discovery_control(p))


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(size=n) for i in range(19)}
    data["important"] = rng.normal(shift, 1.0, size=n)
    return pd.DataFrame(data)


def _profile(rng: np.random.Generator, n: int) -> dict:
    features = frame_profile(_frame(rng, n))
    importance = {c: 0.5 / 19 for c in features}
    importance["important"] = 0.5
    return {"features": features, "importance": importance}


def test_power_for_a_small_shift_in_an_important_feature() -> None:
    rng = np.random.default_rng(3)
    policy = DriftPolicy()
    sims, found = 25, 0
    for _ in range(sims):
        profile = _profile(rng, 5000)
        columns, score = feature_drift(profile, _frame(rng, 5000, shift=0.2), policy)
        found += drift_alert(columns, score, policy)
    assert found / sims >= 0.9


def test_no_drift_rarely_alerts_across_twenty_columns() -> None:
    rng = np.random.default_rng(4)
    policy = DriftPolicy()
    sims, alerts = 25, 0
    for _ in range(sims):
        columns, score = feature_drift(_profile(rng, 2000), _frame(rng, 2000), policy)
        alerts += drift_alert(columns, score, policy)
    assert alerts / sims <= 0.05


@pytest.mark.parametrize(("n_ref", "n_cur"), [(300, 300), (300, 1000), (1000, 300)])
def test_wide_category_column_false_alarms(n_ref: int, n_cur: int) -> None:
    # a charge-description-like column: 400 categories with Zipf shares, so every sample
    # lacks many of them and holds some that the reference sample never saw (not code-like:
    # the frequent ones dominate). Counting only the current side's new values as one
    # category alarmed on most of these same-distribution samples.
    rng = np.random.default_rng(n_ref + n_cur)
    cats = np.array([f"charge {i}" for i in range(400)])
    probs = 1.0 / np.arange(1, 401)
    probs /= probs.sum()
    sims = 300
    alarms = 0
    for _ in range(sims):
        ref = categorical_profile(pd.Series(rng.choice(cats, n_ref, p=probs)))
        cur = pd.Series(rng.choice(cats, n_cur, p=probs))
        result = categorical_drift("charge", ref, cur)
        assert result.test == "chi2"
        alarms += result.p_value < ALPHA
    assert alarms / sims <= ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / sims), alarms / sims


def test_a_new_frequent_category_in_a_wide_column_is_caught() -> None:
    rng = np.random.default_rng(3)
    cats = np.array([f"charge {i}" for i in range(400)])
    probs = 1.0 / np.arange(1, 401)
    probs /= probs.sum()
    ref = categorical_profile(pd.Series(rng.choice(cats, 1000, p=probs)))
    cur = pd.Series(np.concatenate([rng.choice(cats, 700, p=probs), ["new charge"] * 300]))
    result = categorical_drift("charge", ref, cur)
    assert result.p_value < 1e-6
    unseen = [n for n in result.notes if "in categories the reference never saw" in n]
    assert unseen and int(unseen[0].split()[0].replace(",", "")) >= 300


def test_code_columns_are_not_tested_on_category_shares() -> None:
    # 300 reference rows of cabin-like codes, nearly all seen once; new rows bring new codes
    rng = np.random.default_rng(0)
    codes = [f"{'ABCDEF'[i % 6]}{i}" for i in range(1000)]
    ref = categorical_profile(pd.Series(rng.choice(codes[:600], 300, replace=False)))
    current = pd.Series(rng.choice(codes[300:], 300, replace=False))
    result = categorical_drift("cabin", ref, current)
    assert result.test == "none" and not result.p_value < 1.0
    assert any("codes" in note for note in result.notes)
    # an ordinary category column with a real shift is still tested, and caught
    ref = categorical_profile(pd.Series(rng.choice(["a", "b", "c"], 2000, p=[0.6, 0.3, 0.1])))
    shifted = pd.Series(rng.choice(["a", "b", "c"], 2000, p=[0.3, 0.3, 0.4]))
    result = categorical_drift("plain", ref, shifted)
    assert result.test == "chi2" and result.p_value < 1e-6


def test_one_huge_cell_keeps_the_distance_finite_and_quiet() -> None:
    """A batch with one ``1e308`` (a unit slip, a corrupt cell) among 41 values: the W1/sd
    distance stays finite (the dashboard drew no bar and missed it as the largest move when
    it was inf), no overflow warning reaches stderr, and the move is still large."""
    import warnings

    from apprentice.monitor.partial import NumericPartial

    rng = np.random.default_rng(2)
    ref = numeric_profile(rng.normal(17, 1.3, size=2000))
    current = rng.normal(17, 1.3, size=41)
    current[5] = 1e308
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        whole = numeric_drift("age", ref, current)
        part = NumericPartial.of(ref, current).drift("age", ref)
        plain = numeric_drift("age", ref, current[np.arange(41) != 5])
    for col in (whole, part):
        assert math.isfinite(col.distance["wasserstein"])
        assert col.distance["wasserstein"] > plain.distance["wasserstein"] + 0.1
    assert whole.distance["wasserstein"] == pytest.approx(part.distance["wasserstein"], rel=0.05)
