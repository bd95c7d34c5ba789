"""Error slices: a planted bad slice is found, random slices are not (multiple testing)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apprentice.errors import ConfigError
from apprentice.evaluate.slices import COLUMNS, error_slices, slices_to_records
from tests.learn._data import needs_tables, text_table

pytestmark = needs_tables


def _adult(seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Real adult rows, the real labels, and predictions wrong 12% of the time, except for
    occupation Sales where they are wrong 35% of the time; plus a random 6-level column."""
    frame = text_table("adult.csv", rows=4000, seed=seed)
    y = frame.pop("income").str.strip().eq(">50K").astype(int).to_numpy()
    rng = np.random.default_rng(seed)
    sales = frame["occupation"].str.strip().eq("Sales").to_numpy()
    wrong = rng.random(len(y)) < np.where(sales, 0.35, 0.12)
    pred = np.where(wrong, 1 - y, y)
    frame["random_group"] = rng.choice(list("ABCDEF"), len(y))
    return frame, y, pred


def test_planted_slice_is_found_and_random_slices_are_not() -> None:
    for seed in (0, 1, 2):
        frame, y, pred = _adult(seed)
        table = error_slices(frame, y, pred, task="binary")
        assert list(table.columns) == COLUMNS
        significant = table[table["significant"]]
        top = significant.iloc[0]
        assert (top["feature"], top["slice"]) == ("occupation", "= Sales"), seed
        assert top["error"] > top["overall"] and top["low"] > top["rest"]
        # the random column never produces a significant slice
        assert not significant["feature"].eq("random_group").any(), seed
        assert table["feature"].eq("random_group").sum() == 6
        # multiple testing: adjusted p-values are never smaller than the raw ones
        assert (table["p_adjusted"] >= table["p_value"] - 1e-12).all()
        assert table.attrs["metric"] == "error_rate" and table.attrs["tested"] == len(table)


def test_without_correction_random_slices_would_look_significant() -> None:
    """Why the correction matters: over many random columns some raw p-values fall below
    alpha, and none survives the adjustment."""
    _, y, pred = _adult(0)
    rng = np.random.default_rng(5)
    noise = pd.DataFrame({f"r{i}": rng.choice(list("ABCDE"), len(y)) for i in range(20)})
    table = error_slices(noise, y, pred, task="binary")
    assert (table["p_value"] < 0.05).any()
    assert not table["significant"].any()
    holm = error_slices(noise, y, pred, task="binary", correction="holm")
    assert (holm["p_adjusted"].to_numpy() >= 0).all() and not holm["significant"].any()


def test_numeric_bins_and_probabilities() -> None:
    frame, y, _ = _adult(3)
    rng = np.random.default_rng(3)
    age = pd.to_numeric(frame["age"].str.strip())
    old = (age >= 60).to_numpy()
    p1 = np.where(y == 1, 0.8, 0.2)
    p1 = np.where(old & (rng.random(len(y)) < 0.4), 1 - p1, p1)  # old people: often wrong
    proba = np.column_stack([1 - p1, p1])
    table = error_slices(frame[["age", "hours_per_week"]], y, proba, task="binary")
    top = table.iloc[0]
    assert top["feature"] == "age" and top["significant"]
    low = float(top["slice"].strip("[]()").split(",")[0])
    assert low >= 45  # the oldest quantile bin
    assert top["slice"].startswith("[")


def test_regression_slices() -> None:
    frame = text_table("california_housing.csv", rows=3000, seed=4)
    y = frame.pop("median_house_value").astype(float).to_numpy()
    rng = np.random.default_rng(4)
    island = frame["ocean_proximity"].eq("NEAR BAY").to_numpy()
    pred = y + rng.normal(0, np.where(island, 90_000, 30_000))
    table = error_slices(frame, y, pred, task="regression")
    assert table.attrs["metric"] == "mae"
    top = table.iloc[0]
    assert (top["feature"], top["slice"], bool(top["significant"])) == (
        "ocean_proximity",
        "= NEAR BAY",
        True,
    )
    assert top["low"] <= top["error"] <= top["high"]
    records = slices_to_records(table)
    assert isinstance(records[0]["n"], int) and isinstance(records[0]["significant"], bool)


def test_missing_values_have_their_own_slice_and_ids_are_skipped() -> None:
    frame, y, pred = _adult(6)
    frame = frame[["workclass"]].copy()
    frame.loc[::7, "workclass"] = ""
    frame["row_id"] = [f"id-{i}" for i in range(len(frame))]
    frame["note"] = "<script>alert(1)</script>"
    frame.loc[::2, "note"] = "plain"
    table = error_slices(frame, y, pred, task="binary")
    assert "(missing)" in set(table.loc[table["feature"] == "workclass", "slice"])
    assert "row_id" not in set(table["feature"])
    assert "= <script>alert(1)</script>" in set(table["slice"])  # escaping is the report's job
    assert "workclass" not in set(
        error_slices(frame, y, pred, task="binary", exclude=["workclass"])["feature"]
    )


def test_bad_input() -> None:
    frame, y, pred = _adult(0)
    with pytest.raises(ConfigError, match="unknown task"):
        error_slices(frame, y, pred, task="survival")
    with pytest.raises(ConfigError, match="predictions for"):
        error_slices(frame.iloc[:10], y, pred, task="binary")
    with pytest.raises(ConfigError, match="alpha"):
        error_slices(frame, y, pred, task="binary", alpha=2.0)
    with pytest.raises(ConfigError, match="correction"):
        error_slices(frame, y, pred, task="binary", correction="bonferonni")
