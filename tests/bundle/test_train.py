"""``apprentice.train`` end to end: raw file in, evaluated, verified bundle out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import Bundle, TrainResult, load_bundle
from apprentice.errors import ColumnMismatchError
from apprentice.evaluate import HOLDOUT_METRICS
from tests.learn._data import text_table


def test_binary_run(blood: TrainResult) -> None:
    assert blood.task == "binary" and blood.classes == [0, 1]
    assert set(blood.metrics) == set(HOLDOUT_METRICS["binary"])
    for interval in blood.metrics.values():
        assert interval.low <= interval.value <= interval.high
    assert blood.metrics["roc_auc"].value > 0.6
    assert 0 < blood.threshold < 1  # chosen on CV out-of-fold predictions
    roles = [c.role for c in blood.comparisons]
    assert roles[:2] == ["constant baseline", "linear baseline"] or (
        blood.champion == "linear" and roles[0] == "constant baseline"
    )
    assert len({c.b for c in blood.comparisons}) == len(blood.comparisons)  # each model once
    assert blood.comparisons[0].b == "dummy"
    assert blood.comparisons[0].wording.startswith(f"{blood.champion} beats dummy ")
    assert blood.calibration is not None and 0 <= blood.calibration.ece <= 1
    assert isinstance(blood.leaderboard, pd.DataFrame)
    assert "<table" in blood._repr_html_()
    assert blood.bundle.manifest["parity_max_abs_diff"] < 1e-9
    json.dumps(blood.to_dict())


def test_manifest_content(blood: TrainResult) -> None:
    manifest = json.loads((blood.path / "manifest.json").read_text())
    assert manifest["format"] == "apprentice-bundle"
    assert {"apprentice", "numpy", "pandas", "scikit-learn", "lightgbm"} <= set(
        manifest["libraries"]
    )
    assert manifest["task"] == "binary" and manifest["classes"] == [0, 1]
    assert manifest["target"] == "Class"
    assert manifest["schema"]["columns"]
    assert set(manifest["metrics"]) == set(HOLDOUT_METRICS["binary"])
    assert manifest["recipe"] == "recipe.json"
    for name, digest in manifest["files"].items():
        assert len(digest) == 64 and (blood.path / name).is_file()
    assert manifest["leaderboard"][0]["rank"] == 1


def test_raw_rows_in_predictions_out_in_order(blood: TrainResult) -> None:
    bundle = load_bundle(blood.path)
    assert isinstance(bundle, Bundle)
    raw = text_table("blood_transfusion.csv").head(50)
    shuffled = raw.sample(frac=1.0, random_state=3)
    frame = bundle.predict_frame(shuffled)
    assert list(frame.columns) == ["prediction", "proba_0", "proba_1"]
    assert list(frame.index) == list(shuffled.index)
    again = bundle.predict_frame(raw).loc[shuffled.index]
    pd.testing.assert_frame_equal(frame, again)
    # one record, a list of records, extra and missing columns
    record = raw.iloc[0].to_dict()
    np.testing.assert_allclose(
        bundle.predict_proba(record)[0], frame.loc[0, ["proba_0", "proba_1"]]
    )
    assert bundle.predict([record, record]).tolist() == [frame.loc[0, "prediction"]] * 2
    messy = raw.head(3).assign(extra="x").drop(columns=["Time"])
    with pytest.raises(ColumnMismatchError, match=r"lack 1 column.* 'Time'"):
        bundle.predict(messy)  # as `apprentice predict`: a missing column is named, not guessed
    assert bundle.predict(messy, allow_missing_columns=True).shape == (3,)
    # messy cells: markers, spaces, garbage
    dirty = raw.head(3).copy()
    dirty.loc[0, "Recency"] = " ? "
    dirty.loc[1, "Frequency"] = "n/a"
    dirty.loc[2, "Monetary"] = "lots"
    assert np.isfinite(bundle.predict_proba(dirty)).all()


def test_multiclass_run(penguins: TrainResult) -> None:
    assert penguins.task == "multiclass"
    assert penguins.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert set(penguins.metrics) == set(HOLDOUT_METRICS["multiclass"])
    assert penguins.metrics["accuracy"].value > 0.9
    frame = penguins.bundle.predict_frame(text_table("penguins.csv").head(5))
    assert list(frame.columns) == ["prediction", "proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]


def test_labels_written_differently_are_merged_and_missing_targets_counted(
    adult: TrainResult,
) -> None:
    assert adult.classes == ["<=50K", ">50K"]
    merges = [r for r in adult.ledger if r.get("action") == "merge_target_labels"]
    assert {(r["from"], r["to"]) for r in merges} >= {(">50K.", ">50K"), ("<=50K.", "<=50K")}
    dropped = [r for r in adult.ledger if r.get("action") == "drop_rows_missing_target"]
    assert dropped and dropped[0]["rows"] == 21
    assert any("missing target" in w for w in adult.warnings)


def test_regression_run(tmp_path: Path) -> None:
    from apprentice.bundle import train
    from tests.learn._data import TABLES

    result = train(
        TABLES / "insurance.csv",
        target="charges",
        out=tmp_path / "b",
        time_budget=None,
        max_trials=1,
        families=("linear", "lightgbm"),
        n_jobs=1,
    )
    assert result.task == "regression" and result.classes is None
    assert set(result.metrics) == {"rmse", "mae", "r2"}
    assert result.metrics["r2"].value > 0.7
    out = result.bundle.predict_frame(text_table("insurance.csv").head(4))
    assert list(out.columns) == ["prediction"]
    assert any("_trial_" in m for m in result.leaderboard["model"])


def test_public_raw_output(blood: TrainResult) -> None:
    raw = text_table("blood_transfusion.csv").head(4)
    out = blood.bundle.raw_output(raw)
    assert out.shape == (4, 2)
    np.testing.assert_allclose(out, blood.bundle.predict_proba(raw))
    selected = blood.bundle.select_input(raw.drop(columns=["Time"]))
    assert list(selected.columns) == blood.bundle.input_columns
    assert selected["Time"].isna().all()
