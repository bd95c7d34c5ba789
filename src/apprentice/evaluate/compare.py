"""Paired bootstrap comparisons between two models on the same holdout rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apprentice.evaluate.metrics import GREATER_IS_BETTER, N_BOOT, _replicates, weighted_metric

ALPHA = 0.05


@dataclass(frozen=True)
class Comparison:
    """Is model ``a`` better than model ``b`` on ``metric``? A one-sided paired bootstrap test.

    ``difference`` is oriented so that a positive value favours ``a``; ``p_value`` is the
    bootstrap probability of a difference of zero or less.
    """

    a: str
    b: str
    role: str
    metric: str
    value_a: float
    value_b: float
    difference: float
    low: float
    high: float
    p_value: float
    n_boot: int
    alpha: float = ALPHA

    @property
    def better(self) -> bool:
        return self.p_value < self.alpha and self.difference > 0

    @property
    def p_text(self) -> str:
        floor = 1.0 / (self.n_boot + 1)
        if self.p_value <= floor + 1e-12:
            return f"p < {_round_up(floor)}"
        return f"p = {self.p_value:.3f}"

    @property
    def wording(self) -> str:
        """``better than the baseline: yes, p < 0.001`` or ``... : not shown (p = 0.31)``."""
        verdict = "yes" if self.better else "not shown"
        sep = ", " if self.better else " ("
        end = "" if self.better else ")"
        return f"better than the {self.role}: {verdict}{sep}{self.p_text}{end}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "role": self.role,
            "metric": self.metric,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "better": self.better,
            "wording": self.wording,
        }


def _round_up(value: float) -> str:
    for step in (0.001, 0.01, 0.05, 0.1):
        if value <= step:
            return f"{step:g}"
    return f"{value:.3f}"


def paired_test(
    task: str,
    metric: str,
    y: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    *,
    name_a: str = "champion",
    name_b: str = "other",
    role: str = "other model",
    n_boot: int = N_BOOT,
    seed: int = 0,
    threshold: float | None = None,
) -> Comparison:
    """Bootstrap the metric difference of ``a`` minus ``b`` over the same resampled rows."""
    ones = np.ones((1, len(y)))
    value_a = float(weighted_metric(metric, task, y, pred_a, ones, threshold=threshold)[0])
    value_b = float(weighted_metric(metric, task, y, pred_b, ones, threshold=threshold)[0])
    reps = _replicates(
        (metric,), task, y, [pred_a, pred_b], n_boot=n_boot, seed=seed, threshold=threshold
    )[metric]
    sign = 1.0 if GREATER_IS_BETTER[metric] else -1.0
    diffs = sign * (reps[0] - reps[1])
    diffs = diffs[np.isfinite(diffs)]
    difference = sign * (value_a - value_b)
    if len(diffs) == 0:
        low = high = float("nan")
        p_value = 1.0
    else:
        low, high = (float(v) for v in np.percentile(diffs, [2.5, 97.5]))
        p_value = float((1 + np.sum(diffs <= 0)) / (len(diffs) + 1))
    return Comparison(
        a=name_a,
        b=name_b,
        role=role,
        metric=metric,
        value_a=value_a,
        value_b=value_b,
        difference=difference,
        low=low,
        high=high,
        p_value=p_value,
        n_boot=len(diffs),
    )
