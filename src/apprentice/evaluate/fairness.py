"""Group fairness on the holdout: per-group rates with intervals, parity and odds gaps.

``fairness_report(y_true, y_pred, sensitive, *, task, proba=None, min_group=30, n_boot=200)``
takes the holdout truth and predictions and one column per sensitive attribute (a DataFrame
aligned with them), and returns a :class:`FairnessReport`:

- ``table``: one row per (column, group) with the group size ``n``, ``small`` (fewer than
  ``min_group`` rows: shown and flagged, never hidden, and left out of the gaps), and with
  95% intervals (Wilson for rates, bootstrap for regression errors):
  classification ``selection_rate``, ``tpr``, ``fpr`` (binary) and ``accuracy``; regression
  ``mae``, ``mean_error`` (prediction minus truth) and ``mean_prediction``.
- ``summary``: per column, over the groups large enough to judge, the demographic parity
  difference and ratio and the equalized odds difference (binary), with bootstrap
  intervals; the accuracy difference (classification) or the MAE difference and ratio and
  the mean-error (bias) difference (regression), with bootstrap intervals; and
  ``fairlearn``: the same gaps computed by Fairlearn over every group.

Missing values of a sensitive column form their own group, ``(missing)``. Group names pass
through :func:`category_label`: validated PII (emails, phone and card numbers, ...) is always
masked; in a column named in ``pii_columns`` (what the guard flagged) or one with nearly a
value per row (names, identifiers) every value is masked and numbered (``O*** S*** [3]``),
while the levels of a real category ("Native American") are shown.

``suggest_sensitive(columns)`` names the columns whose names look sensitive (sex, gender,
race, ethnicity, age, date of birth, religion, nationality, disability, marital status); it
only suggests: fairness is computed for the columns the user passes as ``--sensitive``.
``check_sensitive(names, columns)`` raises a clear :class:`~apprentice.errors.ConfigError`
for a sensitive column the table does not have.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import ConfigError

MIN_GROUP = 30
SHARED = 5
IDENTIFIER_SHARE = 0.5
N_BOOT = 200
Z95 = 1.959963984540054
MISSING_GROUP = "(missing)"

_SENSITIVE_TOKENS = {
    "sex": "sex",
    "gender": "gender",
    "male": "sex",
    "female": "sex",
    "race": "race",
    "ethnicity": "ethnicity",
    "ethnic": "ethnicity",
    "age": "age",
    "dob": "age",
    "birth": "age",
    "birthdate": "age",
    "birthday": "age",
    "religion": "religion",
    "nationality": "nationality",
    "disability": "disability",
    "disabled": "disability",
    "marital": "marital status",
}


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return [re.sub(r"\d+$", "", t) for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def suggest_sensitive(columns: Iterable[Any]) -> list[str]:
    """Columns whose names look like a sensitive attribute (a suggestion, never used alone)."""
    return [str(c) for c in columns if any(t in _SENSITIVE_TOKENS for t in _tokens(str(c)))]


def check_sensitive(names: Sequence[str], columns: Iterable[Any]) -> None:
    """Raise :class:`ConfigError` for a sensitive column that is not in ``columns``."""
    available = [str(c) for c in columns]
    for name in names:
        if name in available:
            continue
        folded = {c.casefold().strip(): c for c in available}
        hint = folded.get(str(name).casefold().strip())
        if hint is not None:
            extra = f"; did you mean '{hint}'?"
        else:
            shown = ", ".join(f"'{c}'" for c in available[:12])
            extra = f"; the columns are {shown}" + (" ..." if len(available) > 12 else "")
        raise ConfigError(f"the sensitive column '{name}' is not in the table" + extra)


def wilson(successes: float, n: float) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion (NaN when ``n`` is 0)."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    low, high = centre - half, centre + half
    return (0.0 if low < 1e-12 else low), (1.0 if high > 1 - 1e-12 else high)


@dataclass
class FairnessReport:
    """Per-group metrics and gaps (see the module docstring)."""

    task: str
    columns: list[str]
    table: pd.DataFrame
    summary: dict[str, dict[str, Any]]
    min_group: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.astype(object).where(self.table.notna(), None)
        return {
            "task": self.task,
            "columns": list(self.columns),
            "min_group": self.min_group,
            "groups": rows.to_dict(orient="records"),
            "summary": self.summary,
            "notes": list(self.notes),
        }


def category_label(value: Any, count: int, *, limit: int = 60) -> str:
    """A category value safe to show: validated PII masked always, and name- or
    address-shaped values masked too unless at least ``SHARED`` rows share the value."""
    from apprentice.guard import safe_display, scrub_text

    text = str(value).strip()
    out = scrub_text(text) if count >= SHARED else safe_display(text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _group_labels(column: pd.Series, *, pii: bool) -> np.ndarray:
    values = column.astype("object").tolist()
    keys = [
        None
        if v is None or (not isinstance(v, str) and pd.isna(v)) or str(v).strip() == ""
        else str(v).strip()
        for v in values
    ]
    counts = pd.Series([k for k in keys if k is not None], dtype=object).value_counts()
    identifier_like = len(counts) > IDENTIFIER_SHARE * max(int(counts.sum()), 1)
    if pii or identifier_like:  # every value masked; a number keeps the groups apart
        from apprentice.guard import mask_value

        labels = {k: f"{mask_value(k)} [{i}]" for i, k in enumerate(counts.index, start=1)}
    else:
        labels = {k: category_label(k, SHARED) for k in counts.index}
    return np.asarray([MISSING_GROUP if k is None else labels[k] for k in keys], dtype=object)


def _as_arrays(y_true: Any, y_pred: Any, task: str) -> tuple[np.ndarray, np.ndarray]:
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if task == "regression":
        return yt.astype(float), yp.astype(float)
    if yp.ndim == 2:
        raise ConfigError("y_pred must hold predicted labels; pass probabilities as proba=")
    return yt, yp


def _positive(yt: np.ndarray, yp: np.ndarray, positive: Any) -> Any:
    if positive is not None:
        return positive
    labels = pd.unique(np.concatenate([yt, yp]))
    if set(labels.tolist()) <= {0, 1}:
        return 1
    if set(labels.tolist()) <= {True, False}:
        return True
    ordered = sorted(labels.tolist(), key=str)
    return ordered[-1]


def _diff_ratio(rates: list[float]) -> tuple[float, float]:
    finite = [r for r in rates if not math.isnan(r)]
    if len(finite) < 2:
        return math.nan, math.nan
    hi, lo = max(finite), min(finite)
    return hi - lo, (lo / hi if hi > 0 else math.nan)


def _boot_gaps(
    member: np.ndarray,
    events: dict[str, tuple[np.ndarray, np.ndarray]],
    n_boot: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of the per-group rates: ``{name: (B, groups)}``.

    ``events[name] = (numerator, denominator)`` are 0/1 row indicators; ``member`` is the
    one-hot group matrix ``(n, groups)``.
    """
    from apprentice.evaluate.metrics import bootstrap_weights

    W = bootstrap_weights(member.shape[0], n_boot, seed).astype(np.float64)
    out = {}
    for name, (num, den) in events.items():
        top = W @ (member * num[:, None])
        bottom = W @ (member * den[:, None])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(bottom > 0, top / bottom, np.nan)
    return out


