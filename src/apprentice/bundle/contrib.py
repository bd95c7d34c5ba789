"""Per-row contributions of a bundle's prediction, in the raw column names a user knows.

This is the explanation math a server needs, so it lives in the bundle runtime and imports
neither learn, evaluate nor explain (nor shap): ``Bundle.explain(rows, top=5)`` calls
:func:`explain_rows`, and the explain stage builds its global importance on
:func:`contributions`.

Each stored model explains itself in its own space (``StoredModel.contributions`` of its
kind in :mod:`apprentice.modelfiles`):

``lightgbm``
    LightGBM's own TreeSHAP (``pred_contrib=True``): exact Shapley values of the raw score
    (log-odds for binary, the class score for multiclass, the value for regression); the
    base value is the expected raw score over the training rows.
``linear``
    coefficient x the standardised (or one-hot, TF-IDF) feature value; the base value is
    the intercept, that is the score of a row at the training mean of every number with no
    category switched on.
``constant``
    no contribution: everything is in the base value.
``sklearn`` forests (random forest, extra trees)
    Saabas path attribution: each split on a row's path moves the node value, and the move
    is credited to the split's feature; exact for the forest's averaged probability or value.

Other scikit-learn models have no per-row method (:class:`~apprentice.errors.BundleError`
names the family); :func:`contributions` takes a ``member_contrib`` hook through which the
explain stage plugs in SHAP for them.

Engineered features are mapped back to the raw column they come from (one-hot levels, date
parts, missing indicators, TF-IDF terms all add up to their column), through the cleaning
recipe's renames, so every name is a column of the user's file.

Units (``space``): a single LightGBM or linear classifier is explained on its raw score
(``log_odds`` for binary, ``margin`` for multiclass); an ensemble of classifiers, or a
probability model, on the predicted ``probability`` (each member's score contributions are
rescaled to its probability change, then weighted); regression always on the ``value``. In
every case ``base_value + sum(contributions) == output`` for each row, where ``output`` is the
explained quantity (for binary tasks the positive class ``classes[1]``, for multiclass the
predicted class unless ``target_class`` is given).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.bundle.cleaning import clean_frame
from apprentice.bundle.runtime import FeatureRuntime, ModelRuntime
from apprentice.errors import BundleError
from apprentice.modelfiles import MemberContrib, Owner

if TYPE_CHECKING:
    from apprentice.bundle.model import Bundle

#: A hook for models this module cannot explain: ``(model, X, owner)`` returns a
#: :class:`MemberContrib`, or the tuple ``(values, base, space, method)`` of its fields (so a
#: caller needs no import of this module), or ``None`` to leave the model to this module.
MemberHook = Callable[[ModelRuntime, Any, "Owner"], Any]


@dataclass
class Contributions:
    """Contributions of many rows (see the module docstring for units and exactness)."""

    columns: list[str]
    values: np.ndarray  # (n, len(columns))
    base: np.ndarray  # (n,)
    output: np.ndarray  # (n,) base + values.sum(axis=1)
    space: str
    method: str
    class_index: np.ndarray | None = None  # (n,) the explained class of each row
    explained: list[Any] | None = None  # the explained class label of each row

    def frame(self) -> pd.DataFrame:
        """The contributions as a DataFrame, one column per raw column."""
        return pd.DataFrame(self.values, columns=self.columns)


# --------------------------------------------------------------------------- inputs


def _typed_rows(bundle: Bundle, X: Any) -> tuple[pd.DataFrame | None, list[dict[str, Any]]]:
    """Typed rows (a frame, or one record for the fast path) and the raw records as given."""
    if isinstance(X, pd.Series):
        X = X.to_dict()
    if isinstance(X, Mapping):
        return None, [dict(X)]
    if isinstance(X, pd.DataFrame):
        frame = X
    elif isinstance(X, Iterable) and not isinstance(X, str | bytes):
        records = list(X)
        if records and not all(isinstance(r, Mapping) for r in records):
            raise BundleError("pass a DataFrame, a record (mapping) or a list of records")
        frame = pd.DataFrame.from_records(records)
    else:
        raise BundleError("pass a DataFrame, a record (mapping) or a list of records")
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    if bundle.input_columns:
        frame = bundle._select(frame)
    elif bundle.target is not None and bundle.target in frame.columns:
        frame = frame.drop(columns=[bundle.target])
    raw = frame.reset_index(drop=True)
    return clean_frame(bundle.cleaner, raw), []


def _matrices(bundle: Bundle, X: Any) -> tuple[dict[str, Any], Any]:
    """The feature matrix of each view, and the raw rows as given (a frame, or a list of one
    record for the one-record fast path)."""
    typed, records = _typed_rows(bundle, X)
    features: dict[str, FeatureRuntime] = bundle.predictor.features
    if typed is None:
        record = records[0]
        row = bundle._clean_row(record) if bundle._clean_row is not None else record
        matrices = {view: f.transform_row(row) for view, f in features.items()}
        return matrices, records
    if isinstance(X, pd.DataFrame):
        shown = X.set_axis([str(c) for c in X.columns], axis=1).reset_index(drop=True)
    elif isinstance(X, pd.Series):
        shown = pd.DataFrame([X.to_dict()])
    else:
        shown = pd.DataFrame.from_records(list(X))
    matrices = {view: f.transform(typed) for view, f in features.items()}
    return matrices, shown


def raw_columns(bundle: Bundle) -> tuple[list[str], dict[str, Owner]]:
    """The raw columns the model uses (in input order) and each view's feature owners
    (computed once per loaded bundle)."""
    cached = getattr(bundle, "_contrib_layout", None)
    if cached is None:
        cached = _layout(bundle)
        bundle._contrib_layout = cached  # type: ignore[attr-defined]
    return cached


def _layout(bundle: Bundle) -> tuple[list[str], dict[str, Owner]]:
    source: dict[str, str] = {}
    recipe = getattr(bundle.cleaner, "recipe_", None)
    for rec in getattr(recipe, "columns", []) or []:
        source[str(rec.name)] = str(rec.source)
    used: list[str] = []
    for f in bundle.predictor.features.values():
        for col in f.columns:
            name = source.get(col.name, col.name)
            if name not in used:
                used.append(name)
    order = {c: i for i, c in enumerate(bundle.input_columns)}
    used.sort(key=lambda c: order.get(c, len(order)))
    position = {c: i for i, c in enumerate(used)}
    owners: dict[str, Owner] = {}
    for view, f in bundle.predictor.features.items():
        index: list[int] = []
        for col in f.columns:
            index.extend([position[source.get(col.name, col.name)]] * col.width)
        owners[view] = Owner(np.asarray(index, dtype=np.int64), len(used))
    return used, owners


# --------------------------------------------------------------------------- members


def member_contributions(
    model: ModelRuntime, X: Any, owner: Owner, hook: MemberHook | None = None
) -> MemberContrib:
    """The contributions of one stored model on its view's feature matrix ``X``."""
    if hook is not None:
        found = hook(model, X, owner)
        if isinstance(found, tuple):
            found = MemberContrib(*found)
        if found is not None:
            return found
    found = model.contributions(X, owner)
    if found is not None:
        return found
    family = type(getattr(model, "estimator", model)).__name__
    raise BundleError(
        f"per-row explanations are not available for a {family} model; retrain with the "
        "default fast-predict families (LightGBM, linear) to serve explanations"
    )


