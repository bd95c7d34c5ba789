"""The model families of the portfolio, fitted under a deadline, exported without pickle.

Every fitted model predicts class probabilities ``(n, n_classes)`` for classification and
values ``(n,)`` for regression, and exports itself as plain data the bundle can store:
LightGBM boosters as their native text, XGBoost and CatBoost models as their libraries' JSON
model formats, linear
models and the dummy as arrays, the other scikit-learn trees as the estimator (stored by the
bundle with skops). Each export names its stored kind (:data:`apprentice.modelfiles.KINDS`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

FAMILIES: tuple[str, ...] = (
    "dummy",
    "linear",
    "lightgbm",
    "hist_gradient_boosting",
    "random_forest",
    "extra_trees",
    "xgboost",
    "catboost",
)
BASELINE_FAMILIES = frozenset({"dummy", "linear"})
VIEW_OF: dict[str, str] = {
    "dummy": "tree",
    "linear": "linear",
    "lightgbm": "tree",
    "hist_gradient_boosting": "tree",
    "random_forest": "tree",
    "extra_trees": "tree",
    "xgboost": "tree",
    "catboost": "tree",
}
#: Families whose single-row prediction takes well under a millisecond in the bundle runtime.
FAST_FAMILIES = frozenset({"dummy", "linear", "lightgbm"})
#: Families whose fit can stop at a deadline (boosting rounds, trees added in chunks).
INTERRUPTIBLE = frozenset({"lightgbm", "random_forest", "extra_trees", "xgboost", "catboost"})

MAX_ROUNDS = 3000
EARLY_STOPPING_ROUNDS = 50
MIN_DELTA_LOGLOSS = 1e-4
FOREST_CHUNK = 25
#: Per-tree feature subsampling (LightGBM's ``feature_fraction``, XGBoost's
#: ``colsample_bytree``) never leaves a tree fewer than this many features (all of them when
#: there are fewer): on a table of two or three columns a fraction of 0.7 gives every tree a
#: single column, so no tree can model an interaction (a state from latitude *and* longitude:
#: 33% accuracy against 92% with both columns per tree, log loss 1.98 against 0.34).
MIN_FEATURES_PER_TREE = 5


@dataclass(frozen=True)
class ModelConfig:
    """One candidate: a name, a family and its hyper-parameters."""

    name: str
    family: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def view(self) -> str:
        return VIEW_OF[self.family]


def portfolio(task: str, n_rows: int, n_classes: int = 0) -> list[ModelConfig]:
    """The fixed portfolio, cheapest first: baselines, then proven strong configurations.

    On large work (rows x classes above 100,000: each boosting round fits one tree per
    class) the boosting configurations take twice the learning rate, so that they converge
    within a budget instead of being cut short.
    """
    regression = task == "regression"
    forest_features = 0.5 if regression else "sqrt"
    fast = n_rows * max(1, n_classes if task == "multiclass" else 1) > 100_000
    boost = 2.0 if fast else 1.0
    return [
        ModelConfig("dummy", "dummy"),
        ModelConfig("linear", "linear", {"C": 1.0} if not regression else {"alpha": 1.0}),
        ModelConfig(
            "lightgbm_default",
            "lightgbm",
            {
                "learning_rate": 0.05 * boost,
                "num_leaves": 31,
                "min_child_samples": 20,
                "feature_fraction": 0.9,
                "bagging_fraction": 0.9,
                "bagging_freq": 1,
            },
        ),
        ModelConfig(
            "hist_gradient_boosting",
            "hist_gradient_boosting",
            {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20},
        ),
        ModelConfig(
            "lightgbm_shallow",
            "lightgbm",
            {
                "learning_rate": 0.05 * boost,
                "num_leaves": 7,
                "min_child_samples": 30,
                "feature_fraction": 0.8,
                "lambda_l2": 3.0,
            },
        ),
        ModelConfig(
            "lightgbm_deep",
            "lightgbm",
            {
                "learning_rate": 0.03 * boost,
                "num_leaves": 127,
                "min_child_samples": 10,
                "feature_fraction": 0.7,
                "bagging_fraction": 0.8,
                "bagging_freq": 1,
                "lambda_l2": 1.0,
            },
        ),
        ModelConfig(
            "lightgbm_extra_trees",
            "lightgbm",
            {
                "learning_rate": 0.05 * boost,
                "num_leaves": 63,
                "min_child_samples": 5,
                "feature_fraction": 0.6,
                "extra_trees": True,
                "lambda_l1": 0.1,
            },
        ),
        ModelConfig(
            "extra_trees",
            "extra_trees",
            {"n_estimators": 300, "max_features": forest_features, "min_samples_leaf": 1},
        ),
        ModelConfig(
            "random_forest",
            "random_forest",
            {"n_estimators": 300, "max_features": forest_features, "min_samples_leaf": 1},
        ),
        # last: a run with few trials keeps the configurations above (and their results)
        ModelConfig(
            "xgboost_default",
            "xgboost",
            {
                "eta": 0.05 * boost,
                "max_depth": 6,
                "min_child_weight": 1.0,
                "subsample": 0.9,
                "colsample_bytree": 0.8,
                "lambda": 1.0,
            },
        ),
        ModelConfig(
            "catboost_default",
            "catboost",
            {
                "learning_rate": 0.08 * boost,
                "depth": 6,
                "l2_leaf_reg": 3.0,
                "one_hot_max_size": 10,
            },
        ),
    ]


def suggest(trial: Any, family: str, task: str, n: int) -> dict[str, Any]:
    """Optuna's search space of the families the search module does not tune itself."""
    if family == "xgboost":
        return {
            "eta": trial.suggest_float("eta", 0.01, 0.2, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 10),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
            "lambda": trial.suggest_float("lambda", 1e-3, 10.0, log=True),
            "alpha": trial.suggest_float("alpha", 1e-8, 1.0, log=True),
        }
    if family == "catboost":
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "depth": trial.suggest_int("depth", 4, 10),
            "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 0.5, 30.0, log=True),
            "random_strength": trial.suggest_float("random_strength", 0.1, 10.0, log=True),
            "one_hot_max_size": trial.suggest_categorical("one_hot_max_size", [2, 10, 64]),
        }
    return {}