def _interval(values: np.ndarray) -> list[float | None]:
    finite = values[np.isfinite(values)]
    if len(finite) < 10:
        return [None, None]
    low, high = np.percentile(finite, [2.5, 97.5])
    return [float(low), float(high)]


def _nan_gap(rates: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmax(rates, axis=1) - np.nanmin(rates, axis=1))


def _nan_ratio(rates: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmin(rates, axis=1) / np.nanmax(rates, axis=1))


def _fairlearn(
    yt: np.ndarray, yp: np.ndarray, groups: np.ndarray, positive: Any
) -> dict[str, float] | None:
    try:
        from fairlearn.metrics import (
            demographic_parity_difference,
            demographic_parity_ratio,
            equalized_odds_difference,
        )
    except ImportError:  # pragma: no cover - fairlearn is a dependency
        return None
    truth = (yt == positive).astype(int)
    hit = (yp == positive).astype(int)
    try:
        return {
            "demographic_parity_difference": float(
                demographic_parity_difference(truth, hit, sensitive_features=groups)
            ),
            "demographic_parity_ratio": float(
                demographic_parity_ratio(truth, hit, sensitive_features=groups)
            ),
            "equalized_odds_difference": float(
                equalized_odds_difference(truth, hit, sensitive_features=groups)
            ),
        }
    except Exception:  # a degenerate split (one group, one class): no Fairlearn numbers
        return None


