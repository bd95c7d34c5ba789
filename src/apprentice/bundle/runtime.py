"""The prediction runtime: replays the feature spec and runs the stored models.

This module is what a server needs at prediction time. It imports neither
:mod:`apprentice.learn` nor :mod:`apprentice.evaluate`: the feature spec the learn stage
exported is replayed by :class:`apprentice.features.FeatureRuntime` (the same column
transforms training used), for frames and for one record, and the models are plain stored
data or native boosters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import BundleError
from apprentice.features import FeatureRuntime

__all__ = ["SMALL_BATCH", "FeatureRuntime", "ModelRuntime", "Predictor"]


# --------------------------------------------------------------------------- models


SMALL_BATCH = 1000
_CONTROLLER: Any = None


def _controller() -> Any:
    """One threadpoolctl controller per process (finding the libraries is the slow part)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class ModelRuntime:
    """One stored model: ``constant``, ``linear``, ``lightgbm`` or ``sklearn``."""

    def __init__(self, kind: str, task: str, n_classes: int, payload: Any) -> None:
        self.kind = kind
        self.task = task
        self.n_classes = n_classes
        if kind == "constant":
            self.values = np.asarray(payload["values"], dtype=float)
        elif kind == "linear":
            self.coef = np.asarray(payload["coef"], dtype=float)
            self.intercept = np.asarray(payload["intercept"], dtype=float)
            self.link = str(payload["link"])
            seen = payload.get("classes_seen")
            self.seen: np.ndarray | None = np.asarray(
                seen if seen is not None else [], dtype=np.int64
            )
        elif kind == "lightgbm":
            self.booster = payload
        elif kind == "sklearn":
            self.estimator = payload
            classes = getattr(payload, "classes_", None)
            self.seen = np.asarray(classes).astype(np.int64) if classes is not None else None
        else:
            raise BundleError(f"the bundle holds a model of unknown kind {kind!r}")

    def predict(self, X: Any) -> np.ndarray:
        """Probabilities ``(n, n_classes)`` or values ``(n,)``."""
        n = X.shape[0]
        kind = self.kind
        if kind == "constant":
            if self.task == "regression":
                return np.full(n, self.values[0])
            return np.tile(self.values, (n, 1))
        if kind == "linear":
            z = np.asarray(X @ self.coef.T) + self.intercept
            if self.link == "identity":
                return z.ravel()
            if self.link == "logistic":
                p = 1.0 / (1.0 + np.exp(-z.ravel()))
                proba = np.column_stack([1.0 - p, p])
            else:
                proba = _softmax(z)
            return self._expand(proba, self.seen)
        if kind == "lightgbm":
            # one thread for small batches: thread start-up costs more than it saves
            raw = self.booster.predict(X, num_threads=1 if n <= SMALL_BATCH else 0)
            if self.task == "binary":
                return np.column_stack([1.0 - raw, raw])
            return np.asarray(raw, dtype=float)
        if hasattr(X, "toarray"):
            X = X.toarray()
        # one OpenMP thread: a server runs requests side by side, and OpenMP start-up costs
        # more than it saves on the small batches a bundle usually sees
        with _controller().limit(limits=1, user_api="openmp"):
            if self.task == "regression":
                return np.asarray(self.estimator.predict(X), dtype=float)
            return self._expand(self.estimator.predict_proba(X), self.seen)

    def _expand(self, proba: np.ndarray, seen: np.ndarray | None) -> np.ndarray:
        if (
            seen is None
            or len(seen) == 0
            or (proba.shape[1] == self.n_classes and len(seen) == self.n_classes)
        ):
            return proba
        out = np.zeros((proba.shape[0], self.n_classes))
        out[:, seen] = proba
        return out


class Predictor:
    """Feature views plus weighted member models: a typed frame or record to predictions."""

    def __init__(
        self,
        task: str,
        n_classes: int,
        features: dict[str, FeatureRuntime],
        members: list[tuple[ModelRuntime, float, str]],
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.features = features
        self.members = members
        self.input_columns = sorted({c for f in features.values() for c in f.input_columns})

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        matrices = {view: f.transform(frame) for view, f in self.features.items()}
        return self._combine(matrices)

    def predict_row(self, row: Mapping[str, Any]) -> np.ndarray:
        matrices = {view: f.transform_row(row) for view, f in self.features.items()}
        return self._combine(matrices)

    def combine(self, matrices: dict[str, Any]) -> np.ndarray:
        """Weighted member outputs from feature matrices keyed by view."""
        return self._combine(matrices)

    def _combine(self, matrices: dict[str, Any]) -> np.ndarray:
        total: np.ndarray | None = None
        for model, weight, view in self.members:
            pred = model.predict(matrices[view])
            if weight != 1.0:
                pred = pred * weight
            total = pred if total is None else total + pred
        assert total is not None
        return total