@contextmanager
def thread_limit(n_threads: int) -> Iterator[None]:
    """Cap OpenMP/BLAS threads (HistGradientBoosting, BLAS) for the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        yield


def expand_proba(proba: np.ndarray, seen: np.ndarray, n_classes: int) -> np.ndarray:
    """Probabilities over all classes when a fold's training part lacked some of them."""
    seen = np.asarray(seen).astype(np.int64)
    if proba.shape[1] == n_classes and np.array_equal(seen, np.arange(n_classes)):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, seen] = proba
    return out


@dataclass
class FittedModel:
    """A fitted candidate: predicts and exports itself."""

    config: ModelConfig
    task: str
    n_classes: int
    estimator: Any
    fit_seconds: float
    n_iterations: int = 0
    truncated: bool = False
    n_threads: int = 1

    @property
    def family(self) -> str:
        return self.config.family

    def predict(self, X: Any) -> np.ndarray:
        family = self.config.family
        est = self.estimator
        if family == "dummy":
            n = X.shape[0]
            return np.tile(est, (n, 1)) if self.task != "regression" else np.full(n, est[0])
        if family == "lightgbm":
            raw = est.predict(X, num_iteration=self.n_iterations or None)
            if self.task == "binary":
                return np.column_stack([1.0 - raw, raw])
            return np.asarray(raw, dtype=float)
        if family == "xgboost":
            raw = est.inplace_predict(X, iteration_range=(0, self.n_iterations or 0))
            raw = np.asarray(raw, dtype=float)  # as the bundle does: 1 - p in float64
            if self.task == "binary":
                return np.column_stack([1.0 - raw, raw])
            return np.asarray(raw, dtype=float)
        if family == "catboost":
            return np.asarray(est.model.predict(X))
        if family == "hist_gradient_boosting":
            with thread_limit(self.n_threads):
                return self._predict_sklearn(_dense(X))
        return self._predict_sklearn(_dense(X) if family != "linear" else X)

    def _predict_sklearn(self, X: Any) -> np.ndarray:
        est = self.estimator
        if self.task == "regression":
            return np.asarray(est.predict(X), dtype=float)
        proba = est.predict_proba(X)
        return expand_proba(proba, est.classes_, self.n_classes)

    def export(self) -> dict[str, Any]:
        """The model as plain data: see the module docstring."""
        family = self.config.family
        base = {"family": family, "name": self.config.name, "task": self.task}
        if family == "dummy":
            return {**base, "kind": "constant", "values": np.asarray(self.estimator).tolist()}
        if family == "lightgbm":
            text = self.estimator.model_to_string(num_iteration=self.n_iterations or None)
            return {**base, "kind": "lightgbm", "model_text": text}
        if family == "xgboost":
            booster = self.estimator[: self.n_iterations] if self.n_iterations else self.estimator
            booster.set_param({"nthread": 1})
            return {**base, "kind": "xgboost", "model_json": booster.save_raw("json").decode()}
        if family == "catboost":
            return {**base, "kind": "catboost", "model_json": self.estimator.json}
        if family == "linear":
            est = self.estimator
            coef = np.atleast_2d(np.asarray(est.coef_, dtype=float))
            intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
            if self.task == "regression":
                link = "identity"
            elif self.task == "binary":
                link = "logistic"
            else:
                link = "softmax"
            classes = (
                np.asarray(est.classes_).astype(int).tolist() if self.task != "regression" else None
            )
            return {
                **base,
                "kind": "linear",
                "coef": coef.tolist(),
                "intercept": intercept.tolist(),
                "link": link,
                "classes_seen": classes,
                "n_classes": self.n_classes,
            }
        return {**base, "kind": "sklearn", "estimator": self.estimator}


