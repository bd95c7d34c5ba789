"""Error analysis: the slices of the holdout where the model is significantly worse.

``error_slices(raw_frame, y_true, pred, *, task, alpha=0.05) -> pd.DataFrame`` cuts the
holdout by each column: numbers into quantile bins (or their values, when there are few),
categories into their levels, and missing values into their own slice. Each slice with at
least ``min_size`` rows is tested against the rest of the holdout, one-sided:

- classification: the error is the misclassification rate (labels from ``pred``: labels as
  given, or the arg-max of probabilities, or ``proba[:, 1] >= threshold`` for a binary task
  with a threshold); Fisher's exact test; Wilson 95% intervals.
- regression: the error is the mean absolute error; Welch's t-test on the absolute errors;
  t 95% intervals.

The p-values of every tested slice are adjusted together (Benjamini-Hochberg by default,
``correction="holm"`` for family-wise control), and a slice is ``significant`` when its
adjusted p-value is below ``alpha``. The table, worst first (significant slices on top, then
by how much worse than overall), has the columns::

    feature, slice, n, error, low, high, overall, rest, p_value, p_adjusted, significant

and ``frame.attrs`` records ``metric`` ("error_rate" or "mae"), ``overall``, ``alpha``,
``correction`` and ``tested``. Slice names show values through
:func:`apprentice.evaluate.fairness.category_label` (PII masked); columns in ``exclude`` are
skipped, as are text columns with nearly one value per row (identifiers, free text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from apprentice.decision import decide
from apprentice.errors import ConfigError
from apprentice.evaluate.metrics import bounded

MIN_SIZE = 30
MAX_BINS = 5
FEW_VALUES = 12
MAX_CATEGORIES = 20
Z95 = 1.959963984540054
COLUMNS = [
    "feature",
    "slice",
    "n",
    "error",
    "low",
    "high",
    "overall",
    "rest",
    "p_value",
    "p_adjusted",
    "significant",
]
MISSING = "(missing)"


def _row_errors(
    y_true: Any, pred: Any, task: str, threshold: float | None
) -> tuple[np.ndarray, str]:
    if task == "regression":
        yt = np.asarray(y_true, dtype=float)
        yp = np.asarray(pred, dtype=float).ravel()
        return np.abs(yt - yp), "mae"
    yt = np.asarray(y_true)
    p = np.asarray(pred)
    if p.ndim == 2:
        labels = decide(p, threshold if task == "binary" else None)
        yt = yt.astype(np.int64)
    else:
        labels = p
    return (labels != yt).astype(float), "error_rate"


def _numbers(column: pd.Series) -> np.ndarray | None:
    """A column's values as floats when it is numeric (or text holding numbers)."""
    if pd.api.types.is_bool_dtype(column.dtype):
        return None
    if pd.api.types.is_numeric_dtype(column.dtype):
        return np.asarray(column.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return None
    text = column.astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    present = text.notna() & text.map(lambda v: v != "")
    if present.sum() == 0:
        return None
    numbers = pd.to_numeric(text.where(present, None), errors="coerce")
    if numbers.notna().sum() < 0.95 * present.sum():
        return None
    return np.asarray(numbers.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _fmt(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.4g}"


def _numeric_slices(values: np.ndarray, max_bins: int) -> list[tuple[str, np.ndarray]]:
    missing = np.isnan(values)
    present = values[~missing]
    out: list[tuple[str, np.ndarray]] = []
    distinct = np.unique(present)
    if len(distinct) <= FEW_VALUES:
        for v in distinct:
            out.append((f"= {_fmt(v)}", values == v))
    else:
        edges = np.unique(np.quantile(present, np.linspace(0, 1, max_bins + 1)))
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            last = i == len(edges) - 2
            mask = (values >= lo) & ((values <= hi) if last else (values < hi))
            label = f"[{_fmt(lo)}, {_fmt(hi)}]" if last else f"[{_fmt(lo)}, {_fmt(hi)})"
            out.append((label, mask))
    if missing.any():
        out.append((MISSING, missing))
    return out


def _datetime_slices(column: pd.Series, max_bins: int) -> list[tuple[str, np.ndarray]]:
    stamps = pd.to_datetime(column, errors="coerce")
    missing = stamps.isna().to_numpy()
    ns = stamps.astype("int64").to_numpy().astype(float)
    ns[missing] = np.nan
    out = []
    present = ns[~missing]
    if len(present):
        edges = np.unique(np.quantile(present, np.linspace(0, 1, max_bins + 1)))
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            last = i == len(edges) - 2
            mask = (ns >= lo) & ((ns <= hi) if last else (ns < hi))
            a, b = (str(pd.Timestamp(int(v)).date()) for v in (lo, hi))
            out.append((f"[{a}, {b}]" if last else f"[{a}, {b})", mask))
    if missing.any():
        out.append((MISSING, missing))
    return out


def _category_slices(column: pd.Series, min_size: int) -> list[tuple[str, np.ndarray]] | None:
    from apprentice.evaluate.fairness import category_label

    values = column.astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    missing = (values.isna() | values.map(lambda v: v == "")).to_numpy(dtype=bool)
    keys = values.where(~missing, None).map(lambda v: None if v is None else str(v))
    counts = keys.value_counts(dropna=True)
    n_present = int((~missing).sum())
    if n_present and len(counts) > max(MAX_CATEGORIES, 0.5 * n_present):
        return None  # identifiers or free text: no meaningful slice
    out = []
    arr = keys.to_numpy(dtype=object)
    for key, count in counts.head(MAX_CATEGORIES).items():
        if count < min_size:
            continue
        out.append((f"= {category_label(key, int(count))}", arr == key))
    if missing.any():
        out.append((MISSING, missing))
    return out


def _test(
    err: np.ndarray, mask: np.ndarray, metric: str
) -> tuple[float, float, float, float, float]:
    """Slice error, its interval, the rest's error and the one-sided p-value."""
    from scipy import stats

    inside, outside = err[mask], err[~mask]
    n = len(inside)
    value = float(inside.mean())
    rest = float(outside.mean()) if len(outside) else math.nan
    if metric == "error_rate":
        k = float(inside.sum())
        from apprentice.evaluate.fairness import wilson

        low, high = wilson(k, n)
        if len(outside) == 0:
            return value, low, high, rest, 1.0
        k_out = float(outside.sum())
        table = [[int(k), int(n - k)], [int(k_out), int(len(outside) - k_out)]]
        p = float(stats.fisher_exact(table, alternative="greater").pvalue)
        return value, low, high, rest, p
    sd = float(inside.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
    low, high = bounded(metric, value - half, value + half)
    if len(outside) < 2 or (sd == 0 and float(outside.std(ddof=1)) == 0):
        return value, low, high, rest, 1.0 if value <= rest else 0.0
    p = float(stats.ttest_ind(inside, outside, equal_var=False, alternative="greater").pvalue)
    return value, low, high, rest, p if not math.isnan(p) else 1.0


def _adjust(p: np.ndarray, correction: str) -> np.ndarray:
    if len(p) == 0:
        return p
    if correction == "holm":
        order = np.argsort(p)
        m = len(p)
        adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
        out = np.empty(m)
        out[order] = np.minimum(adjusted, 1.0)
        return out
    from scipy.stats import false_discovery_control

    return np.asarray(false_discovery_control(p, method="bh"), dtype=float)


def error_slices(
    raw_frame: pd.DataFrame,
    y_true: Any,
    pred: Any,
    *,
    task: str,
    alpha: float = 0.05,
    min_size: int = MIN_SIZE,
    max_bins: int = MAX_BINS,
    threshold: float | None = None,
    exclude: Sequence[str] = (),
    correction: str = "bh",
) -> pd.DataFrame:
    """Slices of the holdout whose error is significantly worse than the rest (see above).

    ``raw_frame`` holds the holdout rows (raw text cells or typed values); ``y_true`` the
    truth (class indices when ``pred`` holds probabilities, otherwise the same coding as
    ``pred``); ``pred`` predicted labels or values, or class probabilities ``(n, classes)``.
    """
    if task not in ("binary", "multiclass", "regression"):
        raise ConfigError(f"unknown task {task!r}; use binary, multiclass or regression")
    if not 0 < alpha < 1:
        raise ConfigError("alpha must be between 0 and 1")
    if correction not in ("bh", "holm"):
        raise ConfigError("correction must be 'bh' (Benjamini-Hochberg) or 'holm'")
    if not isinstance(raw_frame, pd.DataFrame):
        raise ConfigError("error_slices needs the holdout rows as a DataFrame")
    err, metric = _row_errors(y_true, pred, task, threshold)
    if len(err) != len(raw_frame):
        raise ConfigError(f"{len(err)} predictions for {len(raw_frame)} rows")
    frame = raw_frame.reset_index(drop=True)
    overall = float(err.mean()) if len(err) else math.nan
    skip = {str(c) for c in exclude}
    records: list[dict[str, Any]] = []
    for column in frame.columns:
        name = str(column)
        if name in skip:
            continue
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            slices: list[tuple[str, np.ndarray]] | None = _datetime_slices(series, max_bins)
        else:
            numbers = _numbers(series)
            if numbers is not None:
                slices = _numeric_slices(numbers, max_bins)
            else:
                slices = _category_slices(series, min_size)
        for label, mask in slices or []:
            n = int(mask.sum())
            if n < min_size or n == len(err):
                continue
            value, low, high, rest, p = _test(err, mask, metric)
            records.append(
                {
                    "feature": name,
                    "slice": label,
                    "n": n,
                    "error": value,
                    "low": low,
                    "high": high,
                    "overall": overall,
                    "rest": rest,
                    "p_value": p,
                }
            )
    table = pd.DataFrame(records, columns=COLUMNS[:-2])
    adjusted = _adjust(table["p_value"].to_numpy(dtype=float), correction)
    table["p_adjusted"] = adjusted
    table["significant"] = (adjusted < alpha) & (table["error"].to_numpy(dtype=float) > overall)
    table["_gap"] = table["error"] - overall
    table = table.sort_values(["significant", "_gap"], ascending=[False, False], kind="stable")
    table = table.drop(columns="_gap").reset_index(drop=True)
    table["n"] = table["n"].astype("int64")
    table["significant"] = table["significant"].astype(bool)
    table.attrs.update(
        {
            "metric": metric,
            "overall": overall,
            "alpha": alpha,
            "correction": correction,
            "tested": len(table),
        }
    )
    return table[COLUMNS]


def slices_to_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table as JSON-safe records (for the run record)."""
    clean = table.astype(object).where(table.notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in clean.to_dict(orient="records")
    ]
