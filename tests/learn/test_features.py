"""The feature pipeline: views by column kind, cross-fitted target encoding, the spec."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.utils.estimator_checks import parametrize_with_checks

from apprentice.learn.features import FeaturePipeline, infer_kind
from tests.learn._data import needs_tables, typed_table


def _mixed(n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "gappy": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "flag": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "when": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 800, n), "D"),
            "small": pd.Categorical(rng.choice(["a", "b", "c"], n)),
            "big": pd.Categorical([f"k{i}" for i in rng.integers(0, 120, n)]),
            "note": [
                " ".join(rng.choice(["good", "bad", "fine", "late", "early"], 5)) + f" {i}"
                for i in range(n)
            ],
        }
    )
    y = (frame["num"] + (frame["small"] == "a") > 0.5).astype(int).to_numpy()
    return frame, y


def test_infers_kinds() -> None:
    frame, _ = _mixed()
    kinds = {c: infer_kind(frame[c]) for c in frame}
    assert kinds == {
        "num": "numeric",
        "gappy": "numeric",
        "flag": "boolean",
        "when": "datetime",
        "small": "categorical",
        "big": "categorical",
        "note": "text",
    }


def test_tree_view() -> None:
    frame, y = _mixed()
    pipe = FeaturePipeline(view="tree", max_native_categories=20).fit(frame, y)
    X = pipe.transform(frame)
    names = list(pipe.get_feature_names_out())
    assert X.shape == (len(frame), len(names))
    assert np.isnan(X[:, names.index("gappy")]).sum() == frame["gappy"].isna().sum()
    encodings = {p["name"]: p.get("encoding") for p in pipe.spec_["columns"]}
    assert encodings["small"] == "codes" and encodings["big"] == "target"
    assert names[pipe.categorical_indices_[0]] == "small"
    assert {"when__year", "when__month", "when__elapsed_days"} <= set(names)
    assert any(n.startswith("note__tfidf:") for n in names)


def test_linear_view_imputes_indicates_scales_and_one_hots() -> None:
    frame, y = _mixed()
    pipe = FeaturePipeline(view="linear", max_onehot=10).fit(frame, y)
    X = pipe.transform(frame)
    assert sparse.issparse(X)  # text makes it sparse
    dense = X.toarray()
    names = list(pipe.get_feature_names_out())
    assert not np.isnan(dense).any()
    assert "gappy__missing" in names
    assert {"small=a", "small=b", "small=c"} <= set(names)
    assert abs(dense[:, names.index("num")].mean()) < 1e-9


def test_target_encoding_is_cross_fitted_on_training_rows() -> None:
    frame, y = _mixed()
    pipe = FeaturePipeline(view="tree", max_native_categories=20)
    crossed = pipe.fit_transform(frame, y)
    plain = pipe.transform(frame)
    te = list(pipe.get_feature_names_out()).index("big__te")
    assert not np.allclose(crossed[:, te], plain[:, te])
    other = [i for i in range(crossed.shape[1]) if i != te]
    np.testing.assert_allclose(crossed[:, other], plain[:, other], equal_nan=True)


def test_unknown_and_missing_values_at_transform() -> None:
    frame, y = _mixed()
    pipe = FeaturePipeline(view="tree").fit(frame, y)
    new = frame.head(3).copy()
    new["small"] = pd.Categorical(["zzz", None, "a"])
    new["when"] = pd.NaT
    X = pipe.transform(new)
    names = list(pipe.get_feature_names_out())
    assert np.isnan(X[0, names.index("small")]) and np.isnan(X[1, names.index("small")])
    assert np.isnan(X[:, names.index("when__year")]).all()


def test_spec_is_json() -> None:
    frame, y = _mixed()
    for view in ("tree", "linear"):
        spec = FeaturePipeline(view=view).fit(frame, y).to_spec()
        assert json.loads(json.dumps(spec))["view"] == view


def test_multiclass_and_regression_targets() -> None:
    frame, _ = _mixed()
    y3 = np.arange(len(frame)) % 3
    pipe = FeaturePipeline(view="tree", target_type="multiclass", max_native_categories=5)
    pipe.fit(frame, y3)
    assert {"big__te0", "big__te1", "big__te2"} <= set(pipe.get_feature_names_out())
    yr = np.random.default_rng(1).normal(size=len(frame))
    pipe = FeaturePipeline(view="linear", target_type="continuous", max_onehot=5).fit(frame, yr)
    assert "big__te" in set(pipe.get_feature_names_out())


@needs_tables
def test_real_table_views() -> None:
    frame = typed_table("adult.csv", rows=2000)
    y = (frame.pop("income").astype(str).str.startswith(">")).astype(int).to_numpy()
    for view in ("tree", "linear"):
        X = FeaturePipeline(view=view).fit_transform(frame, y)
        assert X.shape[0] == 2000 and np.isfinite(np.nan_to_num(X)).all()


@parametrize_with_checks(
    [FeaturePipeline(view="tree"), FeaturePipeline(view="linear")],
    expected_failed_checks=lambda est: {},
)
def test_sklearn_contract(estimator: FeaturePipeline, check: object) -> None:
    check(estimator)  # type: ignore[operator]