def _dense(X: Any) -> Any:
    return X.toarray() if sparse.issparse(X) else X


def fit_model(
    config: ModelConfig,
    *,
    task: str,
    n_classes: int,
    X: Any,
    y: np.ndarray,
    X_val: Any = None,
    y_val: np.ndarray | None = None,
    categorical: list[int] | None = None,
    n_threads: int = 1,
    deadline: float | None = None,
    seed: int = 0,
    iterations: int | None = None,
) -> FittedModel:
    """Fit one candidate. ``iterations`` fixes the rounds/trees (a refit without validation).

    LightGBM stops early on the validation part and at the ``deadline`` (``time.monotonic``);
    forests grow in chunks and stop adding trees at the deadline.
    """
    start = time.perf_counter()
    family = config.family
    fitters: dict[str, Callable[..., Any]] = {
        "dummy": _fit_dummy,
        "linear": _fit_linear,
        "lightgbm": _fit_lightgbm,
        "hist_gradient_boosting": _fit_hgb,
        "random_forest": _fit_forest,
        "extra_trees": _fit_forest,
        "xgboost": _fit_xgboost,
        "catboost": _fit_catboost,
    }
    fitter = fitters[family]
    estimator, n_iter, truncated = fitter(
        config,
        task=task,
        n_classes=n_classes,
        X=X,
        y=y,
        X_val=X_val,
        y_val=y_val,
        categorical=categorical or [],
        n_threads=n_threads,
        deadline=deadline,
        seed=seed,
        iterations=iterations,
    )
    return FittedModel(
        config,
        task,
        n_classes,
        estimator,
        time.perf_counter() - start,
        n_iter,
        truncated,
        n_threads,
    )


def _fit_dummy(config: ModelConfig, *, task: str, n_classes: int, y: np.ndarray, **_: Any) -> Any:
    if task == "regression":
        return np.array([float(np.mean(y))]), 0, False
    counts = np.bincount(y.astype(np.int64), minlength=n_classes).astype(float)
    return counts / counts.sum(), 0, False