# --------------------------------------------------------------------------- combining


def _sigmoid(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _softmax(z: np.ndarray) -> np.ndarray:
    top = np.max(np.where(np.isfinite(z), z, -np.inf), axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(z - top)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _pick(member: MemberContrib, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The contributions and base of each row's explained class, in the member's space."""
    rows = np.arange(member.values.shape[0])
    col = np.zeros_like(cls) if member.values.shape[2] == 1 else cls
    return member.values[rows, :, col], member.base[rows, col]


def _as_probability(
    member: MemberContrib, cls: np.ndarray, binary: bool
) -> tuple[np.ndarray, np.ndarray]:
    """A margin member's contributions rescaled to its probability change (sums exactly)."""
    values, base = _pick(member, cls)
    if member.space == "probability":
        return values, base
    margin = base + values.sum(axis=1)
    if binary:
        p, pb = _sigmoid(margin), _sigmoid(base)
    else:
        rows = np.arange(len(cls))
        full = member.base + member.values.sum(axis=1)
        p, pb = _softmax(full)[rows, cls], _softmax(member.base)[rows, cls]
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = margin - base
        scale = np.where(np.abs(gap) > 1e-12, (p - pb) / gap, p * (1.0 - p))
    scale = np.nan_to_num(scale, nan=0.0, posinf=0.0, neginf=0.0)
    return values * scale[:, None], np.nan_to_num(pb)


def contributions(
    bundle: Bundle,
    X: Any,
    *,
    target_class: Any = None,
    member_contrib: MemberHook | None = None,
) -> Contributions:
    """Contributions of every raw column to each row's prediction (see the module docstring).

    ``X`` is what :meth:`Bundle.predict` accepts. ``target_class`` (a label of
    ``bundle.classes``) fixes the explained class of a multiclass model; by default each row
    is explained for its predicted class (binary: always the positive class ``classes[1]``).
    """
    matrices, _ = _matrices(bundle, X)
    return _contributions(bundle, matrices, target_class, member_contrib)


def _contributions(
    bundle: Bundle,
    matrices: dict[str, Any],
    target_class: Any,
    hook: MemberHook | None,
    output: np.ndarray | None = None,
) -> Contributions:
    columns, owners = raw_columns(bundle)
    predictor = bundle.predictor
    n = next(iter(matrices.values())).shape[0]
    if n == 0:
        empty = np.zeros(0)
        space = "value" if bundle.task == "regression" else "probability"
        return Contributions(columns, np.zeros((0, len(columns))), empty, empty, space, "none")
    parts = [
        (member_contributions(model, matrices[view], owners[view], hook), weight)
        for model, weight, view in predictor.members
    ]
    task = bundle.task
    methods = sorted({p.method for p, _ in parts if p.method != "constant"}) or ["constant"]
    method = "+".join(methods)
    if task == "regression":
        values = sum(w * p.values[:, :, 0] for p, w in parts)
        base = sum(w * p.base[:, 0] for p, w in parts)
        values, base = np.asarray(values), np.asarray(base)
        return Contributions(columns, values, base, base + values.sum(axis=1), "value", method)
    binary = task == "binary"
    classes = list(bundle.classes or [])
    if binary:
        cls = np.ones(n, dtype=np.int64)
    elif target_class is not None:
        if target_class not in classes:
            raise BundleError(
                f"the class {target_class!r} is not one of the model's classes "
                f"({', '.join(map(str, classes))})"
            )
        cls = np.full(n, classes.index(target_class), dtype=np.int64)
    else:
        proba = predictor._combine(matrices) if output is None else output
        cls = np.asarray(proba.argmax(axis=1), dtype=np.int64)
    single = len(parts) == 1 and parts[0][0].space == "margin" and parts[0][1] == 1.0
    if single:
        values, base = _pick(parts[0][0], cls)
        space = "log_odds" if binary else "margin"
    else:
        values = np.zeros((n, len(columns)))
        base = np.zeros(n)
        for part, weight in parts:
            v, b = _as_probability(part, cls, binary)
            values += weight * v
            base += weight * b
        space = "probability"
    explained = [classes[i] for i in cls] if classes else None
    return Contributions(
        columns, values, base, base + values.sum(axis=1), space, method, cls, explained
    )


# --------------------------------------------------------------------------- per row


def _plain(value: Any) -> Any:
    """A JSON-safe form of a raw cell (numbers as numbers, missing as ``None``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def explain_rows(bundle: Bundle, X: Any, *, top: int = 5) -> list[dict[str, Any]]:
    """The ``top`` largest contributions of each row, in the raw column names.

    One dict per row, in input order::

        {"prediction": label or value, "explained_class": label (classification),
         "space": "log_odds" | "margin" | "probability" | "value", "method": ...,
         "base_value": float, "output": float,
         "contributions": [{"feature": column, "value": raw cell, "contribution": float}],
         "rest": float}

    ``contributions`` are ordered by absolute size; ``rest`` is the sum of the columns left
    out, so ``base_value + sum(contributions) + rest == output``.
    """
    if top < 0:
        raise BundleError("top must be zero or a positive number of columns")
    matrices, shown = _matrices(bundle, X)
    n = next(iter(matrices.values())).shape[0]
    if n == 0:
        return []
    out_pred = bundle.predictor._combine(matrices)
    c = _contributions(bundle, matrices, None, None, out_pred)
    if bundle.task == "regression":
        predictions: list[Any] = [float(v) for v in np.asarray(out_pred).ravel()]
    else:
        labels = list(bundle.classes or [])
        predictions = [_plain(labels[i]) for i in bundle.decide(out_pred)]
    if isinstance(shown, list):  # the one-record path
        cells = [{str(k): v for k, v in shown[0].items()}]
    else:
        cells = [
            dict(zip(map(str, shown.columns), values, strict=True))
            for values in shown.itertuples(index=False, name=None)
        ]
    rows: list[dict[str, Any]] = []
    for i in range(n):
        order = np.argsort(-np.abs(c.values[i]), kind="stable")
        chosen = order[:top]
        items = []
        for j in chosen:
            name = c.columns[j]
            raw = cells[i].get(name)
            items.append(
                {"feature": name, "value": _plain(raw), "contribution": float(c.values[i, j])}
            )
        rest = float(c.values[i, order[top:]].sum()) if len(order) > top else 0.0
        row: dict[str, Any] = {"prediction": predictions[i]}
        if c.explained is not None:
            row["explained_class"] = _plain(c.explained[i])
        row.update(
            {
                "space": c.space,
                "method": c.method,
                "base_value": float(c.base[i]),
                "output": float(c.output[i]),
                "contributions": items,
                "rest": rest,
            }
        )
        rows.append(row)
    return rows
