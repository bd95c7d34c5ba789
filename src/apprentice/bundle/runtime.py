"""The prediction runtime: replays the feature spec and runs the stored models.

This module is what a server needs at prediction time. It imports neither
:mod:`apprentice.learn` nor :mod:`apprentice.evaluate`: the feature spec the learn stage
exported is replayed by :class:`apprentice.features.FeatureRuntime` (the same column
transforms training used), for frames and for one record, and each model is the loaded form
of its kind (:mod:`apprentice.modelfiles`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from apprentice.features import FeatureRuntime
from apprentice.modelfiles import SMALL_BATCH, MemberContrib, Owner, StoredModel

__all__ = ["SMALL_BATCH", "FeatureRuntime", "ModelRuntime", "Predictor"]


# --------------------------------------------------------------------------- models


class ModelRuntime:
    """One stored model of any kind (:mod:`apprentice.modelfiles`), as the predictor, the
    contributions and the server hold it: ``kind``, ``task``, ``n_classes``, ``predict`` and
    ``contributions``, plus the kind's own handles (a LightGBM ``booster``, linear ``coef``
    and ``intercept``, a scikit-learn ``estimator``) read through to the loaded model."""

    def __init__(self, model: StoredModel) -> None:
        self.model = model
        self.kind = model.kind
        self.task = model.task
        self.n_classes = model.n_classes
        # bound once: the single-row path calls it per request
        self.predict: Callable[[Any], np.ndarray] = model.predict
        self.contributions: Callable[[Any, Owner], MemberContrib | None] = model.contributions

    def __getattr__(self, name: str) -> Any:
        if name == "model":  # not yet set (during construction)
            raise AttributeError(name)
        return getattr(self.model, name)


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
