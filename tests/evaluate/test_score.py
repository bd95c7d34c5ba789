"""``apprentice.evaluate(bundle, frame)``: the holdout's metrics on any labelled rows, and a
clear error (with the frame left as it was) for each wrong input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import apprentice
from apprentice.errors import InputError
from apprentice.evaluate import Scores, holdout_metrics
from tests._tables import table_path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> object:
    frame = pd.read_csv(table_path("blood_transfusion.csv"))
    out = tmp_path_factory.mktemp("score") / "bundle"
    result = apprentice.train(
        frame, target="Class", out=out, time_budget=None, max_trials=0, families=("linear",),
        n_jobs=1, n_boot=100,
    )  # fmt: skip
    return result.bundle


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(table_path("blood_transfusion.csv")).sample(300, random_state=3)


def test_the_module_is_callable_and_matches_holdout_metrics(
    bundle: object, rows: pd.DataFrame
) -> None:
    scores = apprentice.evaluate(bundle, rows, n_boot=200, seed=1)
    assert isinstance(scores, Scores) and scores.scored == scores.rows == 300
    y = rows["Class"].to_numpy()
    classes = [str(c) for c in bundle.classes]  # type: ignore[attr-defined]
    idx = np.array([classes.index(str(v)) for v in y])
    proba = bundle.predict_proba(rows.drop(columns=["Class"]))  # type: ignore[attr-defined]
    expected = holdout_metrics(
        "binary",
        idx,
        proba,
        threshold=bundle.threshold,
        n_boot=200,
        seed=1,  # type: ignore[attr-defined]
    )
    assert scores.metrics == expected
    frame = scores.frame()
    assert list(frame["metric"]) == list(expected)
    assert "95% interval" in scores._repr_html_()
    assert repr(scores).startswith("Scores(300 of 300 rows")


def test_rows_without_a_usable_label_are_left_out_and_counted(
    bundle: object, rows: pd.DataFrame
) -> None:
    messy = rows.copy()
    messy["Class"] = messy["Class"].astype(object)
    messy.iloc[:7, messy.columns.get_loc("Class")] = ["maybe"] * 3 + [None] * 4
    before = messy.copy()
    scores = apprentice.evaluate(bundle, messy, n_boot=100)
    assert (scores.rows, scores.scored) == (300, 293)
    assert scores.unusable == {"rows": 7, "examples": ["maybe"]}
    pd.testing.assert_frame_equal(messy, before)  # the caller's frame is untouched


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["Class"]), r"no target column 'Class'"),
        (lambda f: f.drop(columns=["Recency"]), r"lacks 1 column\(s\) the model needs: 'Recency'"),
        (
            lambda f: f.rename(columns={"Recency": "recency"}),
            r"'Recency' \(did you mean 'recency'\?\)",
        ),
        (lambda f: f.assign(Class="unknown"), r"no row of 'Class' holds a usable label.*'unknown'"),
        (lambda f: f.assign(Class=None), r"no row of 'Class' holds a usable label \(all missing\)"),
    ],
)
def test_wrong_inputs_are_named(bundle: object, rows: pd.DataFrame, change, message: str) -> None:  # type: ignore[no-untyped-def]
    frame = change(rows.copy())
    before = frame.copy()
    with pytest.raises(InputError, match=message):
        apprentice.evaluate(bundle, frame)
    pd.testing.assert_frame_equal(frame, before)


def test_a_non_model_is_refused(rows: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot score with a PosixPath: give a bundle"):
        apprentice.evaluate(tmp_path, rows)
    with pytest.raises(InputError, match="needs a pandas DataFrame"):
        apprentice.evaluate.score(_Fake(), [{"Class": 1}])


class _Fake:
    task = "binary"
    classes = (0, 1)
    target = "Class"
    threshold = 0.5

    def predict(self, X: object) -> None:  # pragma: no cover - never reached
        raise AssertionError