def _classification(
    name: str,
    yt: np.ndarray,
    yp: np.ndarray,
    groups: np.ndarray,
    *,
    binary: bool,
    positive: Any,
    min_group: int,
    n_boot: int,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    names = sorted(pd.unique(groups).tolist(), key=lambda g: (g == MISSING_GROUP, str(g)))
    correct = (yt == yp).astype(float)
    truth = (yt == positive).astype(float) if binary else None
    hit = (yp == positive).astype(float) if binary else None
    rows: list[dict[str, Any]] = []
    for g in names:
        m = groups == g
        n = int(m.sum())
        row: dict[str, Any] = {"column": name, "group": g, "n": n, "small": n < min_group}
        if binary:
            assert truth is not None and hit is not None
            pos, neg = truth[m].sum(), (1 - truth[m]).sum()
            sel = hit[m].sum()
            tp = (hit[m] * truth[m]).sum()
            fp = (hit[m] * (1 - truth[m])).sum()
            row["positives"] = int(pos)
            for key, num, den in (
                ("selection_rate", sel, n),
                ("tpr", tp, pos),
                ("fpr", fp, neg),
            ):
                row[key] = float(num / den) if den > 0 else None
                low, high = wilson(num, den)
                row[f"{key}_low"] = None if math.isnan(low) else low
                row[f"{key}_high"] = None if math.isnan(high) else high
        acc = correct[m].sum()
        row["accuracy"] = float(acc / n) if n else None
        low, high = wilson(acc, n)
        row["accuracy_low"], row["accuracy_high"] = low, high
        rows.append(row)
    judged = [r for r in rows if not r["small"]]
    summary: dict[str, Any] = {
        "groups": len(rows),
        "judged_groups": len(judged),
        "small_groups": [r["group"] for r in rows if r["small"]],
    }
    big = [g for g in names if (groups == g).sum() >= min_group]
    member = np.column_stack([(groups == g).astype(float) for g in big]) if big else None
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "accuracy": (correct, np.ones_like(correct))
    }
    if binary:
        assert truth is not None and hit is not None
        events.update(
            {
                "selection_rate": (hit, np.ones_like(hit)),
                "tpr": (hit * truth, truth),
                "fpr": (hit * (1 - truth), 1 - truth),
            }
        )
    reps = _boot_gaps(member, events, n_boot, seed) if member is not None and n_boot else {}
    acc_gap, _ = _diff_ratio([r["accuracy"] for r in judged])
    summary["accuracy_difference"] = _none(acc_gap)
    if "accuracy" in reps:
        summary["accuracy_difference_interval"] = _interval(_nan_gap(reps["accuracy"]))
    if binary:
        dp, dpr = _diff_ratio([_nan(r["selection_rate"]) for r in judged])
        tpr_gap, _ = _diff_ratio([_nan(r["tpr"]) for r in judged])
        fpr_gap, _ = _diff_ratio([_nan(r["fpr"]) for r in judged])
        eo = max(tpr_gap, fpr_gap) if not (math.isnan(tpr_gap) or math.isnan(fpr_gap)) else math.nan
        summary.update(
            {
                "demographic_parity_difference": _none(dp),
                "demographic_parity_ratio": _none(dpr),
                "equalized_odds_difference": _none(eo),
                "tpr_difference": _none(tpr_gap),
                "fpr_difference": _none(fpr_gap),
            }
        )
        if reps:
            sel = reps["selection_rate"]
            summary["demographic_parity_difference_interval"] = _interval(_nan_gap(sel))
            summary["demographic_parity_ratio_interval"] = _interval(_nan_ratio(sel))
            eo_reps = np.fmax(_nan_gap(reps["tpr"]), _nan_gap(reps["fpr"]))
            summary["equalized_odds_difference_interval"] = _interval(eo_reps)
        summary["fairlearn"] = _fairlearn(yt, yp, groups, positive)
    return rows, summary


