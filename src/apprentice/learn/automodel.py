"""``AutoModel``: the budgeted search as one scikit-learn estimator.

``AutoModel(time_budget=60).fit(X, y)`` detects the task, cleans raw text cells with the clean
stage's ``Cleaner`` (when every column is text), searches the portfolio under the budget and
refits the champion on all rows. It clones, pipelines and grid-searches like any estimator.
There is no holdout here: evaluate it the scikit-learn way (``cross_val_score``, a split of
your own), or use :func:`apprentice.train` for the full evaluated, bundled run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from apprentice.errors import ConfigError
from apprentice.learn.search import search
from apprentice.learn.task import prepare_target


def _frame(X: Any, names: list[str] | None = None) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.set_axis([str(c) for c in X.columns], axis=1)
    if hasattr(X, "toarray"):
        raise TypeError("AutoModel needs dense input (a DataFrame or a 2-D array), not sparse")
    arr = np.asarray(X)
    if arr.ndim == 1:
        raise ValueError(
            "Expected 2D array, got 1D array instead: reshape your data with "
            "array.reshape(-1, 1) for a single feature"
        )
    if arr.ndim != 2:
        raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead")
    columns = names if names is not None else [f"x{i}" for i in range(arr.shape[1])]
    frame = pd.DataFrame(arr, columns=columns)
    if arr.dtype.kind in "iufb":
        frame = frame.astype(float)
    return frame


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as text (missing stays missing), what the ``Cleaner`` reads."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.StringDtype):
            out[name] = col
        else:
            values = [
                None if v is None or (isinstance(v, float) and v != v) else str(v)
                for v in col.tolist()
            ]
            out[name] = pd.Series(values, index=frame.index, dtype="str")
    return pd.DataFrame(out, index=frame.index)


def _all_text(frame: pd.DataFrame) -> bool:
    return all(
        isinstance(frame[c].dtype, pd.StringDtype) or frame[c].dtype == object
        for c in frame.columns
    ) and all(frame[c].dropna().map(lambda v: isinstance(v, str)).all() for c in frame.columns)


class AutoModel(BaseEstimator):
    """A scikit-learn estimator that searches baselines and strong learners under a budget.

    Parameters (keyword-only, stored as given): ``time_budget`` seconds (``None``: bounded by
    ``max_trials``, reproducible), ``metric`` (default: ROC AUC, log loss or RMSE by task),
    ``task`` (``binary``, ``multiclass``, ``regression``; detected when ``None``),
    ``max_trials`` Optuna trials after the portfolio, ``seed``, ``n_jobs`` threads per fit,
    ``ensemble``, ``families`` (restrict the portfolio), ``fast_predict`` (champion only from
    families with fast single-row prediction), ``clean`` (``"auto"``: apply the ``Cleaner``
    when every column is text; ``True``/``False`` force it).

    Learned: ``model_``, ``task_``, ``classes_`` (classification), ``leaderboard_``,
    ``search_``, ``cleaner_`` (or ``None``), ``n_features_in_``, ``feature_names_in_``.
    """

    def __init__(
        self,
        *,
        time_budget: float | None = 60.0,
        metric: str | None = None,
        task: str | None = None,
        max_trials: int | None = None,
        seed: int = 0,
        n_jobs: int | None = None,
        ensemble: bool = True,
        families: tuple[str, ...] | None = None,
        fast_predict: bool = False,
        clean: bool | str = "auto",
    ) -> None:
        self.time_budget = time_budget
        self.metric = metric
        self.task = task
        self.max_trials = max_trials
        self.seed = seed
        self.n_jobs = n_jobs
        self.ensemble = ensemble
        self.families = families
        self.fast_predict = fast_predict
        self.clean = clean

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.time_budget is not None
        return tags

    # -- fit

    def fit(self, X: Any, y: Any) -> AutoModel:
        """Search under the budget and refit the champion on all labelled rows."""
        if self.clean not in ("auto", True, False):
            raise ConfigError("clean must be 'auto', True or False")
        frame = _frame(X)
        if frame.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is "
                "required."
            )
        if frame.shape[1] == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is "
                "required."
            )
        y_arr = np.asarray(y)
        if y_arr.ndim != 1:
            if y_arr.ndim == 2 and y_arr.shape[1] == 1:
                y_arr = y_arr.ravel()
            else:
                raise ValueError("y must be one-dimensional (one target column)")
        if len(y_arr) != len(frame):
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{len(frame)}, {len(y_arr)}]"
            )
        self.n_features_in_ = frame.shape[1]
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.cleaner_ = None
        use_cleaner = self.clean is True or (self.clean == "auto" and _all_text(frame))
        if use_cleaner:
            from apprentice.clean import Cleaner

            self.cleaner_ = Cleaner()
            frame = self.cleaner_.fit_transform(_text_frame(frame))
        else:
            numeric = frame.select_dtypes(include=[np.number])
            if numeric.shape[1] and np.isinf(numeric.to_numpy(dtype=float)).any():
                raise ValueError("Input X contains infinity or a value too large.")
        info = prepare_target(pd.Series(y_arr), name="y", task=self.task)
        kept = frame.loc[info.kept].reset_index(drop=True)
        result = search(
            kept,
            info.y,
            task=info.task,
            n_classes=info.n_classes,
            metric=self.metric,
            time_budget=self.time_budget,
            max_trials=self.max_trials,
            seed=self.seed,
            n_threads=self.n_jobs,
            ensemble=self.ensemble,
            families=self.families,
            refit_extra=False,
            fast_predict=self.fast_predict,
        )
        self.search_ = result
        self.model_ = result.final
        self.task_ = info.task
        self.leaderboard_ = result.leaderboard
        self.warnings_ = list(info.warnings) + list(result.warnings)
        if info.classes is not None:
            self.classes_ = np.asarray(info.classes, dtype=object)
            if all(isinstance(c, int) for c in info.classes):
                self.classes_ = self.classes_.astype(np.int64)
        elif hasattr(self, "classes_"):
            del self.classes_
        return self

    # -- predict

    def _typed(self, X: Any) -> pd.DataFrame:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        names = list(self.feature_names_in_) if hasattr(self, "feature_names_in_") else None
        frame = _frame(X, None if isinstance(X, pd.DataFrame) else names)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but AutoModel is expecting "
                f"{self.n_features_in_} features as input"
            )
        if not isinstance(X, pd.DataFrame) and names is None:
            frame.columns = pd.Index([f"x{i}" for i in range(frame.shape[1])])
        if self.cleaner_ is not None:
            frame = self.cleaner_.transform(_text_frame(frame))
        return frame

    def _output(self, X: Any) -> np.ndarray:
        typed = self._typed(X)
        return self.model_.predict(typed)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes (labels as given in ``y``, cleaned) or values."""
        out = self._output(X)
        if self.task_ == "regression":
            return out
        return self.classes_[out.argmax(axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        if getattr(self, "task_", None) == "regression":
            raise AttributeError("predict_proba is only available for classification")
        return self._output(X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy for classification, R² for regression (the scikit-learn defaults)."""
        from sklearn.metrics import accuracy_score, r2_score

        pred = self.predict(X)
        if self.task_ == "regression":
            return float(r2_score(y, pred, sample_weight=sample_weight))
        truth = np.asarray(y)
        if truth.dtype.kind in "iuf" and self.classes_.dtype.kind in "iu":
            truth = truth.astype(np.int64)
        return float(
            accuracy_score(truth.astype(self.classes_.dtype), pred, sample_weight=sample_weight)
        )
