"""Bad input gives a clear error or warning, never a traceback or a silent surprise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import train
from apprentice.errors import BudgetError, ConfigError, FeatureError, TargetError
from tests.learn._data import TABLES, needs_tables, text_table

QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear",), "n_jobs": 1}


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": [f"{v:.3f}" for v in x],
            "z": [f"{v:.3f}" for v in rng.normal(size=n)],
            "y": np.where(x + rng.normal(scale=0.5, size=n) > 0, "yes", "no"),
        }
    )


def test_target_missing_from_the_file(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not in the table; did you mean 'y'"):
        train(_frame(), target="Y", out=tmp_path / "b", **QUICK)
    with pytest.raises(TargetError, match="the columns are"):
        train(_frame(), target="label", out=tmp_path / "b", **QUICK)


def test_constant_target(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="single value"):
        train(_frame().assign(y="same"), target="y", out=tmp_path / "b", **QUICK)


def test_one_row_per_class(tmp_path: Path) -> None:
    frame = _frame().assign(y=[f"c{i}" for i in range(60)])
    with pytest.raises(TargetError, match="single row"):
        train(frame, target="y", out=tmp_path / "b", **QUICK)


def test_mistyped_labels_are_said_not_only_written_in_the_ledger(tmp_path: Path) -> None:
    """A label written with another case is merged and one with an inner space is a class of
    one row, dropped: both said in the warnings, naming the labels; every other row kept."""
    frame = _frame(80)
    frame.loc[3, "y"] = "Yes"
    frame.loc[5, "y"] = "y es"
    result = train(frame, target="y", out=tmp_path / "b", **QUICK)
    said = " | ".join(result.warnings)
    assert "labels of 'y' written differently were merged: 'Yes' -> 'yes' (1 row(s))" in said
    assert "1 class(es) of 'y' have a single row ('y es'); those rows were dropped" in said
    dropped = [r for r in result.ledger if r.get("action") == "drop_rows_single_row_class"]
    assert dropped and dropped[0]["rows"] == 1
    assert set(result.classes or []) == {"no", "yes"}


def test_fewer_than_twenty_rows(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="at least 20"):
        train(_frame(15), target="y", out=tmp_path / "b", **QUICK)


def test_all_features_dropped_by_the_guards(tmp_path: Path) -> None:
    frame = _frame()
    frame = pd.DataFrame({"row_id": [str(i) for i in range(60)], "y": frame["y"]})
    with pytest.raises(FeatureError, match="every feature column was excluded"):
        train(frame, target="y", out=tmp_path / "b", **QUICK)


def test_budget_too_small_fails_naming_the_budget_needed_never_a_constant_model(
    tmp_path: Path,
) -> None:
    with pytest.raises(BudgetError, match=r"give --time-budget \d+ or more") as info:
        train(_frame(200), target="y", out=tmp_path / "b", time_budget=1e-3, n_jobs=1)
    assert info.value.minimum >= 5
    assert not (tmp_path / "b").exists()


def test_time_column_that_does_not_parse(tmp_path: Path) -> None:
    frame = _frame().assign(when=["soon", "later", "2024-01-01"] * 20)
    with pytest.raises(ConfigError, match="does not parse") as info:
        train(frame, target="y", split="time:when", out=tmp_path / "b", **QUICK)
    assert "soon" not in str(info.value)
    with pytest.raises(ConfigError, match="not a feature column"):
        train(frame, target="y", split="time:nope", out=tmp_path / "b", **QUICK)


def test_time_split_trains_on_the_past(tmp_path: Path) -> None:
    frame = _frame(120).assign(
        when=[f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}" for i in range(120)]
    )
    result = train(frame, target="y", split="time:when", out=tmp_path / "b", **QUICK)
    assert result.bundle.manifest["split"]["kind"] == "time"


def test_leaking_column_is_excluded_with_a_warning_unless_kept(tmp_path: Path) -> None:
    frame = _frame(200).assign(outcome=lambda f: np.where(f["y"] == "yes", "paid", "unpaid"))
    result = train(frame, target="y", out=tmp_path / "a", **QUICK)
    assert "outcome" in result.leakage.near_perfect
    assert "outcome" not in result.bundle.manifest["feature_columns"]
    assert any("outcome" in w and "--keep-column" in w for w in result.warnings)
    kept = train(frame, target="y", out=tmp_path / "b", keep_columns=["outcome"], **QUICK)
    assert "outcome" in kept.bundle.manifest["feature_columns"]
    assert kept.metrics["accuracy"].value == 1.0


@needs_tables
def test_identifier_column_is_excluded_with_the_reason_in_the_ledger(tmp_path: Path) -> None:
    raw = text_table("telco_churn.csv", rows=600)
    result = train(raw, target="Churn", out=tmp_path / "b", **QUICK)
    reasons = {
        r["column"]: r["reason"] for r in result.ledger if r.get("action") == "exclude_column"
    }
    assert "customerID" in reasons and "identifier" in reasons["customerID"]


def test_shared_duplicates_are_reported(tmp_path: Path) -> None:
    frame = pd.concat([_frame(100)] * 2, ignore_index=True)
    result = train(frame, target="y", out=tmp_path / "b", **QUICK)
    assert result.leakage.shared_duplicates > 0
    assert any("exact copies" in w for w in result.warnings)


def test_bad_options(tmp_path: Path) -> None:
    for kwargs, message in (
        ({"split": "shuffle"}, "not understood"),
        ({"metric": "rmse"}, "does not apply"),
        ({"test_size": 0.9}, "between"),
        ({"families": ("magic",)}, "unknown model families"),
        ({"keep_columns": ["nope"]}, "not in the table"),
    ):
        with pytest.raises(ConfigError, match=message):
            train(_frame(), target="y", out=tmp_path / "b", **{**QUICK, **kwargs})
    with pytest.raises(ConfigError, match="positive"):
        train(_frame(), target="y", out=tmp_path / "b", time_budget=0)


def test_out_directory_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("precious")
    with pytest.raises(ConfigError, match="not a bundle"):
        train(_frame(), target="y", out=tmp_path, **QUICK)
    assert (tmp_path / "keep.txt").read_text() == "precious"


@needs_tables
def test_file_target_missing(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="not in the table"):
        train(TABLES / "penguins.csv", target="Species ", out=tmp_path / "b", **QUICK)


def test_no_holdout_when_asked(tmp_path: Path) -> None:
    result = train(_frame(80), target="y", out=tmp_path / "b", test_size=0, **QUICK)
    assert result.metrics == {} and result.comparisons == []
    assert any("no holdout" in w for w in result.warnings)
    assert result.bundle.manifest["split"]["holdout_rows"] == 0
    assert result.cv["folds"] >= 1


def test_group_split_keeps_groups_out_of_the_features(tmp_path: Path) -> None:
    frame = _frame(120).assign(patient=[f"p{i // 4}" for i in range(120)])
    result = train(frame, target="y", split="group:patient", out=tmp_path / "b", **QUICK)
    assert "patient" not in result.bundle.manifest["feature_columns"]
    assert result.bundle.manifest["split"] == {
        "kind": "group",
        "column": "patient",
        "test_size": 0.25,
        "seed": 0,
        "train_rows": result.bundle.manifest["split"]["train_rows"],
        "holdout_rows": result.bundle.manifest["split"]["holdout_rows"],
    }
    reasons = {r["column"]: r["reason"] for r in result.ledger if "column" in r}
    assert reasons["patient"] == "the group column of the split"
