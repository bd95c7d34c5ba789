"""Leakage checks: identifiers, too-good single features, shared duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from apprentice.learn.features import infer_kind
from apprentice.learn.leakage import (
    LeakageReport,
    find_id_like,
    find_near_perfect,
    shared_duplicates,
)
from tests.learn._data import needs_tables, typed_table


def _kinds(frame: pd.DataFrame) -> dict[str, str]:
    return {c: infer_kind(frame[c]) for c in frame}


def test_identifiers_are_found_with_a_reason() -> None:
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "row": np.arange(1000, 1000 + n, dtype=float),
            "customer_id": pd.Categorical([f"C{i:05d}" for i in rng.permutation(n)]),
            "code": pd.Categorical([f"X{i}" for i in rng.permutation(n)]),
            "age": rng.integers(18, 90, n).astype(float),
            "income": rng.normal(50_000, 1000, n),
        }
    )
    found = find_id_like(frame, _kinds(frame))
    assert set(found) == {"row", "customer_id", "code"}
    assert "row counter" in found["row"]
    assert "identifier" in found["code"]


def test_a_feature_that_is_the_target_in_disguise_is_flagged() -> None:
    rng = np.random.default_rng(1)
    n = 400
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "leak": pd.Categorical(np.where(y == 1, "paid", "defaulted")),
            "noise": rng.normal(size=n),
            "weak": y + rng.normal(scale=2.0, size=n),
        }
    )
    found = find_near_perfect(frame, y, "binary", _kinds(frame))
    assert set(found) == {"leak"} and found["leak"] > 0.99
    yr = rng.normal(size=n)
    frame_r = pd.DataFrame({"twice": yr * 2 + 1, "noise": rng.normal(size=n)})
    assert set(find_near_perfect(frame_r, yr, "regression", _kinds(frame_r))) == {"twice"}
    y3 = rng.integers(0, 3, n)
    frame_m = pd.DataFrame({"copy": pd.Categorical(np.array(["a", "b", "c"])[y3])})
    assert set(find_near_perfect(frame_m, y3, "multiclass", _kinds(frame_m))) == {"copy"}


def test_report_excludes_unless_kept() -> None:
    report = LeakageReport(id_like={"id": "x"}, near_perfect={"leak": 0.999, "ok": 0.995})
    report.kept = ["ok"]
    assert set(report.excluded) == {"id", "leak"}
    assert report.to_dict()["kept_despite_warning"] == ["ok"]


def test_shared_duplicates_are_counted() -> None:
    a = pd.DataFrame({"x": ["1", "2", "3"], "y": ["a", "b", "c"]})
    b = pd.DataFrame({"x": ["2", "9", "3"], "y": ["b", "b", "c"]})
    assert shared_duplicates(a, b) == 2


@needs_tables
def test_no_false_alarms_on_real_tables() -> None:
    for name, target in (("adult.csv", "income"), ("penguins.csv", "species")):
        frame = typed_table(name, rows=3000)
        y_raw = frame.pop(target).astype(str)
        y = pd.factorize(y_raw)[0]
        task = "binary" if len(set(y)) == 2 else "multiclass"
        assert find_near_perfect(frame, y, task, _kinds(frame)) == {}
        assert find_id_like(frame, _kinds(frame)) == {}
