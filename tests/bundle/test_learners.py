"""The XGBoost and CatBoost learners round-trip through the bundle: stored in their own JSON
model formats (no pickle), loaded back after the kind's checks, and predicting exactly what
the fitted model predicted, for binary, multiclass and regression, on the frame path and the
one-record path; their per-row contributions add up to their raw score."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle, write_bundle
from apprentice.learn.features import FeaturePipeline
from apprentice.learn.models import FittedModel, fit_model, portfolio

TASKS = {"binary": 2, "multiclass": 3, "regression": 0}


def _frame(n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.gamma(2.0, size=n),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue", "grey"], size=n)),
        }
    )
    frame.loc[::9, "x"] = np.nan
    frame.loc[::13, "colour"] = np.nan
    score = frame["x"].fillna(0).to_numpy() + (frame["colour"] == "red").to_numpy() * 1.5
    return frame, score + rng.normal(scale=0.5, size=n)


def _target(task: str, score: np.ndarray) -> np.ndarray:
    if task == "binary":
        return (score > 0.3).astype(np.int64)
    if task == "multiclass":
        return np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    return score


def _fit(family: str, task: str) -> tuple[FittedModel, FeaturePipeline, pd.DataFrame]:
    frame, score = _frame()
    y = _target(task, score)
    train, valid = slice(0, 400), slice(400, 500)
    pipe = FeaturePipeline(view="tree").fit(frame.iloc[train], y[train])
    X, X_val = pipe.transform(frame.iloc[train]), pipe.transform(frame.iloc[valid])
    config = next(c for c in portfolio(task, 400, TASKS[task]) if c.family == family)
    model = fit_model(
        config,
        task=task,
        n_classes=TASKS[task],
        X=X,
        y=y[train],
        X_val=X_val,
        y_val=y[valid],
        categorical=list(pipe.categorical_indices_),
    )
    return model, pipe, frame.iloc[500:].reset_index(drop=True)


def _bundle(model: FittedModel, pipe: FeaturePipeline, out: Path) -> Path:
    k = model.n_classes
    export = {
        "name": model.config.name,
        "task": model.task,
        "n_classes": k,
        "features": {"tree": pipe.to_spec()},
        "members": [{"weight": 1.0, "view": "tree", **model.export()}],
    }
    manifest = {
        "target": "y",
        "input_columns": ["x", "z", "colour"],
        "classes": [f"c{i}" for i in range(k)] if model.task != "regression" else None,
    }
    return write_bundle(out, export=export, recipe_json=None, manifest=manifest)


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("family", ["xgboost", "catboost"])
def test_learner_round_trips_without_pickle(family: str, task: str, tmp_path: Path) -> None:
    model, pipe, test = _fit(family, task)
    assert model.n_iterations > 0
    path = _bundle(model, pipe, tmp_path / "bundle")
    manifest = json.loads((path / "manifest.json").read_text())
    (member,) = manifest["model"]["members"]
    assert member["kind"] == family
    stored = (path / member["file"]).read_bytes()
    assert not stored.startswith(b"\x80"), "a pickle protocol header"
    json.loads(stored)  # the model is plain JSON

    expected = model.predict(pipe.transform(test))
    bundle = load_bundle(path)
    got = bundle.predict_proba(test) if task != "regression" else bundle.predict(test)
    np.testing.assert_array_equal(np.asarray(got, dtype=float), expected)
    for i in (0, 1, len(test) - 1):  # the one-record path
        record = {c: test.at[i, c] for c in test.columns}
        one = bundle.predict_proba(record) if task != "regression" else bundle.predict(record)
        np.testing.assert_allclose(np.ravel(one), np.ravel(expected[i]), rtol=0, atol=1e-12)

    c = bundle.contributions(test)
    assert np.all(np.isfinite(c.values))
    np.testing.assert_allclose(c.base + c.values.sum(axis=1), c.output, atol=1e-9)
    if task == "regression":
        np.testing.assert_allclose(c.output, expected, rtol=0, atol=1e-4)
    elif task == "binary":
        p = expected[:, 1]
        np.testing.assert_allclose(c.output, np.log(p / (1 - p)), rtol=0, atol=1e-4)


def test_the_new_configs_come_last_in_the_portfolio() -> None:
    """A run with few trials keeps the configurations before them (and their results)."""
    for task, k in TASKS.items():
        families = [c.family for c in portfolio(task, 1000, k)]
        assert families[-2:] == ["xgboost", "catboost"]
        assert families.count("xgboost") == families.count("catboost") == 1
