"""The ``constant`` kind: the baseline's class frequencies or mean, stored as JSON arrays
(``model_<i>.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.modelfiles.base import MemberContrib, ModelKind, Owner, StoredModel, refuse
from apprentice.modelfiles.jsonfile import MAX_JSON_BYTES, dump_json, load_json

#: exported fields that are not stored (the live estimator, the view the manifest records)
NOT_STORED = ("estimator", "view")


class ConstantModel(StoredModel):
    kind = "constant"

    def __init__(self, task: str, n_classes: int, values: np.ndarray) -> None:
        super().__init__(task, n_classes)
        self.values = values

    def predict(self, X: Any) -> np.ndarray:
        n = X.shape[0]
        if self.task == "regression":
            return np.full(n, self.values[0])
        return np.tile(self.values, (n, 1))

    def contributions(self, X: Any, owner: Owner) -> MemberContrib:
        n = X.shape[0]
        k = 1 if self.task == "regression" else self.n_classes
        base = np.tile(self.values[:k], (n, 1))
        space = "value" if self.task == "regression" else "probability"
        return MemberContrib(np.zeros((n, owner.n_columns, k)), base, space, "constant")


class JsonKind(ModelKind):
    """A model stored as a JSON description of its arrays (the constant and linear kinds)."""

    suffix = ".json"
    max_bytes = MAX_JSON_BYTES

    def write(self, member: Mapping[str, Any], path: Path) -> None:
        dump_json(path, {k: v for k, v in member.items() if k not in NOT_STORED})

    @staticmethod
    def description(data: bytes, name: str) -> dict[str, Any]:
        """The file's JSON (read with caps), which must be an object."""
        payload = load_json(data, name)
        if not isinstance(payload, dict):
            raise refuse(name, "is not a model description")
        return payload


class ConstantKind(JsonKind):
    name = "constant"

    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> Any:
        payload = self.description(data, name)
        if payload.get("kind") == "linear" or "coef" in payload:
            raise refuse(name, "is a linear model where the manifest names a constant one")
        try:
            values = np.asarray(payload["values"], dtype=float)
        except (KeyError, TypeError, ValueError):
            raise refuse(name, "does not hold its arrays as lists of numbers") from None
        if values.shape != (max(n_classes, 1),) or not np.all(np.isfinite(values)):
            raise refuse(name, f"does not hold {max(n_classes, 1)} finite value(s)")
        return values

    def build(self, checked: Any, task: str, n_classes: int) -> ConstantModel:
        return ConstantModel(task, n_classes, checked)
