"""AutoModel: a scikit-learn compatible estimator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    parametrize_with_checks,
)

from apprentice.learn import AutoModel
from tests.learn._data import needs_tables, text_table, typed_table

QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear", "lightgbm"), "n_jobs": 1}


def test_params_clone_and_set() -> None:
    model = AutoModel(time_budget=30, metric="log_loss", seed=4)
    params = model.get_params()
    assert params["time_budget"] == 30 and params["seed"] == 4
    twin = clone(model)
    assert twin.get_params() == params and twin is not model
    model.set_params(max_trials=5)
    assert model.max_trials == 5
    check_no_attributes_set_in_init("AutoModel", AutoModel())
    check_get_params_invariance("AutoModel", AutoModel())
    with pytest.raises(TypeError):
        AutoModel(30)  # type: ignore[misc]


@needs_tables
def test_fit_predict_proba_score_on_typed_frame() -> None:
    frame = typed_table("penguins.csv")
    y = frame.pop("species").astype(str).to_numpy()
    model = AutoModel(**QUICK).fit(frame, y)
    assert list(model.classes_) == ["Adelie", "Chinstrap", "Gentoo"]
    proba = model.predict_proba(frame.head(5))
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1)
    assert set(model.predict(frame)) <= set(model.classes_)
    assert model.score(frame, y) > 0.9
    assert "model" in model.leaderboard_.columns


@needs_tables
def test_raw_text_cells_are_cleaned() -> None:
    raw = text_table("blood_transfusion.csv")
    y = raw.pop("Class")
    model = AutoModel(**QUICK).fit(raw, y)
    assert model.cleaner_ is not None
    assert list(model.classes_) == [0, 1]
    assert model.predict(raw.head(4)).dtype.kind == "i"


def test_numpy_regression_and_cross_val() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] * 3 + rng.normal(scale=0.1, size=120)
    model = AutoModel(**QUICK)
    scores = cross_val_score(model, X, y, cv=2)
    assert scores.mean() > 0.8
    fitted = clone(model).fit(X, y)
    assert fitted.task_ == "regression" and fitted.predict(X[:3]).shape == (3,)
    with pytest.raises(AttributeError):
        fitted.predict_proba(X[:3])
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :2])


_NEEDS_20_ROWS = "AutoModel refuses fewer than 20 labelled rows (too few to cross-validate)"
_SMALL_DATA_CHECKS = {
    name: _NEEDS_20_ROWS
    for name in (
        "check_dont_overwrite_parameters",
        "check_n_features_in_after_fitting",
        "check_complex_data",
        "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1sample",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit2d_predict1d",
    )
}


@parametrize_with_checks(
    [AutoModel(time_budget=None, max_trials=0, families=("linear",), n_jobs=1, ensemble=False)],
    expected_failed_checks=lambda est: _SMALL_DATA_CHECKS,
)
def test_sklearn_contract(estimator: AutoModel, check: object) -> None:
    check(estimator)  # type: ignore[operator]