def _fit_linear(
    config: ModelConfig,
    *,
    task: str,
    X: Any,
    y: np.ndarray,
    n_threads: int,
    seed: int,
    **_: Any,
) -> Any:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge

    with thread_limit(n_threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task == "regression":
            est: Any = Ridge(alpha=float(config.params.get("alpha", 1.0)), random_state=seed)
        else:
            est = LogisticRegression(
                C=float(config.params.get("C", 1.0)), max_iter=300, random_state=seed
            )
        est.fit(X, y)
    return est, 0, False


class _DeadlineCallback:
    """Stops LightGBM training at the deadline, keeping the rounds done so far."""

    order = 40

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.hit = False

    def __call__(self, env: Any) -> None:
        import lightgbm as lgb

        if time.monotonic() >= self.deadline:
            self.hit = True
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list or [])


def feature_fraction_floor(fraction: float, n_features: int | None) -> float:
    """``fraction`` of the features per tree, raised so that a tree gets at least
    :data:`MIN_FEATURES_PER_TREE` features (all of them when there are fewer)."""
    if n_features is None or n_features <= 0:
        return fraction
    return max(fraction, min(1.0, MIN_FEATURES_PER_TREE / n_features))


def lightgbm_params(  # type: ignore[no-untyped-def]
    config: ModelConfig,
    task: str,
    n_classes: int,
    n_threads: int,
    seed: int,
    n_features: int | None = None,
):
    """LightGBM's parameters for ``config``; with ``n_features`` (the matrix's columns) the
    per-tree feature fraction keeps :data:`MIN_FEATURES_PER_TREE` features per tree."""
    params: dict[str, Any] = {
        "verbosity": -1,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": max(1, n_threads),
        "feature_pre_filter": False,
    }
    if task == "binary":
        params.update(objective="binary", metric="binary_logloss")
    elif task == "multiclass":
        params.update(objective="multiclass", num_class=n_classes, metric="multi_logloss")
    else:
        params.update(objective="regression", metric="l2")
    params.update(config.params)
    for key in ("feature_fraction", "colsample_bytree", "sub_feature"):
        if key in params:
            params[key] = feature_fraction_floor(float(params[key]), n_features)
    return params


def _fit_lightgbm(
    config: ModelConfig,
    *,
    task: str,
    n_classes: int,
    X: Any,
    y: np.ndarray,
    X_val: Any,
    y_val: np.ndarray | None,
    categorical: list[int],
    n_threads: int,
    deadline: float | None,
    seed: int,
    iterations: int | None,
) -> Any:
    import lightgbm as lgb

    params = lightgbm_params(config, task, n_classes, n_threads, seed, n_features=X.shape[1])
    train_set = lgb.Dataset(
        X, label=y, categorical_feature=categorical or "auto", free_raw_data=True
    )
    callbacks: list[Any] = []
    valid_sets: list[Any] = []
    stopper = _DeadlineCallback(deadline) if deadline is not None else None
    if stopper is not None:
        callbacks.append(stopper)
    rounds = iterations or MAX_ROUNDS
    if iterations is None and X_val is not None and y_val is not None:
        valid_sets = [lgb.Dataset(X_val, label=y_val, reference=train_set)]
        # a gain below min_delta over the patience window is noise, not learning: on easy
        # folds log loss creeps towards zero for thousands of rounds otherwise
        min_delta = MIN_DELTA_LOGLOSS if task != "regression" else 1e-5 * float(np.var(y))
        callbacks.append(
            lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False, min_delta=min_delta)
        )
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=rounds,
        valid_sets=valid_sets or None,
        callbacks=callbacks,
    )
    best = booster.best_iteration if valid_sets else 0
    n_iter = best if best and best > 0 else booster.current_iteration()
    return booster, int(n_iter), bool(stopper is not None and stopper.hit)


