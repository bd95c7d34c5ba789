"""Holdout metrics with 95% bootstrap intervals.

Every metric is computed for a matrix of bootstrap weights at once: row ``b`` of ``W`` says
how often each holdout row was drawn in replicate ``b`` (the original sample is a row of ones).
Means become matrix products and rank metrics (ROC AUC, PR AUC) use one sort, so a thousand
replicates cost about as much as a few plain evaluations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from apprentice.decision import decide

EPS = 1e-15
N_BOOT = 1000
CHUNK = 128

HOLDOUT_METRICS: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "pr_auc", "log_loss", "brier", "accuracy", "balanced_accuracy", "f1"),
    "multiclass": ("log_loss", "accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("rmse", "mae", "r2"),
}
GREATER_IS_BETTER: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "log_loss": False,
    "brier": False,
    "accuracy": True,
    "balanced_accuracy": True,
    "f1": True,
    "f1_macro": True,
    "rmse": False,
    "mae": False,
    "r2": True,
}


#: the values each metric can take; every interval is kept inside its metric's range
METRIC_RANGE: dict[str, tuple[float, float]] = {
    "roc_auc": (0.0, 1.0),
    "pr_auc": (0.0, 1.0),
    "log_loss": (0.0, math.inf),
    "brier": (0.0, 1.0),
    "accuracy": (0.0, 1.0),
    "balanced_accuracy": (0.0, 1.0),
    "f1": (0.0, 1.0),
    "f1_macro": (0.0, 1.0),
    "rmse": (0.0, math.inf),
    "mae": (0.0, math.inf),
    "r2": (-math.inf, 1.0),
    "error_rate": (0.0, 1.0),
}


def bounded(metric: str, low: float, high: float) -> tuple[float, float]:
    """``(low, high)`` clipped to the range of ``metric`` (unchanged for unknown metrics).

    A symmetric interval (mean +- t x standard error over CV folds) around a score near a
    bound, such as a ROC AUC of 0.99, would otherwise reach past it (1.001).
    """
    lo, hi = METRIC_RANGE.get(metric, (-math.inf, math.inf))
    return (
        float(min(max(low, lo), hi)) if not math.isnan(low) else low,
        float(max(min(high, hi), lo)) if not math.isnan(high) else high,
    )


@dataclass(frozen=True)
class Interval:
    """A metric value and its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    confidence: float = 0.95

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}

    def __str__(self) -> str:
        return f"{self.value:.4f} [{self.low:.4f}, {self.high:.4f}]"


