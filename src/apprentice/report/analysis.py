"""The holdout analyses a report shows, as plain data for the run record.

:func:`analyse` is what the run workflow calls once it has a bundle and its holdout: it returns
the record sections ``plots``, ``explain``, ``fairness``, ``sensitive_suggested``,
``error_slices`` and ``profile`` (see :mod:`apprentice.report` for the whole record).
:func:`holdout_plots` and :func:`column_profile` are its parts. Nothing here stores a raw
value of the data except category labels (classes, groups, slices), which pass through
:func:`apprentice.evaluate.fairness.category_label` (PII masked).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.decision import decide
from apprentice.errors import ApprenticeError, ConfigError

if TYPE_CHECKING:
    from apprentice.bundle import Bundle

MAX_CURVE_POINTS = 200
MAX_SCATTER_POINTS = 600
MAX_CONFUSION_CLASSES = 20
SHARED_CLASS = 5  # a class label is shared by many rows: mask validated PII only


def _thin(x: np.ndarray, y: np.ndarray, limit: int = MAX_CURVE_POINTS) -> list[list[float]]:
    if len(x) > limit:
        keep = np.unique(np.linspace(0, len(x) - 1, limit).round().astype(int))
        x, y = x[keep], y[keep]
    return [[round(float(a), 5), round(float(b), 5)] for a, b in zip(x, y, strict=True)]


def _labels(classes: Sequence[Any] | None, k: int) -> list[str]:
    from apprentice.evaluate.fairness import category_label

    names = list(classes) if classes is not None else list(range(k))
    return [category_label(c, SHARED_CLASS, limit=40) for c in names]


def holdout_plots(
    task: str,
    y_true: Any,
    pred: Any,
    *,
    classes: Sequence[Any] | None = None,
    threshold: float | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Curve and matrix data of the holdout predictions.

    Classification (``y_true`` class indices, ``pred`` probabilities ``(n, classes)``):
    ``confusion`` ``{"labels", "matrix"}`` (the labels the bundle predicts: at ``threshold``, a
    binary bundle's decision threshold, else the arg-max); binary
    also ``roc`` ``{"auc", "points": [[fpr, tpr], ...]}``, ``pr`` ``{"average_precision",
    "prevalence", "points": [[recall, precision], ...]}`` and ``class_balance``.
    Regression: ``residuals`` ``{"points": [[predicted, residual], ...]}`` (a sample),
    ``actual_vs_predicted`` points and a ``residual_histogram`` ``{"counts", "edges"}``.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"task": task}
    if task == "regression":
        yt = np.asarray(y_true, dtype=float)
        yp = np.asarray(pred, dtype=float).ravel()
        resid = yt - yp
        idx = np.arange(len(yt))
        if len(idx) > MAX_SCATTER_POINTS:
            idx = np.sort(rng.choice(len(idx), MAX_SCATTER_POINTS, replace=False))
        out["residuals"] = {"points": _thin(yp[idx], resid[idx], MAX_SCATTER_POINTS)}
        out["actual_vs_predicted"] = {"points": _thin(yp[idx], yt[idx], MAX_SCATTER_POINTS)}
        finite = resid[np.isfinite(resid)]
        if len(finite):
            counts, edges = np.histogram(finite, bins=30)
            out["residual_histogram"] = {
                "counts": counts.astype(int).tolist(),
                "edges": [float(e) for e in edges],
            }
        return out
    proba = np.asarray(pred, dtype=float)
    yt = np.asarray(y_true).astype(np.int64)
    k = proba.shape[1]
    labels = decide(proba, threshold if k == 2 else None)
    if k <= MAX_CONFUSION_CLASSES:
        matrix = np.zeros((k, k), dtype=int)
        np.add.at(matrix, (yt, labels), 1)
        out["confusion"] = {"labels": _labels(classes, k), "matrix": matrix.tolist()}
    counts = np.bincount(yt, minlength=k)
    out["class_balance"] = {
        "labels": _labels(classes, k),
        "counts": counts.astype(int).tolist(),
    }
    if k == 2 and 0 < counts[1] < len(yt):
        from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

        fpr, tpr, _ = roc_curve(yt, proba[:, 1])
        auc = float(np.trapezoid(tpr, fpr))
        out["roc"] = {"auc": auc, "points": _thin(fpr, tpr)}
        precision, recall, _ = precision_recall_curve(yt, proba[:, 1])
        out["pr"] = {
            "average_precision": float(average_precision_score(yt, proba[:, 1])),
            "prevalence": float(counts[1] / len(yt)),
            "points": _thin(recall[::-1], precision[::-1]),
        }
    return out


def column_profile(
    typed: pd.DataFrame, schema: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Per column: the kind, the share of missing values, and for numbers the range seen here
    and how many rows fall outside the training range (``schema`` columns' min and max)."""
    ranges: dict[str, tuple[Any, Any]] = {}
    for col in (schema or {}).get("columns", []) or []:
        if isinstance(col, dict) and ("minimum" in col or "maximum" in col):
            ranges[str(col.get("name"))] = (col.get("minimum"), col.get("maximum"))
    out: dict[str, dict[str, Any]] = {}
    n = len(typed)
    for column in typed.columns:
        series = typed[column]
        name = str(column)
        entry: dict[str, Any] = {
            "missing_share": float(series.isna().mean()) if n else 0.0,
            "kind": "number"
            if pd.api.types.is_numeric_dtype(series.dtype)
            and not pd.api.types.is_bool_dtype(series.dtype)
            else "datetime"
            if pd.api.types.is_datetime64_any_dtype(series.dtype)
            else "other",
        }
        if entry["kind"] == "number":
            values = series.to_numpy(dtype=float, na_value=np.nan)
            present = values[np.isfinite(values)]
            if len(present):
                entry["min"], entry["max"] = float(present.min()), float(present.max())
            lo, hi = ranges.get(name, (None, None))
            if lo is not None and hi is not None and len(present):
                entry["train_min"], entry["train_max"] = float(lo), float(hi)
                entry["outside_train_range"] = int(
                    ((present < float(lo)) | (present > float(hi))).sum()
                )
        out[name] = entry
    return out


