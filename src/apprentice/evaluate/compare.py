"""Paired bootstrap comparisons between two models on the same holdout rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apprentice.evaluate.metrics import GREATER_IS_BETTER, N_BOOT, _replicates, weighted_metric

ALPHA = 0.05
#: the named baselines every champion is compared with, each with one meaning
BASELINE_ROLES: dict[str, str] = {
    "constant": "constant baseline",  # predicts the training prior or mean, uses no feature
    "linear": "linear baseline",  # the best linear model (logistic or ridge regression)
}


@dataclass(frozen=True)
class Comparison:
    """Is model ``a`` better than model ``b`` on ``metric``? A one-sided paired bootstrap test.

    ``difference`` (the gain of ``a`` over ``b``) is oriented so that a positive value favours
    ``a``; ``low``/``high`` its 95% interval; ``p_value`` the bootstrap probability of a gain
    of zero or less. ``weight`` is ``b``'s weight inside ``a`` when ``a`` is an ensemble that
    contains it.
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
    weight: float | None = None

    @property
    def better(self) -> bool:
        """Evidence that ``a`` beats ``b``: the 95% interval of the gain lies above zero (so
        the verdict never contradicts the interval it is printed with) and ``p < alpha``."""
        return self.p_value < self.alpha and self.difference > 0 and self.low > 0

    @property
    def p_text(self) -> str:
        floor = 1.0 / (self.n_boot + 1)
        if self.p_value <= floor + 1e-12:
            return f"p < {_round_up(floor)}"
        return f"p = {self.p_value:.3f}"

    @property
    def wording(self) -> str:
        """``lgbm beats dummy (constant baseline): roc_auc 0.8123 vs 0.5000, gain +0.3123
        (95% CI +0.2900 to +0.3350, p < 0.001)`` or ``no evidence that lgbm beats linear
        (linear baseline): ...``."""
        claim = f"{self.a} beats {self.b} ({self.role})"
        if not self.better:
            claim = "no evidence that " + claim
        inside = (
            f"; {self.b} is {self.weight:.0%} of {self.a}"
            if self.weight is not None and self.weight < 1
            else ""
        )
        return (
            f"{claim}: {self.metric} {self.value_a:.4f} vs {self.value_b:.4f}, gain "
            f"{_signed(self.difference)} (95% CI {_signed(self.low)} to {_signed(self.high)}, "
            f"{self.p_text}){inside}"
        )

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
            "weight": self.weight,
            "wording": self.wording,
        }


def _signed(value: float) -> str:
    """``+0.0123``; a value that rounds to zero is ``+0.0000`` whatever its sign."""
    text = f"{value:+.4f}"
    return "+0.0000" if text == "-0.0000" else text


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
    weight: float | None = None,
) -> Comparison:
    """Bootstrap the metric difference of ``a`` minus ``b`` over the same resampled rows.

    The interval of the difference stays inside what the metric allows (a difference of two
    bounded scores lies within plus or minus the width of their range)."""
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
        weight=weight,
    )


def comparison_plan(
    champion: str,
    members: list[tuple[str, float]],
    baselines: dict[str, str],
    runner_up: str | None,
) -> tuple[list[tuple[str, str, float | None]], list[str]]:
    """Whom the champion is compared with: ``(role, name, weight)`` for the constant and the
    linear baseline and the runner-up, each model once (the first role it has), never the
    champion itself; and a note for each named baseline that did not run."""
    weights = dict(members) if len(members) > 1 else {}
    plan: list[tuple[str, str, float | None]] = []
    seen = {champion}
    notes = []
    for key, role in BASELINE_ROLES.items():
        name = baselines.get(key)
        if name is None:
            notes.append(f"the {role} did not run (see the leaderboard): no paired test with it")
        elif name not in seen:
            plan.append((role, name, weights.get(name)))
            seen.add(name)
    if runner_up is not None and runner_up not in seen:
        plan.append(("runner-up", runner_up, weights.get(runner_up)))
    return plan, notes