def _draw(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(np.float32)


def bootstrap_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """``n_boot`` rows of resampling counts (each row sums to ``n``)."""
    return _draw(np.random.default_rng(seed), n, n_boot)


def _dot(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``W @ v`` in ``W``'s precision (a mixed float32/float64 product skips BLAS)."""
    return np.asarray(W @ np.asarray(v, dtype=W.dtype), dtype=np.float64)


def _wmean(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    return _dot(W, v) / W.sum(axis=1, dtype=np.float64)


def _group_sums(W: np.ndarray, positive: np.ndarray, scores: np.ndarray, descending: bool):  # type: ignore[no-untyped-def]
    """Per tie-group weighted positives and negatives, groups ordered by score."""
    from scipy import sparse

    n = len(scores)
    uniq, group = np.unique(-scores if descending else scores, return_inverse=True)
    g = len(uniq)
    pos = positive.astype(bool)
    cols = np.where(pos, group, group + g)
    indicator = sparse.csr_matrix(
        (np.ones(n, dtype=W.dtype), (np.arange(n), cols)), shape=(n, 2 * g)
    )
    sums = np.asarray((indicator.T @ W.T).T)
    return sums[:, :g].astype(np.float64), sums[:, g:].astype(np.float64)


def _auc(W: np.ndarray, positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Weighted ROC AUC (ties count one half) for each row of ``W``."""
    P, N = _group_sums(W, positive, scores, descending=False)
    below = np.cumsum(N, axis=1) - N
    total_p, total_n = P.sum(axis=1), N.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (P * (below + 0.5 * N)).sum(axis=1) / (total_p * total_n)
    return np.where((total_p > 0) & (total_n > 0), auc, np.nan)


def _average_precision(W: np.ndarray, positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Weighted average precision, as scikit-learn defines it (step interpolation)."""
    tp_g, fp_g = _group_sums(W, positive, scores, descending=True)
    tp = np.cumsum(tp_g, axis=1)
    fp = np.cumsum(fp_g, axis=1)
    total = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
        recall = tp / total
    precision = np.nan_to_num(precision)
    d_recall = np.diff(np.concatenate([np.zeros((W.shape[0], 1)), recall], axis=1), axis=1)
    ap = (d_recall * precision).sum(axis=1)
    return np.where(total[:, 0] > 0, ap, np.nan)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / denom, 0.0)


def weighted_metric(
    metric: str,
    task: str,
    y: np.ndarray,
    pred: np.ndarray,
    W: np.ndarray,
    *,
    threshold: float | None = None,
) -> np.ndarray:
    """The metric for every row of bootstrap weights ``W`` (shape ``(B, n)``).

    ``threshold`` is a binary model's decision threshold: accuracy, balanced accuracy and F1
    count the positive class where ``proba[:, 1] >= threshold`` (the arg-max without one).
    """
    if task == "regression":
        y = np.asarray(y, dtype=float)
        err = y - np.asarray(pred, dtype=float)
        if metric == "rmse":
            return np.sqrt(_wmean(W, err**2))
        if metric == "mae":
            return _wmean(W, np.abs(err))
        if metric == "r2":
            w_sum = W.sum(axis=1, dtype=np.float64)
            ss_res = _dot(W, err**2)
            ss_tot = _dot(W, y**2) - _dot(W, y) ** 2 / w_sum
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.nan)
        raise ValueError(f"metric {metric!r} does not apply to regression")
    proba = np.asarray(pred, dtype=float)
    y = np.asarray(y).astype(np.int64)
    n, k = proba.shape
    labels = decide(proba, threshold)  # every label metric at the one decision threshold
    if metric == "log_loss":
        p = np.clip(proba, EPS, 1.0)
        p = p / p.sum(axis=1, keepdims=True)
        return _wmean(W, -np.log(p[np.arange(n), y]))
    if metric == "brier":
        return _wmean(W, (proba[:, 1] - (y == 1)) ** 2)
    if metric == "accuracy":
        return _wmean(W, (labels == y).astype(float))
    if metric == "balanced_accuracy":
        classes = np.unique(y)
        truth = y[:, None] == classes[None, :]
        members = _dot(W, truth)
        hits = _dot(W, truth & (labels[:, None] == classes[None, :]))
        with np.errstate(invalid="ignore", divide="ignore"):
            recall = np.where(members > 0, hits / members, np.nan)
        return np.nanmean(recall, axis=1)
    if metric == "f1" and k == 2:
        hit = labels == 1
        truth1 = y == 1
        both = np.column_stack([hit & truth1, hit & ~truth1, ~hit & truth1])
        counts = _dot(W, both)
        return _f1(counts[:, 0], counts[:, 1], counts[:, 2])
    if metric in ("f1", "f1_macro"):
        classes = np.union1d(np.unique(y), np.unique(labels))
        truth = y[:, None] == classes[None, :]
        hit = labels[:, None] == classes[None, :]
        tp = _dot(W, truth & hit)
        fp = _dot(W, hit & ~truth)
        fn = _dot(W, truth & ~hit)
        return np.asarray(np.mean(_f1(tp, fp, fn), axis=1))
    if metric == "roc_auc":
        if k == 2:
            return _auc(W, y == 1, proba[:, 1])
        return np.nanmean(np.vstack([_auc(W, y == c, proba[:, c]) for c in np.unique(y)]), axis=0)
    if metric == "pr_auc":
        return _average_precision(W, y == 1, proba[:, 1])
    raise ValueError(f"metric {metric!r} does not apply to classification")


THRESHOLD_SOURCES = {
    "tuned": "tuned to maximise F1 on out-of-fold predictions",
    "default": "the default",
    "user": "set by the user",
}


def decision_threshold(
    task: str, *, tuned: float | None, requested: float | None
) -> tuple[float | None, str | None]:
    """A binary model's decision threshold and how it was chosen (a key of
    ``THRESHOLD_SOURCES``): ``requested`` (the user's) if given, else ``tuned``, else 0.5.
    Other tasks have none; a ``requested`` one for them, or outside (0, 1), is a ConfigError.
    """
    from apprentice.decision import DEFAULT_THRESHOLD, check_threshold
    from apprentice.errors import ConfigError

    if requested is not None:
        if task != "binary":
            raise ConfigError(
                f"--threshold applies to a binary target only; this target is {task}: "
                "leave the option out"
            )
        try:
            return check_threshold(requested), "user"
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if task != "binary":
        return None, None
    if tuned is not None and math.isfinite(tuned) and 0.0 < tuned < 1.0:
        return float(tuned), "tuned"
    return DEFAULT_THRESHOLD, "default"


def threshold_text(threshold: float, source: str | None) -> str:
    """The one statement of a binary model's decision threshold (summary, report, card)."""
    how = THRESHOLD_SOURCES.get(source or "", "as stored in the bundle")
    return (
        f"{threshold:.4g} ({how}): the positive class is predicted when its probability is "
        "at least this; accuracy, balanced accuracy, F1, the confusion matrix and the "
        "fairness rates are at this threshold"
    )


def _percentiles(values: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return math.nan, math.nan
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _replicates(
    metrics: tuple[str, ...],
    task: str,
    y: np.ndarray,
    preds: list[np.ndarray],
    *,
    n_boot: int,
    seed: int,
    threshold: float | None,
) -> dict[str, list[np.ndarray]]:
    """Bootstrap replicates of each metric for each prediction set (same resamples)."""
    n = len(y)
    out: dict[str, list[list[np.ndarray]]] = {m: [[] for _ in preds] for m in metrics}
    rng = np.random.default_rng(seed)
    done = 0
    chunk = max(8, min(CHUNK, 2_000_000 // max(n, 1)))
    while done < n_boot:
        b = min(chunk, n_boot - done)
        W = _draw(rng, n, b)
        for m in metrics:
            for i, pred in enumerate(preds):
                out[m][i].append(weighted_metric(m, task, y, pred, W, threshold=threshold))
        done += b
    return {m: [np.concatenate(parts) for parts in lists] for m, lists in out.items()}


def holdout_metrics(
    task: str,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    threshold: float | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    confidence: float = 0.95,
    metrics: tuple[str, ...] | None = None,
) -> dict[str, Interval]:
    """The task's holdout metrics, each with a percentile bootstrap interval.

    ``y`` holds class indices (or values), ``pred`` probabilities ``(n, n_classes)`` (or
    values). ``threshold`` is a binary model's decision threshold, used by every label metric
    (accuracy, balanced accuracy, F1); pass the bundle's.
    """
    names = metrics or HOLDOUT_METRICS[task]
    ones = np.ones((1, len(y)))
    reps = _replicates(names, task, y, [pred], n_boot=n_boot, seed=seed, threshold=threshold)
    result: dict[str, Interval] = {}
    for m in names:
        value = float(weighted_metric(m, task, y, pred, ones, threshold=threshold)[0])
        low, high = bounded(m, *_percentiles(reps[m][0], confidence))
        result[m] = Interval(value, low, high, confidence)
    return result


def estimate_seconds(
    task: str, n_rows: int, n_classes: int = 0, *, n_boot: int = N_BOOT, comparisons: int = 2
) -> float:
    """Seconds :func:`holdout_metrics` plus ``comparisons`` paired tests will take, here, now.

    Two short timed runs on synthetic data of the same size give the fixed cost of a chunk
    of replicates and the cost of one replicate; a busy machine gets a larger estimate.
    """
    if n_rows <= 0:
        return 0.0
    import time

    rng = np.random.default_rng(0)
    n = min(n_rows, 20_000)
    pred: np.ndarray
    y: np.ndarray
    if task == "regression":
        y = rng.normal(size=n)
        pred = y + rng.normal(size=n)
    else:
        k = max(n_classes, 2)
        y = rng.integers(0, k, n)
        pred = rng.dirichlet(np.ones(k), n)
    threshold = 0.5 if task == "binary" else None
    times = []
    for b in (4, 12):
        start = time.perf_counter()
        holdout_metrics(task, y, pred, n_boot=b, threshold=threshold)
        times.append(time.perf_counter() - start)
    per_rep = max((times[1] - times[0]) / 8, times[1] / 12 * 0.25)
    chunk = max(8, min(CHUNK, 2_000_000 // max(n, 1)))
    # one chunk's fixed cost (sorting, grouping) per chunk, then the replicates
    fixed = max(times[0] - 4 * per_rep, 0.0)
    one = times[1] + (math.ceil(n_boot / chunk) - 1) * fixed * 0.5 + (n_boot - 12) * per_rep
    one *= n_rows / n
    share = 2 / len(HOLDOUT_METRICS[task])  # a paired test: one metric, two predictions
    return one * (1 + comparisons * share)


def metrics_to_dict(metrics: dict[str, Interval]) -> dict[str, Any]:
    return {name: interval.to_dict() for name, interval in metrics.items()}
