"""Global importance and a SHAP summary of a bundle, in the raw column names.

:func:`explain_global` explains a sample of rows (at most ``max_rows``) with the bundle
runtime's contributions (``bundle.contributions``): LightGBM's TreeSHAP, exact linear
contributions, and for scikit-learn tree models SHAP's ``TreeExplainer`` (imported only then).
When no contribution method applies it falls back to permutation importance on the raw
columns (loss increase when ``y`` is given, otherwise the mean change of the prediction).

The result, :class:`GlobalExplanation`, is plain data (``to_dict()`` goes into the run record)::

    {"method": "tree_shap" | "linear" | "tree_shap+linear" | "permutation",
     "space": "log_odds" | "margin" | "probability" | "value" | "loss" | "prediction",
     "n_rows": int, "base_value": float | None,
     "importance": [{"feature": column, "mean_abs": float, "share": float}, ...],  # desc
     "summary": [{"feature": column, "kind": "numeric" | "categorical",
                  "points": [[contribution, colour 0..1 or None], ...]}, ...] | None,
     "notes": [str, ...]}

``summary`` holds up to ``max_points`` rows for each of the ``top`` most important columns: a
contribution and the row's value of that column as a rank in ``[0, 1]`` (numbers; ``None`` for
categories), which is what a SHAP beeswarm plot draws. No raw value is stored, so nothing from
the data (PII included) reaches the record through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.errors import BundleError, ConfigError

if TYPE_CHECKING:  # the bundle stage sits right of explain: used through the object only
    from apprentice.bundle import Bundle
    from apprentice.bundle.contrib import Contributions

MAX_POINTS = 300
PERMUTATION_REPEATS = 3


@dataclass
class GlobalExplanation:
    """Global importance of the raw columns (see the module docstring)."""

    method: str
    space: str
    n_rows: int
    importance: pd.DataFrame  # feature, mean_abs, share; most important first
    summary: list[dict[str, Any]] | None = None
    base_value: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ranking(self) -> list[str]:
        """Raw column names, most important first."""
        return [str(c) for c in self.importance["feature"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "space": self.space,
            "n_rows": self.n_rows,
            "base_value": self.base_value,
            "importance": [
                {"feature": str(r.feature), "mean_abs": float(r.mean_abs), "share": float(r.share)}
                for r in self.importance.itertuples(index=False)
            ],
            "summary": self.summary,
            "notes": list(self.notes),
        }


def _shap_hook(model: Any, X: Any, owner: Any) -> tuple[Any, ...] | None:
    """SHAP's TreeExplainer for a scikit-learn tree model: ``(values, base, space, method)``
    per raw column, or ``None`` when it cannot (the bundle runtime's fallback then runs)."""
    if model.kind != "sklearn":
        return None
    est = model.estimator
    try:
        import shap

        explainer = shap.TreeExplainer(est)
        dense = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        sv = np.asarray(explainer.shap_values(dense, check_additivity=False), dtype=float)
        expected = np.atleast_1d(np.asarray(explainer.expected_value, dtype=float))
    except Exception:  # unsupported model or categorical splits: the runtime's fallback
        return None
    n = dense.shape[0]
    if sv.ndim == 2:
        sv = sv[:, :, None]
    elif sv.ndim == 3 and sv.shape[0] != n:  # older shap: (classes, n, features)
        sv = np.transpose(sv, (1, 2, 0))
    k = sv.shape[2]
    values = np.stack([owner.aggregate(sv[:, :, j]) for j in range(k)], axis=2)
    base = np.tile(expected[:k], (n, 1))
    if model.task == "regression":
        return values, base, "value", "tree_shap"
    forest = isinstance(getattr(est, "estimators_", None), list)
    if forest:  # averaged tree probabilities
        seen = np.asarray(est.classes_).astype(np.int64)
        full = np.zeros((n, owner.n_columns, model.n_classes))
        full_base = np.zeros((n, model.n_classes))
        full[:, :, seen] = values
        full_base[:, seen] = base
        return full, full_base, "probability", "tree_shap"
    if model.task == "binary" and k == 1:
        return values, base, "margin", "tree_shap"
    if model.task == "multiclass" and k == model.n_classes:
        return values, base, "margin", "tree_shap"
    return None


def _class_indices(bundle: Bundle, y: Any) -> np.ndarray:
    """Class indices of ``y`` (given as indices or as labels of ``bundle.classes``)."""
    values = np.asarray(y)
    classes = list(bundle.classes or [])
    lookup = {str(c): i for i, c in enumerate(classes)}
    as_text = [str(v).strip() for v in values.tolist()]
    if all(t in lookup for t in as_text):
        return np.asarray([lookup[t] for t in as_text], dtype=np.int64)
    try:
        idx = values.astype(np.int64)
    except (TypeError, ValueError):
        idx = None
    if idx is not None and len(idx) and idx.min() >= 0 and idx.max() < len(classes):
        return idx
    raise ConfigError(
        "y holds values that are neither class indices nor the model's classes "
        f"({', '.join(map(str, classes[:10]))})"
    )


def _colour(column: pd.Series) -> tuple[str, np.ndarray | None]:
    """A column's values as ranks in [0, 1] (numbers), or ``None`` (categories)."""
    if pd.api.types.is_bool_dtype(column.dtype) or pd.api.types.is_numeric_dtype(column.dtype):
        numbers = pd.to_numeric(column, errors="coerce").astype(float)
    else:
        text = column.astype("object").where(column.notna(), None)
        stripped = text.map(lambda v: v.strip() if isinstance(v, str) else v)
        numbers = pd.to_numeric(stripped, errors="coerce")
        present = stripped.notna() & stripped.map(lambda v: v != "")
        if present.sum() == 0 or numbers.notna().sum() < 0.95 * present.sum():
            return "categorical", None
    ranks = numbers.rank(pct=True).to_numpy(dtype=float, na_value=np.nan)
    return "numeric", ranks


def _summary(
    c: Contributions, raw: pd.DataFrame, order: list[int], top: int, max_points: int, seed: int
) -> list[dict[str, Any]]:
    n = c.values.shape[0]
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(n, size=min(n, max_points), replace=False))
    out = []
    for j in order[:top]:
        name = c.columns[j]
        kind, ranks = _colour(raw[name]) if name in raw.columns else ("categorical", None)
        points = []
        for i in keep:
            colour = None
            if ranks is not None and not np.isnan(ranks[i]):
                colour = round(float(ranks[i]), 3)
            points.append([float(f"{c.values[i, j]:.5g}"), colour])
        out.append({"feature": name, "kind": kind, "points": points})
    return out


