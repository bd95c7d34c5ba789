"""What every stored model kind provides, and the pieces they share.

A *kind* (:class:`ModelKind`) is one way a model is stored in a bundle: its file suffix, how
it is written, how the bytes are checked before any native parser sees them, and how they
are loaded into a :class:`StoredModel`, which predicts (probabilities ``(n, n_classes)`` or
values ``(n,)``) and explains one row at a time (:meth:`StoredModel.contributions`).

Contributions are per *raw column*: :class:`Owner` maps each engineered feature of a view to
the column it comes from, and :class:`MemberContrib` holds one model's contributions in its
own space (see :mod:`apprentice.bundle.contrib` for how members are combined).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from apprentice.errors import BundleError

#: batches up to this many rows predict on one thread: start-up costs more than it saves
SMALL_BATCH = 1000
_CONTROLLER: Any = None


def refuse(name: str, what: str) -> BundleError:
    """The error for a model file that failed a check."""
    return BundleError(
        f"{name} {what}; the bundle is damaged or was tampered with: do not use it, rebuild it "
        "with apprentice train"
    )


def thread_controller() -> Any:
    """One threadpoolctl controller per process (finding the libraries is the slow part)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def outputs(task: str, n_classes: int) -> int:
    """How many scores a model emits per row: one per class for multiclass, else one."""
    return n_classes if task == "multiclass" else 1


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def expand(proba: np.ndarray, seen: np.ndarray | None, n_classes: int) -> np.ndarray:
    """Probabilities over all ``n_classes`` when the model saw only the classes ``seen``."""
    if seen is None or len(seen) == 0 or (proba.shape[1] == n_classes and len(seen) == n_classes):
        return proba
    out = np.zeros((proba.shape[0], n_classes))
    out[:, seen] = proba
    return out


def binary_columns(p: np.ndarray) -> np.ndarray:
    """``(n, 2)`` probabilities from the positive class' ``(n,)``."""
    p = np.asarray(p, dtype=float).ravel()
    return np.column_stack([1.0 - p, p])


# --------------------------------------------------------------------------- contributions


@dataclass
class Owner:
    """Which raw column each engineered feature of a view comes from."""

    index: np.ndarray  # (n_features,) position in ``columns``
    n_columns: int

    def __post_init__(self) -> None:
        self._sparse: Any = None
        self._dense: np.ndarray | None = None

    def matrix(self) -> Any:
        """The ``(n_features, n_columns)`` 0/1 aggregation matrix (sparse, built once)."""
        if self._sparse is None:
            from scipy import sparse

            f = len(self.index)
            self._sparse = sparse.csr_matrix(
                (np.ones(f), (np.arange(f), self.index)), shape=(f, self.n_columns)
            )
        return self._sparse

    def aggregate(self, values: Any) -> np.ndarray:
        """Engineered contributions ``(n, n_features)`` summed per raw column."""
        if hasattr(values, "toarray"):  # sparse (TF-IDF) contributions
            out = values @ self.matrix()
            return np.asarray(out.toarray() if hasattr(out, "toarray") else out, dtype=float)
        if self._dense is None:
            dense = np.zeros((len(self.index), self.n_columns))
            dense[np.arange(len(self.index)), self.index] = 1.0
            self._dense = dense
        return np.asarray(np.asarray(values, dtype=float) @ self._dense)


@dataclass
class MemberContrib:
    """One member's contributions per raw column.

    ``values`` is ``(n, n_columns, k)`` and ``base`` ``(n, k)``; ``space`` is ``margin``
    (``k`` = 1 for binary: the positive class' log-odds; ``k`` = classes for multiclass),
    ``probability`` (``k`` = classes) or ``value`` (regression, ``k`` = 1).
    """

    values: np.ndarray
    base: np.ndarray
    space: str
    method: str


def tree_shap(raw: Any, task: str, n_classes: int, owner: Owner) -> MemberContrib:
    """A booster's exact TreeSHAP output (``(n, k * (features + 1))``: per output, one
    contribution per feature then the bias) per raw column, on the raw score."""
    if hasattr(raw, "toarray"):
        raw = raw.toarray()
    raw = np.asarray(raw, dtype=float)
    n = raw.shape[0]
    f = len(owner.index)
    k = outputs(task, n_classes)
    raw = raw.reshape(n, k, f + 1)
    values = np.stack([owner.aggregate(raw[:, j, :f]) for j in range(k)], axis=2)
    base = raw[:, :, f]
    space = "value" if task == "regression" else "margin"
    return MemberContrib(values, base, space, "tree_shap")


# --------------------------------------------------------------------------- kinds


class StoredModel(ABC):
    """One loaded model of a bundle."""

    kind: ClassVar[str]

    def __init__(self, task: str, n_classes: int) -> None:
        self.task = task
        self.n_classes = n_classes

    @abstractmethod
    def predict(self, X: Any) -> np.ndarray:
        """Probabilities ``(n, n_classes)`` or values ``(n,)`` of the feature matrix ``X``."""

    def contributions(self, X: Any, owner: Owner) -> MemberContrib | None:
        """Per-row contributions per raw column, or ``None`` when this model has no per-row
        method (the caller names the family)."""
        return None


class ModelKind(ABC):
    """One stored model kind: suffix, write, check, load."""

    #: the name in the manifest's ``kind`` field
    name: ClassVar[str]
    #: the file suffix of its model file
    suffix: ClassVar[str]
    #: the largest model file loaded
    max_bytes: ClassVar[int]
    #: the distributions whose versions the manifest records (any that are installed)
    libraries: ClassVar[tuple[str, ...]] = ()
    #: how errors name the kind ("a valid LightGBM model")
    label: ClassVar[str] = ""
    #: what :meth:`build` may raise on a file that passed :meth:`check` but is still not a
    #: model (refused as one)
    build_errors: ClassVar[tuple[type[Exception], ...]] = (KeyError, TypeError, ValueError)

    @abstractmethod
    def write(self, member: Mapping[str, Any], path: Path) -> None:
        """Write an exported member (``FittedModel.export()``) to ``path``."""

    @abstractmethod
    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> Any:
        """Refuse bytes that are not a model of this kind for the task and a view of
        ``width`` features (:func:`refuse` naming the file ``name``); return what
        :meth:`build` takes (the parse, or the checked bytes)."""

    @abstractmethod
    def build(self, checked: Any, task: str, n_classes: int) -> StoredModel:
        """The loaded model from what :meth:`check` returned."""

    def load(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> StoredModel:
        """Check, then build: no byte reaches a native parser unchecked."""
        checked = self.check(data, name, task=task, n_classes=n_classes, width=width)
        try:
            return self.build(checked, task, n_classes)
        except self.build_errors:
            raise BundleError(f"{name} is not a valid {self.label or self.name} model") from None
