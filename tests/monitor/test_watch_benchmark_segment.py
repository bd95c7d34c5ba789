"""The segment rule of ``benchmarks/watch.py``: the two worlds are cut where the ranking score
has no ties, so the new world is a region of feature space a challenger can learn."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("watch_bench", ROOT / "benchmarks" / "watch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("watch_bench", module)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Like bank_marketing's ``previous``: the feature most tied to the target is 0 in 80% of
    rows; two more numeric features with many values, one text column."""
    rng = np.random.default_rng(seed)
    previous = np.where(rng.random(n) < 0.8, 0, rng.integers(1, 7, n))
    age = rng.integers(18, 90, n)
    balance = rng.normal(1000, 400, n).round(2)
    logit = 1.5 * (previous > 0) + 0.02 * (age - 50) + 0.001 * (balance - 1000)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    job = rng.choice(["admin", "technician", "services"], n)
    frame = pd.DataFrame({"previous": previous, "age": age, "balance": balance, "job": job, "y": y})
    return frame.astype(str)


def _score(frame: pd.DataFrame) -> pd.Series:
    score, _ = BENCH.segment_score(frame, "y")
    return pd.Series(score, index=frame.index)


def test_a_mostly_tied_feature_no_longer_decides_the_cut() -> None:
    frame = _frame(4000, 1)
    # the old rule's feature: the median falls in the 80% of rows tied at 0
    assert (frame["previous"] == "0").mean() > 0.75
    score, used = BENCH.segment_score(frame, "y")
    assert used[0] == "previous" and set(used) >= {"previous", "age"}
    old, new, cut = BENCH.worlds(frame, "y", seed=3)
    assert cut["tied_at_cut"] <= 0.001
    # the worlds are separated by the score: no row of the old world ranks above a new one
    key = ["previous", "age", "balance", "job"]
    by_row = dict(zip(map(tuple, frame[key].to_numpy()), score, strict=True))
    old_scores = [by_row[tuple(r)] for r in old[key].to_numpy()]
    new_scores = [by_row[tuple(r)] for r in new[key].to_numpy()]
    assert max(old_scores) <= min(new_scores)
    assert len(old) + len(new) == len(frame) and abs(len(old) - len(new)) <= 1


def test_the_new_world_has_the_other_outcome_and_loses_no_row() -> None:
    frame = _frame(1001, 2)
    old, new, _ = BENCH.worlds(frame, "y", seed=5)
    merged = pd.concat([old, new]).drop(columns="y")
    assert sorted(map(tuple, merged.to_numpy())) == sorted(
        map(tuple, frame.drop(columns="y").to_numpy())
    )
    original = frame.set_index(["previous", "age", "balance", "job"])["y"]
    flipped = {"yes": "no", "no": "yes"}
    for row in new.head(50).itertuples(index=False):
        truth = original.loc[(row.previous, row.age, row.balance, row.job)]
        assert row.y == flipped[truth if isinstance(truth, str) else truth.iloc[0]]


def test_no_numeric_feature_is_refused() -> None:
    frame = pd.DataFrame({"job": ["a", "b"] * 50, "y": ["yes", "no"] * 50})
    with pytest.raises(SystemExit, match="no numeric feature"):
        BENCH.worlds(frame, "y", seed=0)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(60, 400),
    levels=st.lists(st.integers(2, 40), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_the_cut_splits_the_rows_in_two_ordered_halves(
    n: int, levels: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    columns = {f"x{i}": rng.integers(0, k, n) for i, k in enumerate(levels)}
    signal = sum(columns.values()) + rng.normal(0, 1, n)
    columns["y"] = np.where(signal > np.median(signal), "b", "a")
    frame = pd.DataFrame(columns).astype(str)
    if not any(frame[c].nunique() >= 5 for c in columns if c != "y"):
        with pytest.raises(SystemExit):
            BENCH.worlds(frame, "y", seed=seed)
        return
    old, new, cut = BENCH.worlds(frame, "y", seed=seed)
    assert len(old) == n // 2 and len(new) == n - n // 2
    assert 0.0 < cut["tied_at_cut"] <= 1.0 and cut["features"]
    assert set(new["y"]) <= {"a", "b"}
