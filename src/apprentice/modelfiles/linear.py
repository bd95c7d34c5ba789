"""The ``linear`` kind: coefficients, intercepts and a link (identity, logistic, softmax),
stored as JSON arrays (``model_<i>.json``); predicted and explained in numpy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from apprentice.modelfiles.base import (
    MemberContrib,
    Owner,
    StoredModel,
    binary_columns,
    expand,
    refuse,
    softmax,
)
from apprentice.modelfiles.constant import JsonKind

LINKS = {"regression": "identity", "binary": "logistic", "multiclass": "softmax"}


class LinearModel(StoredModel):
    kind = "linear"

    def __init__(self, task: str, n_classes: int, payload: Mapping[str, Any]) -> None:
        super().__init__(task, n_classes)
        self.coef = np.asarray(payload["coef"], dtype=float)
        self.intercept = np.asarray(payload["intercept"], dtype=float)
        self.link = str(payload["link"])
        seen = payload.get("classes_seen")
        self.seen: np.ndarray | None = np.asarray(seen if seen is not None else [], dtype=np.int64)

    def predict(self, X: Any) -> np.ndarray:
        z = np.asarray(X @ self.coef.T) + self.intercept
        if self.link == "identity":
            return z.ravel()
        if self.link == "logistic":
            proba = binary_columns(1.0 / (1.0 + np.exp(-z.ravel())))
        else:
            proba = softmax(z)
        return expand(proba, self.seen, self.n_classes)

    def contributions(self, X: Any, owner: Owner) -> MemberContrib:
        """Coefficient x the feature value; the base is the intercept."""
        n = X.shape[0]
        coef, intercept = self.coef, self.intercept
        is_sparse = hasattr(X, "tocsr")  # a SciPy matrix (TF-IDF): SciPy is not imported here
        rows = []
        for j in range(coef.shape[0]):
            weighted = X.multiply(coef[j]) if is_sparse else np.asarray(X) * coef[j]
            rows.append(owner.aggregate(weighted))
        values = np.stack(rows, axis=2)
        base = np.tile(intercept, (n, 1))
        if self.link == "softmax" and self.seen is not None and len(self.seen):
            k = self.n_classes
            full = np.zeros((n, owner.n_columns, k))
            full_base = np.full((n, k), -np.inf)
            full[:, :, self.seen] = values
            full_base[:, self.seen] = base
            values, base = full, full_base
        elif self.link == "logistic" and self.seen is not None and len(self.seen) == 1:
            # one class seen in training: a constant certainty, nothing to attribute
            values = np.zeros_like(values)
            base = np.full((n, 1), np.inf if int(self.seen[0]) == 1 else -np.inf)
        space = "value" if self.link == "identity" else "margin"
        return MemberContrib(values, base, space, "linear")


class LinearKind(JsonKind):
    name = "linear"

    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> Any:
        """The arrays have the shapes the task and its view need, all finite."""
        payload = self.description(data, name)
        try:
            coef = np.asarray(payload["coef"], dtype=float)
            intercept = np.asarray(payload["intercept"], dtype=float)
            seen = payload.get("classes_seen")
            seen_arr = np.asarray(seen if seen is not None else [], dtype=float)
        except (KeyError, TypeError, ValueError):
            raise refuse(name, "does not hold its arrays as lists of numbers") from None
        rows = coef.shape[0] if coef.ndim == 2 else -1
        if coef.ndim != 2 or coef.shape[1] != width or intercept.shape != (rows,):
            raise refuse(name, f"does not hold one coefficient per feature ({width})")
        link = payload.get("link")
        if link != LINKS[task]:
            raise refuse(name, f"uses the link {str(link)[:20]!r}, not {LINKS[task]!r}")
        if task == "multiclass":
            if len(seen_arr) != rows or (
                len(seen_arr)
                and (
                    seen_arr.min() < 0 or seen_arr.max() >= n_classes or len(set(seen_arr)) != rows
                )
            ):
                raise refuse(name, "names classes the manifest does not have")
        elif rows != 1:
            raise refuse(name, f"has {rows} coefficient rows where a {task} model has 1")
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise refuse(name, "holds a coefficient that is not a finite number")
        return payload

    def build(self, checked: Any, task: str, n_classes: int) -> LinearModel:
        return LinearModel(task, n_classes, checked)
