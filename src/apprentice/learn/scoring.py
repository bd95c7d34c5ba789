"""Selection metrics for cross-validation, and the F1 threshold chosen on out-of-fold data.

Predictions are class probabilities ``(n, n_classes)`` for classification and values ``(n,)``
for regression; ``y`` holds class indices or values.
"""

from __future__ import annotations

import numpy as np

from apprentice.errors import ConfigError

EPS = 1e-15

#: metric -> (tasks it applies to, greater is better)
METRICS: dict[str, tuple[frozenset[str], bool]] = {
    "roc_auc": (frozenset({"binary", "multiclass"}), True),
    "pr_auc": (frozenset({"binary"}), True),
    "log_loss": (frozenset({"binary", "multiclass"}), False),
    "brier": (frozenset({"binary"}), False),
    "accuracy": (frozenset({"binary", "multiclass"}), True),
    "balanced_accuracy": (frozenset({"binary", "multiclass"}), True),
    "f1": (frozenset({"binary", "multiclass"}), True),
    "rmse": (frozenset({"regression"}), False),
    "mae": (frozenset({"regression"}), False),
    "r2": (frozenset({"regression"}), True),
}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def resolve_metric(metric: str | None, task: str) -> str:
    """The default metric of ``task`` or a checked ``metric``."""
    if metric is None:
        return DEFAULT_METRIC[task]
    name = metric.strip().lower().replace("-", "_")
    aliases = {"auc": "roc_auc", "logloss": "log_loss", "average_precision": "pr_auc"}
    name = aliases.get(name, name)
    if name not in METRICS:
        raise ConfigError(f"metric {metric!r} is unknown: use one of {', '.join(sorted(METRICS))}")
    tasks, _ = METRICS[name]
    if task not in tasks:
        usable = sorted(m for m, (t, _) in METRICS.items() if task in t)
        raise ConfigError(
            f"metric {name!r} does not apply to a {task} task: use one of {', '.join(usable)}"
        )
    return name


def greater_is_better(metric: str) -> bool:
    return METRICS[metric][1]


def utility(metric: str, value: float) -> float:
    """A number where larger is always better."""
    return value if greater_is_better(metric) else -value


def _labels(pred: np.ndarray) -> np.ndarray:
    return np.asarray(pred).argmax(axis=1)


def score(metric: str, y: np.ndarray, pred: np.ndarray, n_classes: int = 0) -> float:
    """The metric value of predictions ``pred`` for targets ``y``."""
    from sklearn import metrics as skm

    if metric == "rmse":
        return float(np.sqrt(np.mean((np.asarray(y, float) - pred) ** 2)))
    if metric == "mae":
        return float(np.mean(np.abs(np.asarray(y, float) - pred)))
    if metric == "r2":
        return float(skm.r2_score(y, pred))
    proba = np.asarray(pred, dtype=float)
    k = n_classes or proba.shape[1]
    labels = np.arange(k)
    if metric == "log_loss":
        clipped = np.clip(proba, EPS, 1.0)
        clipped = clipped / clipped.sum(axis=1, keepdims=True)
        return float(-np.mean(np.log(clipped[np.arange(len(y)), y.astype(np.int64)])))
    if metric == "brier":
        return float(np.mean((proba[:, 1] - (y == 1)) ** 2))
    if metric == "accuracy":
        return float(np.mean(_labels(proba) == y))
    if metric == "balanced_accuracy":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(skm.balanced_accuracy_score(y, _labels(proba)))
    if metric == "f1":
        if k == 2:
            return float(skm.f1_score(y, _labels(proba), pos_label=1, zero_division=0))
        return float(
            skm.f1_score(y, _labels(proba), labels=labels, average="macro", zero_division=0)
        )
    if metric == "pr_auc":
        return float(skm.average_precision_score(y == 1, proba[:, 1]))
    if metric == "roc_auc":
        present = np.unique(y)
        if len(present) < 2:
            return float("nan")
        if k == 2:
            return float(skm.roc_auc_score(y, proba[:, 1]))
        sub = proba[:, present]
        sub = sub / np.clip(sub.sum(axis=1, keepdims=True), EPS, None)
        if len(present) == 2:
            return float(skm.roc_auc_score(y == present[1], sub[:, 1]))
        return float(skm.roc_auc_score(y, sub, multi_class="ovr", labels=present))
    raise ConfigError(f"metric {metric!r} is unknown")


def best_f1_threshold(y: np.ndarray, p1: np.ndarray) -> float:
    """The probability threshold of the positive class that maximises F1 on ``(y, p1)``."""
    y = np.asarray(y).astype(bool)
    if y.sum() == 0 or y.sum() == len(y):
        return 0.5
    order = np.argsort(-p1, kind="stable")
    scores = p1[order]
    hits = y[order]
    tp = np.cumsum(hits)
    fp = np.cumsum(~hits)
    # only cut between distinct scores
    last = np.r_[scores[1:] != scores[:-1], True]
    tp, fp, cut = tp[last], fp[last], scores[last]
    f1 = 2 * tp / (2 * tp + fp + (y.sum() - tp))
    best = int(np.argmax(f1))
    nxt = cut[best + 1] if best + 1 < len(cut) else 0.0
    return float((cut[best] + nxt) / 2)