def _importance_frame(columns: list[str], scores: np.ndarray) -> pd.DataFrame:
    scores = np.where(np.isfinite(scores), scores, 0.0)
    total = float(np.clip(scores, 0, None).sum())
    frame = pd.DataFrame(
        {
            "feature": columns,
            "mean_abs": scores,
            "share": np.clip(scores, 0, None) / total if total > 0 else 0.0,
        }
    )
    return frame.sort_values("mean_abs", ascending=False, kind="stable").reset_index(drop=True)


def _loss(bundle: Bundle, y: np.ndarray, out: np.ndarray) -> float:
    if bundle.task == "regression":
        return float(np.sqrt(np.mean((np.asarray(y, dtype=float) - out) ** 2)))
    p = np.clip(out[np.arange(len(y)), y], 1e-15, 1.0)
    return float(-np.mean(np.log(p)))


def predictions(bundle: Bundle, rows: pd.DataFrame) -> np.ndarray:
    """Class probabilities ``(n, classes)`` or values ``(n,)`` of raw rows (values the
    recipe cannot read are the holdout's own, recorded by the cleaning: not reported again)."""
    import warnings

    from apprentice.errors import InputWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        if bundle.task == "regression":
            return np.asarray(bundle.predict(rows), dtype=float)
        return np.asarray(bundle.predict_proba(rows), dtype=float)