def _regression(
    name: str,
    yt: np.ndarray,
    yp: np.ndarray,
    groups: np.ndarray,
    *,
    min_group: int,
    n_boot: int,
    seed: int,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from apprentice.evaluate.metrics import bootstrap_weights

    names = sorted(pd.unique(groups).tolist(), key=lambda g: (g == MISSING_GROUP, str(g)))
    err = yp - yt
    rows: list[dict[str, Any]] = []
    for i, g in enumerate(names):
        m = groups == g
        n = int(m.sum())
        row: dict[str, Any] = {"column": name, "group": g, "n": n, "small": n < min_group}
        e = err[m]
        row["mae"] = float(np.mean(np.abs(e))) if n else None
        row["mean_error"] = float(np.mean(e)) if n else None
        row["mean_prediction"] = float(np.mean(yp[m])) if n else None
        if n >= 2 and n_boot:
            W = bootstrap_weights(n, n_boot, seed + i).astype(np.float64)
            maes = (W @ np.abs(e)) / n
            means = (W @ e) / n
            row["mae_low"], row["mae_high"] = _interval(maes)
            row["mean_error_low"], row["mean_error_high"] = _interval(means)
        else:
            row["mae_low"] = row["mae_high"] = None
            row["mean_error_low"] = row["mean_error_high"] = None
        rows.append(row)
    judged = [r for r in rows if not r["small"]]
    gap, ratio = _diff_ratio([r["mae"] for r in judged])
    bias_gap, _ = _diff_ratio([r["mean_error"] for r in judged])
    summary: dict[str, Any] = {
        "groups": len(rows),
        "judged_groups": len(judged),
        "small_groups": [r["group"] for r in rows if r["small"]],
        "mae_difference": _none(gap),
        "mae_ratio": _none(ratio),
        "mean_error_difference": _none(bias_gap),
    }
    big = [r["group"] for r in judged]
    if len(big) >= 2 and n_boot:
        member = np.column_stack([(groups == g).astype(float) for g in big])
        ones = np.ones_like(err)
        reps = _boot_gaps(member, {"mae": (np.abs(err), ones), "bias": (err, ones)}, n_boot, seed)
        summary["mae_difference_interval"] = _interval(_nan_gap(reps["mae"]))
        summary["mae_ratio_interval"] = _interval(_nan_ratio(reps["mae"]))
        summary["mean_error_difference_interval"] = _interval(_nan_gap(reps["bias"]))
    return rows, summary


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def fairness_report(
    y_true: Any,
    y_pred: Any,
    sensitive: pd.DataFrame | pd.Series,
    *,
    task: str,
    proba: Any = None,
    min_group: int = MIN_GROUP,
    n_boot: int = N_BOOT,
    positive: Any = None,
    seed: int = 0,
    pii_columns: Iterable[str] = (),
) -> FairnessReport:
    """Per-group metrics and gaps for each column of ``sensitive`` (see the module docstring).

    ``y_true`` and ``y_pred`` are labels (classification: the same coding, e.g. class
    indices) or values (regression). ``positive`` is the positive label of a binary task
    (default: ``1`` for 0/1 labels, otherwise the last label in sorted order). ``proba``
    (``(n, classes)``), when given, adds each group's mean predicted probability of the
    positive class. ``pii_columns`` names sensitive columns the guard flagged as PII: their
    group names are masked whenever they look like a name or an address.
    """
    if task not in ("binary", "multiclass", "regression"):
        raise ConfigError(f"unknown task {task!r}; use binary, multiclass or regression")
    if min_group < 1:
        raise ConfigError("min_group must be a positive number of rows")
    frame = sensitive.to_frame() if isinstance(sensitive, pd.Series) else sensitive
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0:
        raise ConfigError("pass the sensitive columns as a DataFrame with at least one column")
    yt, yp = _as_arrays(y_true, y_pred, task)
    if not (len(yt) == len(yp) == len(frame)):
        raise ConfigError(
            f"y_true ({len(yt)}), y_pred ({len(yp)}) and the sensitive columns ({len(frame)}) "
            "must have one value per row"
        )
    binary = task == "binary"
    pos = _positive(yt, yp, positive) if binary else None
    p_pos = None
    if proba is not None and binary:
        p = np.asarray(proba, dtype=float)
        p_pos = p[:, 1] if p.ndim == 2 else p
    rows: list[dict[str, Any]] = []
    summary: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    pii_set = {str(c) for c in pii_columns}
    for column in frame.columns:
        name = str(column)
        groups = _group_labels(frame[column].reset_index(drop=True), pii=name in pii_set)
        if task == "regression":
            col_rows, col_summary = _regression(
                name, yt, yp, groups, min_group=min_group, n_boot=n_boot, seed=seed
            )
        else:
            col_rows, col_summary = _classification(
                name,
                yt,
                yp,
                groups,
                binary=binary,
                positive=pos,
                min_group=min_group,
                n_boot=n_boot,
                seed=seed,
            )
            if p_pos is not None:
                for row in col_rows:
                    m = groups == row["group"]
                    row["mean_score"] = float(p_pos[m].mean()) if m.any() else None
        if col_summary["small_groups"]:
            notes.append(
                f"'{name}': {len(col_summary['small_groups'])} group(s) with fewer than "
                f"{min_group} holdout rows are shown but too small to judge, and are left out "
                "of the gaps"
            )
        if col_summary["judged_groups"] < 2:
            notes.append(f"'{name}': fewer than two groups are large enough to compare")
        rows.extend(col_rows)
        summary[name] = col_summary
    if task == "multiclass":
        notes.append("multiclass: accuracy per group; parity and odds gaps need a binary task")
    table = pd.DataFrame(rows)
    return FairnessReport(task, [str(c) for c in frame.columns], table, summary, min_group, notes)