def _fit_xgboost(
    config: ModelConfig,
    *,
    task: str,
    n_classes: int,
    X: Any,
    y: np.ndarray,
    X_val: Any,
    y_val: np.ndarray | None,
    n_threads: int,
    deadline: float | None,
    seed: int,
    iterations: int | None,
    **_: Any,
) -> Any:
    """XGBoost's histogram trees on the tree view (categories as their numeric codes), one
    thread unless asked; early stopping on the validation part, stopped at the deadline."""
    import xgboost as xgb

    params: dict[str, Any] = {
        "tree_method": "hist",
        "nthread": max(1, n_threads),
        "seed": seed,
        "verbosity": 0,
    }
    if task == "binary":
        params.update(objective="binary:logistic", eval_metric="logloss")
    elif task == "multiclass":
        params.update(objective="multi:softprob", num_class=n_classes, eval_metric="mlogloss")
    else:
        params.update(objective="reg:squarederror", eval_metric="rmse")
    params.update(config.params)
    if "colsample_bytree" in params:
        params["colsample_bytree"] = feature_fraction_floor(
            float(params["colsample_bytree"]), X.shape[1]
        )
    train_set = xgb.DMatrix(X, label=y, nthread=max(1, n_threads))
    callbacks: list[Any] = []
    evals: list[Any] = []
    if iterations is None and X_val is not None and y_val is not None:
        evals = [(xgb.DMatrix(X_val, label=y_val, nthread=max(1, n_threads)), "valid")]
        min_delta = MIN_DELTA_LOGLOSS if task != "regression" else 0.0
        callbacks.append(
            xgb.callback.EarlyStopping(
                rounds=EARLY_STOPPING_ROUNDS, min_delta=min_delta, save_best=False
            )
        )
    stopper = _XGBoostDeadline(deadline) if deadline is not None else None
    if stopper is not None:
        callbacks.append(stopper.callback(xgb))
    booster = xgb.train(
        params,
        train_set,
        num_boost_round=iterations or MAX_ROUNDS,
        evals=evals,
        callbacks=callbacks,
        verbose_eval=False,
    )
    if evals and booster.best_iteration is not None:
        n_iter = int(booster.best_iteration) + 1
    else:
        n_iter = int(booster.num_boosted_rounds())
    return booster, n_iter, bool(stopper is not None and stopper.hit)