def _permutation(
    bundle: Bundle, raw: pd.DataFrame, y: np.ndarray | None, seed: int
) -> tuple[list[str], np.ndarray, str]:
    names = bundle.input_columns or [str(c) for c in raw.columns if c != bundle.target]
    columns = [c for c in names if c in raw.columns]
    base_out = predictions(bundle, raw)
    rng = np.random.default_rng(seed)
    scores = np.zeros(len(columns))
    reference = _loss(bundle, y, base_out) if y is not None else 0.0
    for j, name in enumerate(columns):
        drops = []
        for _ in range(PERMUTATION_REPEATS):
            shuffled = raw.copy()
            shuffled[name] = raw[name].to_numpy()[rng.permutation(len(raw))]
            out = predictions(bundle, shuffled)
            if y is not None:
                drops.append(_loss(bundle, y, out) - reference)
            else:
                diff = np.abs(out - base_out)
                drops.append(float(diff.mean() if diff.ndim == 1 else diff.sum(axis=1).mean() / 2))
        scores[j] = float(np.mean(drops))
    return columns, scores, "loss" if y is not None else "prediction"


def explain_global(
    bundle: Bundle,
    raw_frame: pd.DataFrame,
    y: Any = None,
    *,
    max_rows: int = 2000,
    top: int = 15,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> GlobalExplanation:
    """Global importance of each raw column over ``raw_frame`` (see the module docstring).

    ``raw_frame`` holds raw rows as the bundle takes them (the holdout, typically); the target
    column, if present, is ignored. ``y`` (class indices or labels, or values) is used only by
    the permutation fallback. At most ``max_rows`` rows are explained (a seeded sample).
    """
    if not isinstance(raw_frame, pd.DataFrame):
        raise ConfigError("explain_global needs the rows as a DataFrame")
    if len(raw_frame) == 0:
        raise ConfigError("explain_global needs at least one row to explain")
    if max_rows < 1:
        raise ConfigError("max_rows must be a positive number of rows")
    frame = raw_frame.set_axis([str(c) for c in raw_frame.columns], axis=1)
    frame = frame.reset_index(drop=True)
    y_arr = None if y is None else np.asarray(y)
    if y_arr is not None and len(y_arr) != len(frame):
        raise ConfigError(f"y has {len(y_arr)} values for {len(frame)} rows")
    notes: list[str] = []
    if len(frame) > max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(len(frame), max_rows, replace=False))
        frame = frame.iloc[rows].reset_index(drop=True)
        y_arr = y_arr[rows] if y_arr is not None else None
        notes.append(f"explained a random sample of {max_rows:,} of {len(raw_frame):,} rows")
    try:
        c = bundle.contributions(frame, member_contrib=_shap_hook)
    except BundleError as exc:
        notes.append(f"no contribution method for this model ({exc.message}); permutation used")
        target = None
        if y_arr is not None:
            target = (
                y_arr.astype(float)
                if bundle.task == "regression"
                else _class_indices(bundle, y_arr)
            )
        columns, scores, space = _permutation(bundle, frame, target, seed)
        return GlobalExplanation(
            "permutation", space, len(frame), _importance_frame(columns, scores), None, None, notes
        )
    mean_abs = np.abs(c.values).mean(axis=0)
    importance = _importance_frame(c.columns, mean_abs)
    order = [c.columns.index(f) for f in importance["feature"]]
    method = c.method.replace("saabas", "tree_paths")
    if bundle.task == "multiclass":
        notes.append("each row is explained for its predicted class")
    summary = _summary(c, frame, order, top, max_points, seed)
    return GlobalExplanation(
        method, c.space, len(frame), importance, summary, float(np.mean(c.base)), notes
    )
