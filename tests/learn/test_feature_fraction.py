"""Per-tree feature subsampling keeps enough features per tree to model an interaction.

On a table of two columns a per-tree fraction of 0.6-0.8 gives every LightGBM or XGBoost tree
a single column: the model is additive and cannot learn a target that needs both columns at
once (an exclusive or; in the AutoML suite, a US state from latitude and longitude).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from apprentice.learn.models import (
    MIN_FEATURES_PER_TREE,
    ModelConfig,
    feature_fraction_floor,
    fit_model,
    lightgbm_params,
    portfolio,
)


def _xor(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two columns; the class is 1 where exactly one of them is positive (no signal in either
    column alone)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)


def test_floor_keeps_min_features_per_tree() -> None:
    assert feature_fraction_floor(0.7, 2) == 1.0
    assert feature_fraction_floor(0.7, MIN_FEATURES_PER_TREE) == 1.0
    assert feature_fraction_floor(0.6, 10) == pytest.approx(0.6)
    assert feature_fraction_floor(0.3, 10) == pytest.approx(MIN_FEATURES_PER_TREE / 10)
    assert feature_fraction_floor(0.7, None) == 0.7  # no matrix known: as configured
    for n in range(1, 60):
        for fraction in (0.1, 0.4, 0.7, 0.9, 1.0):
            kept = feature_fraction_floor(fraction, n)
            assert fraction <= kept <= 1.0
            assert round(kept * n + 1e-9) >= min(n, MIN_FEATURES_PER_TREE) or kept == 1.0


def test_lightgbm_params_apply_the_floor_to_every_alias() -> None:
    config = ModelConfig("x", "lightgbm", {"feature_fraction": 0.6, "learning_rate": 0.1})
    assert lightgbm_params(config, "binary", 2, 1, 0, n_features=3)["feature_fraction"] == 1.0
    assert lightgbm_params(config, "binary", 2, 1, 0, n_features=50)["feature_fraction"] == 0.6
    assert lightgbm_params(config, "binary", 2, 1, 0)["feature_fraction"] == 0.6
    other = ModelConfig("y", "lightgbm", {"colsample_bytree": 0.5})
    assert lightgbm_params(other, "binary", 2, 1, 0, n_features=2)["colsample_bytree"] == 1.0


def _configs() -> list[ModelConfig]:
    """The portfolio's LightGBM configurations that sample under 3/4 of the columns per tree,
    and an XGBoost one as Optuna may suggest it."""
    found = [
        c
        for c in portfolio("binary", 1500)
        if c.family == "lightgbm" and c.params.get("feature_fraction", 1.0) < 0.75
    ]
    tuned = {"eta": 0.1, "max_depth": 4, "colsample_bytree": 0.45, "subsample": 0.9}
    return [*found, ModelConfig("xgboost_tuned", "xgboost", tuned)]


@pytest.mark.parametrize("config", _configs(), ids=lambda c: c.name)
def test_subsampled_configurations_learn_an_interaction_of_two_columns(
    config: ModelConfig,
) -> None:
    name = config.name
    X, y = _xor(1500, seed=1)
    X_val, y_val = _xor(500, seed=2)
    model = fit_model(
        config, task="binary", n_classes=2, X=X, y=y, X_val=X_val, y_val=y_val, seed=0
    )
    X_test, y_test = _xor(1000, seed=3)
    auc = roc_auc_score(y_test, model.predict(X_test)[:, 1])
    # one column per tree leaves an additive model: AUC about 0.5 on an exclusive or
    assert auc > 0.95, f"{name}: AUC {auc:.3f}"