def class_indices(bundle: Bundle, y: Any) -> np.ndarray:
    """Class indices of ``y`` (indices already, or labels of ``bundle.classes``)."""
    from apprentice.explain.importance import _class_indices

    return _class_indices(bundle, y)


def analyse(
    bundle: Bundle,
    raw_holdout: pd.DataFrame,
    y_holdout: Any,
    *,
    sensitive: Sequence[str] = (),
    min_group: int = 30,
    max_rows: int = 2000,
    n_boot: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, Any]:
    """The report's holdout sections for ``bundle`` (see the module docstring).

    ``raw_holdout`` holds the holdout rows as read (the target column may be there; it is
    ignored); ``y_holdout`` the truth (class indices or labels, or values). ``sensitive``
    names columns of ``raw_holdout`` to assess fairness on; a name that is not there raises
    :class:`~apprentice.errors.ConfigError`. An analysis that fails for another reason is
    recorded as ``{"error": message}`` in its section and the others still run.
    """
    from apprentice.evaluate.fairness import check_sensitive, fairness_report, suggest_sensitive
    from apprentice.evaluate.slices import error_slices, slices_to_records

    if not isinstance(raw_holdout, pd.DataFrame):
        raise ConfigError("analyse needs the holdout rows as a DataFrame")
    frame = raw_holdout.set_axis([str(c) for c in raw_holdout.columns], axis=1)
    frame = frame.reset_index(drop=True)
    check_sensitive(list(sensitive), frame.columns)
    task = bundle.task
    y = (
        np.asarray(y_holdout, dtype=float)
        if task == "regression"
        else class_indices(bundle, y_holdout)
    )
    if len(y) != len(frame):
        raise ConfigError(f"{len(y)} target values for {len(frame)} holdout rows")
    features = frame.drop(columns=[bundle.target]) if bundle.target in frame.columns else frame
    from apprentice.explain.importance import predictions

    pred = predictions(bundle, features)
    record: dict[str, Any] = {}
    record["plots"] = _guarded(
        lambda: holdout_plots(
            task, y, pred, classes=bundle.classes, threshold=bundle.threshold, seed=seed
        )
    )

    def explain() -> dict[str, Any]:
        from apprentice.explain import explain_global

        return explain_global(bundle, features, y, max_rows=max_rows, seed=seed).to_dict()

    record["explain"] = _guarded(explain)
    labels = pred if task == "regression" else bundle.decide(pred)
    if sensitive:
        record["fairness"] = _guarded(
            lambda: fairness_report(
                y,
                labels,
                frame[list(sensitive)],
                task=task,
                proba=pred if task == "binary" else None,
                min_group=min_group,
                n_boot=n_boot,
                positive=1 if task == "binary" else None,
                seed=seed,
                pii_columns=pii_columns(bundle),
            ).to_dict()
        )
        if task == "binary" and isinstance(record["fairness"], dict) and bundle.classes:
            record["fairness"]["positive_class"] = str(bundle.classes[1])
    else:
        record["fairness"] = None
    record["sensitive_suggested"] = [
        c for c in suggest_sensitive(frame.columns) if c not in sensitive and c != bundle.target
    ]
    excluded = list((bundle.manifest.get("excluded_columns") or {}).keys())
    record["error_slices"] = _guarded(
        lambda: slices_to_records(
            error_slices(
                features,
                y,
                pred,
                task=task,
                alpha=alpha,
                threshold=bundle.threshold,
                exclude=excluded,
            )
        )
    )

    def profile() -> dict[str, Any]:
        return column_profile(_typed(bundle, features), bundle.manifest.get("schema"))

    record["profile"] = _guarded(profile)
    return record


def pii_columns(bundle: Bundle) -> list[str]:
    """The columns the guard excluded from the bundle's features as PII."""
    excluded = bundle.manifest.get("excluded_columns") or {}
    return [str(c) for c, why in excluded.items() if str(why).upper().startswith("PII")]


def _typed(bundle: Bundle, features: pd.DataFrame) -> pd.DataFrame:
    """Raw rows typed by the bundle's own cleaning recipe (the clean stage's Cleaner)."""
    n = len(features)
    names = bundle.input_columns or [str(c) for c in features.columns]
    chosen = pd.DataFrame(
        {c: features[c] if c in features.columns else [None] * n for c in names},
        index=features.index,
    )
    if bundle.cleaner is None:
        return chosen
    text = {
        c: pd.Series(
            [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
             for v in chosen[c].tolist()],
            index=chosen.index,
            dtype="str",
        )
        for c in chosen.columns
    }  # fmt: skip
    return bundle.cleaner.transform(pd.DataFrame(text, index=chosen.index))


def _guarded(compute: Any) -> Any:
    try:
        return compute()
    except ApprenticeError as exc:
        return {"error": exc.message}
    except Exception as exc:  # an analysis must not sink the run; the report says why
        return {"error": f"{type(exc).__name__} while computing this section"}


def finite(value: Any) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
