"""Leakage checks on the training part: identifiers, too-good single features, shared rows.

* ID-like columns (a unique value per row, a row counter, a name that says ``id`` over
  unique values) are excluded with a reason.
* A feature that alone predicts the target almost perfectly (cross-validated on the training
  part: ROC AUC, balanced accuracy or R² of at least 0.99) is flagged and excluded unless
  the user keeps it: it is usually the target in disguise or known only afterwards.
* Exact duplicate rows shared between training and holdout are counted (they inflate holdout
  scores); they are reported, not removed.
* Subtler leaks (a column that dominates the model, scores alone almost what the whole model
  scores, or marks out one class almost perfectly) are found by the reviewer's checks of
  :mod:`apprentice.learn.leak_review`: flagged with their evidence, not excluded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from apprentice.learn.features import as_datetime, as_keys, as_numeric, infer_kind

NEAR_PERFECT = 0.99
MAX_ROWS = 20_000
_ID_NAME = re.compile(r"(^|[^a-z])(id|uuid|guid|key)$|^(id|uuid|guid)([^a-z]|$)|Id$|ID$")


@dataclass
class LeakageReport:
    """What the checks found; ``excluded`` maps each dropped column to its reason."""

    id_like: dict[str, str] = field(default_factory=dict)
    near_perfect: dict[str, float] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    shared_duplicates: int = 0
    holdout_rows: int = 0
    #: the reviewer's checks (:func:`apprentice.learn.leak_review.review_leakage`), if run
    review: Any = None

    @property
    def excluded(self) -> dict[str, str]:
        out = dict(self.id_like)
        for column, value in self.near_perfect.items():
            if column not in self.kept:
                out[column] = (
                    f"predicts the target almost perfectly on its own (score {value:.3f}); "
                    "likely a leak"
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "id_like": dict(self.id_like),
            "near_perfect": {k: round(v, 4) for k, v in self.near_perfect.items()},
            "kept_despite_warning": list(self.kept),
            "shared_duplicates": self.shared_duplicates,
            "holdout_rows": self.holdout_rows,
            "findings": [f.to_dict() for f in self.review.findings] if self.review else [],
            "review": (
                {k: v for k, v in self.review.to_dict().items() if k != "findings"}
                if self.review
                else None
            ),
        }


#: the reasons :func:`find_id_like` gives (``retrain`` keeps a champion's identifiers out of
#: its challenger by them: appended rows can break "unique" or "rising with row order")
REASON_UNIQUE = "a different value in every row (an identifier)"
REASON_NAMED = "named like an identifier and nearly unique per row"
REASON_COUNTER = "a row counter (unique and rising with row order)"
REASON_NAMED_NUMBER = "named like an identifier with a unique whole number per row"
ID_REASONS = frozenset({REASON_UNIQUE, REASON_NAMED, REASON_COUNTER, REASON_NAMED_NUMBER})


def find_id_like(
    frame: pd.DataFrame, kinds: dict[str, str], positions: np.ndarray | None = None
) -> dict[str, str]:
    """Columns that identify rows rather than describe them, with the reason."""
    out: dict[str, str] = {}
    n = len(frame)
    if n < 20:
        return out
    order = np.arange(n) if positions is None else np.asarray(positions)
    for name in frame.columns:
        series = frame[name]
        kind = kinds.get(str(name)) or infer_kind(series)
        present = series.notna()
        n_present = int(present.sum())
        if n_present < 20:
            continue
        if kind == "categorical":
            keys = pd.Series(as_keys(series)).dropna()
            ratio = keys.nunique() / max(len(keys), 1)
            if ratio >= 0.999 and len(keys) >= 0.9 * n:
                out[str(name)] = REASON_UNIQUE
            elif ratio >= 0.95 and _ID_NAME.search(str(name)):
                out[str(name)] = REASON_NAMED
        elif kind == "numeric":
            values = as_numeric(series)
            finite = values[np.isfinite(values)]
            if len(finite) < 0.9 * n or not np.all(np.mod(finite, 1) == 0):
                continue
            ratio = len(np.unique(finite)) / len(finite)
            if ratio < 0.99:
                continue
            mask = np.isfinite(values)
            rho = pd.Series(values[mask]).corr(pd.Series(order[mask].astype(float)), "spearman")
            if rho is not None and abs(rho) >= 0.99:
                out[str(name)] = REASON_COUNTER
            elif _ID_NAME.search(str(name)):
                out[str(name)] = REASON_NAMED_NUMBER
    return out


def _binned(series: pd.Series, kind: str, bins: int) -> np.ndarray | None:
    """Integer bin codes of a column (-1: missing), or ``None`` when it cannot be binned."""
    if kind in ("numeric", "boolean", "datetime"):
        if kind == "datetime":
            stamps = as_datetime(series)
            values = stamps.astype("int64").to_numpy().astype(float)
            values[stamps.isna().to_numpy()] = np.nan
        else:
            values = as_numeric(series)
        finite = np.isfinite(values)
        if finite.sum() < 2:
            return None
        edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, bins + 1)[1:-1]))
        codes = np.searchsorted(edges, values, side="right")
        return np.where(finite, codes, -1)
    if kind == "categorical":
        keys = pd.Series(as_keys(series))
        codes = pd.factorize(keys, use_na_sentinel=True)[0].astype(np.int64)
        return codes
    return None


def _oof_bin_means(codes: np.ndarray, target: np.ndarray, seed: int) -> np.ndarray:
    """Two-fold out-of-fold mean target per bin (the prior for unseen bins)."""
    n = len(codes)
    rng = np.random.default_rng(seed)
    fold = rng.permutation(n) % 2
    out = np.empty_like(target, dtype=float)
    shift = codes - codes.min()
    size = int(shift.max()) + 1
    for f in (0, 1):
        tr, va = fold != f, fold == f
        prior = target[tr].mean(axis=0)
        counts = np.bincount(shift[tr], minlength=size).astype(float)
        if target.ndim == 1:
            sums = np.bincount(shift[tr], weights=target[tr], minlength=size)
            means = np.where(counts > 0, sums / np.maximum(counts, 1), prior)
            out[va] = means[shift[va]]
        else:
            for j in range(target.shape[1]):
                sums = np.bincount(shift[tr], weights=target[tr, j], minlength=size)
                means = np.where(counts > 0, sums / np.maximum(counts, 1), prior[j])
                out[va, j] = means[shift[va]]
    return out


def single_feature_scores(
    frame: pd.DataFrame,
    y: np.ndarray,
    task: str,
    kinds: dict[str, str],
    *,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
) -> dict[str, float]:
    """How well each column alone predicts the target (out of fold, binned)."""
    from sklearn.metrics import balanced_accuracy_score, r2_score, roc_auc_score

    n = len(frame)
    idx = np.arange(n)
    if n > max_rows:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))
    sub = frame.iloc[idx]
    target = y[idx]
    scores: dict[str, float] = {}
    for name in sub.columns:
        kind = kinds.get(str(name)) or infer_kind(sub[name])
        codes = _binned(sub[name], kind, 64 if task == "regression" else 32)
        if codes is None or len(np.unique(codes)) < 2:
            continue
        if task == "regression":
            pred = _oof_bin_means(codes, target.astype(float), seed)
            value = float(r2_score(target, pred))
            if kind in ("numeric", "boolean"):
                # a monotone copy of the target: rank correlation, squared like R²
                values = pd.Series(as_numeric(sub[name]))
                rho = values.corr(pd.Series(target.astype(float)), method="spearman")
                if rho is not None and np.isfinite(rho):
                    value = max(value, float(rho) ** 2)
        elif task == "binary":
            pred = _oof_bin_means(codes, (target == 1).astype(float), seed)
            value = float(roc_auc_score(target == 1, pred)) if len(np.unique(target)) > 1 else 0
            value = max(value, 1 - value)
        else:
            onehot = np.eye(int(target.max()) + 1)[target]
            pred = _oof_bin_means(codes, onehot, seed)
            value = float(balanced_accuracy_score(target, pred.argmax(axis=1)))
        scores[str(name)] = value
    return scores


def find_near_perfect(
    frame: pd.DataFrame,
    y: np.ndarray,
    task: str,
    kinds: dict[str, str],
    *,
    seed: int = 0,
    threshold: float = NEAR_PERFECT,
) -> dict[str, float]:
    """Columns whose single-feature score reaches ``threshold``."""
    scores = single_feature_scores(frame, y, task, kinds, seed=seed)
    return {c: s for c, s in scores.items() if s >= threshold}


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash of each row's cells (text form), for exact-duplicate checks."""
    text = frame.astype(object).where(frame.notna(), None).astype(str)
    return pd.util.hash_pandas_object(text, index=False).to_numpy()


def shared_duplicates(train: pd.DataFrame, holdout: pd.DataFrame) -> int:
    """How many holdout rows are exact copies of a training row (feature columns)."""
    if len(train) == 0 or len(holdout) == 0:
        return 0
    seen = set(row_hashes(train).tolist())
    return int(sum(h in seen for h in row_hashes(holdout).tolist()))
