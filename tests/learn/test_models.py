"""Each model family fits, predicts in the common shape, and exports as plain data."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from apprentice.learn.models import FAMILIES, FittedModel, ModelConfig, fit_model, portfolio


def _data(task: str, n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[::9, 1] = np.nan
    X[:, 3] = rng.integers(0, 4, n)
    signal = X[:, 0] + np.nan_to_num(X[:, 1])
    if task == "regression":
        return X, signal + rng.normal(scale=0.1, size=n), 0
    if task == "binary":
        return X, (signal > 0).astype(np.int64), 2
    return X, np.digitize(signal, [-1, 1]).astype(np.int64), 3


def _config(family: str, task: str) -> ModelConfig:
    return next(c for c in portfolio(task, 200) if c.family == family)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("family", FAMILIES)
def test_family_fits_predicts_exports(family: str, task: str) -> None:
    X, y, k = _data(task)
    X_lin = np.nan_to_num(X)
    Xf = X_lin if family == "linear" else X
    model = fit_model(
        _config(family, task),
        task=task,
        n_classes=k,
        X=Xf[:150],
        y=y[:150],
        X_val=Xf[150:],
        y_val=y[150:],
        categorical=[3] if family != "linear" else [],
    )
    assert isinstance(model, FittedModel)
    pred = model.predict(Xf[150:])
    if task == "regression":
        assert pred.shape == (50,)
    else:
        assert pred.shape == (50, k)
        np.testing.assert_allclose(pred.sum(axis=1), 1.0, atol=1e-9)
    payload = model.export()
    assert payload["family"] == family
    if payload["kind"] in ("constant", "linear"):
        json.dumps(payload)
    elif payload["kind"] == "lightgbm":
        assert payload["model_text"].startswith("tree")


def test_forest_stops_adding_trees_at_the_deadline() -> None:
    X, y, k = _data("binary", n=2000)
    config = ModelConfig("rf", "random_forest", {"n_estimators": 5000, "max_features": "sqrt"})
    start = time.monotonic()
    model = fit_model(config, task="binary", n_classes=k, X=X, y=y, deadline=time.monotonic() + 0.5)
    assert model.truncated and model.n_iterations < 5000
    assert time.monotonic() - start < 5


def test_lightgbm_stops_at_the_deadline_and_early_stops() -> None:
    X, y, k = _data("binary", n=3000)
    config = ModelConfig("lgb", "lightgbm", {"learning_rate": 0.01, "num_leaves": 63})
    model = fit_model(config, task="binary", n_classes=k, X=X, y=y, deadline=time.monotonic() + 0.3)
    assert model.truncated
    model = fit_model(
        _config("lightgbm", "binary"),
        task="binary",
        n_classes=k,
        X=X[:2000],
        y=y[:2000],
        X_val=X[2000:],
        y_val=y[2000:],
    )
    assert 0 < model.n_iterations < 3000


@pytest.mark.parametrize("family", ["xgboost", "catboost"])
def test_new_boosters_stop_at_the_deadline_and_early_stop(family: str) -> None:
    X, y, k = _data("binary", n=3000)
    config = ModelConfig(family, family, {"learning_rate" if family == "catboost" else "eta": 0.01})
    model = fit_model(config, task="binary", n_classes=k, X=X, y=y, deadline=time.monotonic() + 0.3)
    assert model.truncated and 0 < model.n_iterations < 3000
    model = fit_model(
        _config(family, "binary"),
        task="binary",
        n_classes=k,
        X=X[:2000],
        y=y[:2000],
        X_val=X[2000:],
        y_val=y[2000:],
        categorical=[3],
    )
    assert not model.truncated and 0 < model.n_iterations < 3000
