"""Honest redundancy is not a leak: one measurement written several ways (a stone's carat and
its width, length and depth) is linked directly, two records of the outcome only through the
target. Tables made for it: the size of a stone four ways (not flagged), three records of the
sale price (flagged), both together (the records still flagged)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.learn.features import infer_kind
from apprentice.learn.leak_review import (
    THRESHOLDS,
    Thresholds,
    judge,
    measurements,
    mutual_information,
    review_leakage,
)


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {str(c): infer_kind(frame[c]) for c in frame.columns}


def _stones(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A stone's size measured four ways (each alone R² ~0.96 of the price), and weak honest
    columns: without the four, the price is out of reach."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 0.35, n)
    frame = pd.DataFrame(
        {
            "carat": np.round(0.2 * size**3 * rng.lognormal(0, 0.03, n), 2),
            "x": np.round(4.0 * size * rng.lognormal(0, 0.01, n), 2),
            "y": np.round(4.0 * size * rng.lognormal(0, 0.01, n), 2),
            "z": np.round(2.5 * size * rng.lognormal(0, 0.015, n), 2),
            "cut": pd.Categorical(rng.choice(["fair", "good", "ideal"], n)),
            "color": pd.Categorical(rng.choice(list("DEFGHIJ"), n)),
            "depth": np.round(rng.normal(61.7, 1.4, n), 1),
        }
    )
    quality = 0.1 * frame["cut"].cat.codes.to_numpy() + 0.05 * frame["color"].cat.codes.to_numpy()
    price = 1000.0 * np.exp(1.0 + 3.0 * np.log(size) + quality + rng.normal(0, 0.15, n))
    return frame, price


def _records_of_the_price(price: np.ndarray, seed: int, k: int, noise: float) -> dict[str, Any]:
    """``k`` amounts written after the sale (invoice, insurance, settlement): each the price
    with its own independent error."""
    rng = np.random.default_rng(seed)
    z = np.log(price)
    return {
        f"record_{i}": np.round(np.exp(z + rng.normal(0, noise * z.std(), len(z))), 0)
        for i in range(k)
    }


def test_one_measurement_written_four_ways_is_not_a_leak() -> None:
    frame, price = _stones(2000, seed=1)
    before = frame.copy()
    review = review_leakage(frame, price, "regression", _kinds(frame))
    m = review.measures
    # the pattern the group rule looks for is there: four columns each near the model, and
    # the model lost without all four ...
    assert sorted(m["group"]) == ["carat", "x", "y", "z"]
    assert m["group_without"] is not None and m["group_without"] < 0.1
    assert min(m["single"][c] for c in m["group"]) > 0.9
    # ... but each tells far more about the others than the price does: one measurement
    links = m["group_links"]
    for a, b, mi in links["pairs"]:
        assert mi > 1.3 * min(links["target"][a], links["target"][b]), (a, b)
    assert measurements(m["group"], links, THRESHOLDS) == [m["group"]]
    assert review.findings == [], [f.message for f in review.findings]
    pd.testing.assert_frame_equal(frame, before)
    # without the redundancy test (every member its own measurement) all four were flagged
    old = judge({**m, "group_links": {}}, THRESHOLDS)
    assert sorted(f.column for f in old) == ["carat", "x", "y", "z"]


def test_records_of_the_outcome_that_hide_each_other_are_flagged() -> None:
    frame, price = _stones(2000, seed=3)
    frame = frame.drop(columns=["carat", "x", "y", "z"])
    planted = _records_of_the_price(price, seed=4, k=3, noise=0.35)
    frame = frame.assign(**planted)
    review = review_leakage(frame, price, "regression", _kinds(frame))
    links = review.measures["group_links"]
    # linked only through the price: no pair tells more about each other than the price does
    for a, b, mi in links["pairs"]:
        assert mi <= min(links["target"][a], links["target"][b]), (a, b)
    assert sorted(f.column for f in review.findings) == sorted(planted)
    for finding in review.findings:
        assert "masking_group" in finding.rules and finding.severity == "high"
        assert len(finding.evidence["measurements"]) == 3
        assert "without all of them" in finding.message


def test_a_record_of_the_outcome_beside_a_redundant_measurement_is_flagged() -> None:
    # the record hides behind the four size columns (and they behind it): two measurements
    frame, price = _stones(2000, seed=5)
    frame = frame.assign(**_records_of_the_price(price, seed=6, k=1, noise=0.2))
    review = review_leakage(frame, price, "regression", _kinds(frame))
    flagged = {f.column for f in review.findings}
    assert "record_0" in flagged
    finding = next(f for f in review.findings if f.column == "record_0")
    assert sorted(map(sorted, finding.evidence["measurements"])) == [
        ["carat", "x", "y", "z"],
        ["record_0"],
    ]
    # a stricter copy ratio cannot merge a record of the price into the size measurement
    strict = judge(review.measures, Thresholds(copy_ratio=1.0))
    assert "record_0" in {f.column for f in strict}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=2, max_size=300),
    st.integers(0, 2**31 - 1),
)
def test_mutual_information_is_symmetric_bounded_and_zero_for_a_constant(
    values: list[int], seed: int
) -> None:
    a = np.asarray(values)
    b = np.random.default_rng(seed).permutation(a)
    ab, ba = mutual_information(a, b), mutual_information(b, a)
    assert ab == ba or abs(ab - ba) < 1e-12
    assert 0.0 <= ab <= mutual_information(a, a) + 1e-12
    assert mutual_information(a, np.zeros(len(a), dtype=int)) == 0.0
