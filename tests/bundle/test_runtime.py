"""The bundle runtime replays the learned feature pipeline exactly, for frames and rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from apprentice.bundle.runtime import FeatureRuntime, ModelRuntime
from apprentice.learn.features import FeaturePipeline
from apprentice.learn.models import ModelConfig, fit_model
from apprentice.modelfiles import KINDS
from tests.learn._data import needs_tables, typed_table


def _frame() -> tuple[pd.DataFrame, np.ndarray]:
    frame = typed_table("adult.csv", rows=1500)
    y = frame.pop("income").astype(str).str.startswith(">").astype(int).to_numpy()
    rng = np.random.default_rng(0)
    n = len(frame)
    frame["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "m")
    frame.loc[::11, "when"] = pd.NaT
    frame["flag"] = pd.array(rng.random(n) > 0.5, dtype="boolean")
    frame.loc[::13, "flag"] = pd.NA
    words = np.array(["free", "call", "now", "meet", "later", "prize", "ok", "home"])
    frame["msg"] = [" ".join(rng.choice(words, 6)) for _ in range(n)]
    frame.loc[::17, "msg"] = None
    frame["native_country"] = frame["native_country"].astype(str)
    return frame, y


def _dense(X: object) -> np.ndarray:
    return X.toarray() if sparse.issparse(X) else np.asarray(X)  # type: ignore[union-attr]


@needs_tables
@pytest.mark.parametrize("view", ["tree", "linear"])
def test_frame_and_row_paths_match_the_learned_pipeline(view: str) -> None:
    frame, y = _frame()
    train, test = frame.iloc[:1000], frame.iloc[1000:].copy()
    test.loc[test.index[:5], "workclass"] = np.nan
    test["occupation"] = test["occupation"].cat.add_categories(["Astronaut"])
    test.loc[test.index[5], "occupation"] = "Astronaut"
    pipe = FeaturePipeline(view=view, max_native_categories=10, max_onehot=8).fit(train, y[:1000])
    runtime = FeatureRuntime(json.loads(json.dumps(pipe.to_spec())))
    expected = _dense(pipe.transform(test))
    got = _dense(runtime.transform(test))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, equal_nan=True)
    rows = np.vstack([runtime.transform_row(r) for r in test.to_dict("records")])
    np.testing.assert_allclose(rows, expected, rtol=0, atol=1e-12, equal_nan=True)


@needs_tables
def test_linear_runtime_matches_sklearn() -> None:
    frame, y = _frame()
    pipe = FeaturePipeline(view="linear")
    X = pipe.fit_transform(frame, y)
    for task, target, k in (("binary", y, 2), ("multiclass", np.arange(len(y)) % 3, 3)):
        model = fit_model(
            ModelConfig("linear", "linear", {"C": 1.0}), task=task, n_classes=k, X=X, y=target
        )
        data = json.dumps({k2: v for k2, v in model.export().items()}).encode()
        stored = KINDS["linear"].load(
            data, "model_0.json", task=task, n_classes=k, width=X.shape[1]
        )
        runtime = ModelRuntime(stored)
        np.testing.assert_allclose(runtime.predict(X), model.predict(X), atol=1e-10)