class _XGBoostDeadline:
    """Stops XGBoost training at the deadline, keeping the rounds done so far."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.hit = False

    def callback(self, xgb: Any) -> Any:
        owner = self

        class _Stop(xgb.callback.TrainingCallback):
            def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                if time.monotonic() >= owner.deadline:
                    owner.hit = True
                    return True
                return False

        return _Stop()


@dataclass
class CatBoostFit:
    """A fitted CatBoost model as the bundle will hold it: its JSON model and that JSON loaded
    back (so the fitted model predicts exactly what the bundle will)."""

    model: Any  # apprentice.modelfiles.catboost_json.CatBoostModel
    json: str


def _fit_catboost(
    config: ModelConfig,
    *,
    task: str,
    n_classes: int,
    X: Any,
    y: np.ndarray,
    X_val: Any,
    y_val: np.ndarray | None,
    categorical: list[int],
    n_threads: int,
    deadline: float | None,
    seed: int,
    iterations: int | None,
) -> Any:
    """CatBoost's oblivious trees on the tree view, its own categorical handling on the
    categorical codes (one-hot or ordered target statistics), one thread unless asked; early
    stopping on the validation part (the best iteration kept), stopped at the deadline."""
    import tempfile
    from pathlib import Path

    from catboost import CatBoost, Pool

    from apprentice.modelfiles.catboost_json import (
        CatBoostModel,
        catboost_rows,
        load_catboost_json,
    )

    loss = {"binary": "Logloss", "multiclass": "MultiClass"}.get(task, "RMSE")
    params: dict[str, Any] = {
        "loss_function": loss,
        "iterations": iterations or MAX_ROUNDS,
        "thread_count": max(1, n_threads),
        "random_seed": seed,
        "verbose": 0,
        "allow_writing_files": False,
    }
    if task == "multiclass":
        params["classes_count"] = n_classes
    params.update(config.params)
    cats = list(categorical) or None
    train_set = Pool(catboost_rows(X, categorical), y, cat_features=cats)
    fit: dict[str, Any] = {}
    if iterations is None and X_val is not None and y_val is not None:
        fit.update(
            eval_set=Pool(catboost_rows(X_val, categorical), y_val, cat_features=cats),
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            use_best_model=True,
        )
    stopper = _CatBoostStopper(deadline, "eval_set" in fit, task, y)
    fit["callbacks"] = [stopper]
    model = CatBoost(params)
    model.fit(train_set, **fit)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.json"
        model.save_model(str(path), format="json")
        text = path.read_text(encoding="utf-8")
    loaded = CatBoostModel(task, n_classes, load_catboost_json(text.encode("utf-8")))
    n_iter = int(model.tree_count_)
    return CatBoostFit(loaded, text), n_iter, stopper.hit


class _CatBoostStopper:
    """Stops CatBoost training at the deadline, and when the validation loss has not improved
    by ``min_delta`` for :data:`EARLY_STOPPING_ROUNDS` rounds (as for LightGBM: on easy data
    log loss creeps towards zero for thousands of rounds otherwise); ``use_best_model`` then
    keeps the best round."""

    def __init__(self, deadline: float | None, validated: bool, task: str, y: np.ndarray) -> None:
        self.deadline = deadline
        self.validated = validated
        self.min_delta = MIN_DELTA_LOGLOSS if task != "regression" else 1e-5 * float(np.var(y))
        self.best = math.inf
        self.since = 0
        self.hit = False

    def after_iteration(self, info: Any) -> bool:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            self.hit = True
            return False
        if not self.validated:
            return True
        history = next(iter(info.metrics.get("validation", {}).values()), None)
        if not history:
            return True
        loss = float(history[-1])
        if loss < self.best - self.min_delta:
            self.best, self.since = loss, 0
        else:
            self.since += 1
        return self.since < EARLY_STOPPING_ROUNDS


def _fit_hgb(
    config: ModelConfig,
    *,
    task: str,
    X: Any,
    y: np.ndarray,
    categorical: list[int],
    n_threads: int,
    seed: int,
    iterations: int | None,
    **_: Any,
) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    X = _dense(X)
    mask: Any = None
    if categorical:
        mask = np.zeros(X.shape[1], dtype=bool)
        mask[categorical] = True
    params = {k: v for k, v in config.params.items() if k != "max_iter"}
    common: dict[str, Any] = {
        "categorical_features": mask,
        "random_state": seed,
        **params,
    }
    if iterations is None:
        common.update(
            max_iter=int(config.params.get("max_iter", 1000)),
            early_stopping=True,
            n_iter_no_change=20,
            validation_fraction=0.1,
        )
    else:
        common.update(max_iter=max(1, iterations), early_stopping=False)
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    with thread_limit(n_threads):
        est = cls(**common).fit(X, y)
    return est, int(est.n_iter_), False


def _fit_forest(
    config: ModelConfig,
    *,
    task: str,
    X: Any,
    y: np.ndarray,
    n_threads: int,
    deadline: float | None,
    seed: int,
    iterations: int | None,
    **_: Any,
) -> Any:
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )

    X = _dense(X)
    classes = {
        ("random_forest", False): RandomForestClassifier,
        ("random_forest", True): RandomForestRegressor,
        ("extra_trees", False): ExtraTreesClassifier,
        ("extra_trees", True): ExtraTreesRegressor,
    }
    cls = classes[(config.family, task == "regression")]
    params = dict(config.params)
    total = int(iterations or params.pop("n_estimators", 300))
    params.pop("n_estimators", None)
    est = cls(n_estimators=0, warm_start=True, n_jobs=n_threads, random_state=seed, **params)
    truncated = False
    grown = 0
    while grown < total:
        grown = min(total, grown + FOREST_CHUNK)
        est.set_params(n_estimators=grown)
        est.fit(X, y)
        if deadline is not None and time.monotonic() >= deadline and grown < total:
            truncated = True
            break
    return est, grown, truncated
