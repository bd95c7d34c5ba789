"""Task detection and target preparation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apprentice.errors import ConfigError, TargetError
from apprentice.learn.task import MIN_ROWS, detect_task, prepare_target


def test_detects_the_three_tasks() -> None:
    assert prepare_target(pd.Series(["a", "b"] * 15)).task == "binary"
    assert prepare_target(pd.Series(["a", "b", "c"] * 10)).task == "multiclass"
    assert prepare_target(pd.Series([str(i * 0.37) for i in range(40)])).task == "regression"
    # integer codes with few values are classes, with many values a quantity
    assert prepare_target(pd.Series([str(i % 4) for i in range(40)])).task == "multiclass"
    assert prepare_target(pd.Series([str(i % 29) for i in range(60)])).task == "regression"
    assert detect_task(pd.Series([0.0, 1.0, 1.0])) == "binary"


def test_task_override() -> None:
    info = prepare_target(pd.Series([str(i % 4) for i in range(40)]), task="regression")
    assert info.task == "regression" and info.classes is None
    with pytest.raises(ConfigError, match="not one of"):
        prepare_target(pd.Series(["a", "b"] * 15), task="ranking")
    with pytest.raises(TargetError, match="not numeric"):
        prepare_target(pd.Series(["a", "b"] * 15), task="regression")
    with pytest.raises(TargetError, match="not 2"):
        prepare_target(pd.Series(["a", "b", "c"] * 10), task="binary")


def test_labels_written_differently_are_one_class_and_recorded() -> None:
    values = pd.Series([" <=50K", " >50K", ">50K.", " <=50K."] * 10)
    info = prepare_target(values, name="income")
    assert info.classes == ["<=50K", ">50K"]
    assert info.y.tolist()[:4] == [0, 1, 1, 0]
    merges = [r for r in info.ledger if r["action"] == "merge_target_labels"]
    assert {(r["from"], r["to"]) for r in merges} >= {(">50K.", ">50K"), ("<=50K.", "<=50K")}


def test_missing_targets_are_dropped_and_counted() -> None:
    values = pd.Series(["yes", "no", "", "?", None] * 10)
    info = prepare_target(values, name="deposit")
    assert info.n_missing == 30
    assert int(info.kept.sum()) == 20
    assert any(r["action"] == "drop_rows_missing_target" and r["rows"] == 30 for r in info.ledger)
    assert any("30 row(s)" in w for w in info.warnings)


def test_numeric_labels_come_back_as_numbers() -> None:
    info = prepare_target(pd.Series(["1", "0", "1.0", "0"] * 8))
    assert info.classes == [0, 1]
    assert all(isinstance(c, int) for c in info.classes)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["a", "b"] * 5, "at least 20"),
        (["same"] * 40, "single value"),
        ([f"id{i}" for i in range(40)], "single row"),
    ],
)
def test_unusable_targets_are_clear_errors(values: list[str], message: str) -> None:
    with pytest.raises(TargetError, match=message) as info:
        prepare_target(pd.Series(values), name="label")
    assert "id1" not in str(info.value)  # never a data value in a message


def test_a_few_single_row_classes_are_dropped_with_a_warning() -> None:
    values = pd.Series(["a", "b"] * 15 + ["rare"])
    info = prepare_target(values)
    assert info.classes == ["a", "b"]
    assert int(info.kept.sum()) == 30
    assert any(r["action"] == "drop_rows_single_row_class" for r in info.ledger)


def test_min_rows_is_twenty() -> None:
    assert MIN_ROWS == 20
    info = prepare_target(pd.Series(np.arange(20).astype(float)))
    assert info.task == "regression" and len(info.y) == 20
