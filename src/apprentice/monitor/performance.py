"""Labelled performance as mergeable sums: a window of current rows against the holdout.

Every window (a block of rows, a time window, or all labelled rows together) is summarised by
sums that add across chunks, so the whole-frame check and the chunked one agree:

- classification: ``[n, correct, correct^2]`` (accuracy at the bundle's decision);
- regression: ``[n, e, e^2, u, v, u^2, v^2, u*v]`` with ``e`` the absolute error, ``u`` and
  ``v`` the prediction's and the label's mid-rank position among the holdout's predictions and
  labels (kept in the profile). The Pearson correlation of ``(u, v)`` is a rank correlation
  (Spearman's on the holdout itself): how well the predictions order the labels.

Two one-sided tests per window, each counting the holdout's own sampling error:

- the mean error (regression) or the accuracy is worse than on the holdout (normal
  approximation to the two-sample difference);
- regression: the predictions rank the labels less well than on the holdout (Fisher's z with
  the Bonett-Wright variance ``(1 + r^2 / 2) / (n - 3)`` of a rank correlation on each side).
  Labels that no longer follow the features (label noise, a changed relationship, a category
  whose meaning was swapped) show here even when a weak model's mean error barely grows: its
  errors are mostly the labels' own spread.

A test of the absolute errors' whole distribution (Mann-Whitney U against the holdout's errors)
was measured on the design tables and left out: under 20% label noise it found less than the
mean's test, and its p-values moved with the mean's (correlation 0.98 on same-distribution
samples), so it would only have split the false-alarm budget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: holdout predictions and labels kept in the profile for the rank positions, at most
MAX_SCORES = 5_000

REGRESSION_STATS = 8
CLASSIFICATION_STATS = 3


def sorted_sample(values: np.ndarray, seed: int, most: int = MAX_SCORES) -> list[float]:
    """A sorted sample of at most ``most`` finite values, 6 significant digits."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if len(values) > most:
        values = np.random.default_rng(seed).choice(values, most, replace=False)
    return [float(f"{v:.6g}") for v in np.sort(values)]


def mid_rank(reference_sorted: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's mid-rank position in the sorted reference, in [0, 1] (ties: halfway)."""
    ref = np.asarray(reference_sorted, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(ref) == 0:
        return np.full(len(values), 0.5)
    below = np.searchsorted(ref, values, side="left")
    upto = np.searchsorted(ref, values, side="right")
    return np.asarray((below + upto) / (2.0 * len(ref)), dtype=float)


def row_stats(
    task: str,
    output: np.ndarray,
    y: np.ndarray,
    correct: np.ndarray | None,
    reference: dict[str, Any],
) -> np.ndarray:
    """One row of sums per labelled row (see the module's text): shape ``(rows, k)``."""
    if task != "regression":
        assert correct is not None
        c = np.asarray(correct, dtype=float)
        return np.column_stack([np.ones(len(c)), c, c * c])
    output = np.asarray(output, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    e = np.abs(output - y)
    scores = reference.get("scores") or {}
    if scores.get("prediction") and scores.get("label"):
        u = mid_rank(np.asarray(scores["prediction"]), output)
        v = mid_rank(np.asarray(scores["label"]), y)
    else:  # an old profile: no rank positions, the association is not tested
        u = v = np.full(len(e), math.nan)
    return np.column_stack([np.ones(len(e)), e, e * e, u, v, u * u, v * v, u * v])


def mean_sd(stats: np.ndarray) -> tuple[int, float, float]:
    """Rows, mean and standard deviation (``nan`` below 2 rows) of the window's values."""
    n = round(float(stats[0]))
    if n == 0:
        return 0, math.nan, math.nan
    mean = float(stats[1]) / n
    sd = math.nan
    if n > 1:
        sd = math.sqrt(max(float(stats[2]) - n * mean * mean, 0.0) / (n - 1))
    return n, mean, sd


def association(stats: np.ndarray) -> float | None:
    """The rank correlation of predictions with labels from a regression window's sums
    (``None`` without rank positions, below 10 rows, or when a side is constant)."""
    n = float(stats[0])
    if len(stats) < REGRESSION_STATS or n < 10 or not np.all(np.isfinite(stats[3:8])):
        return None
    su, sv, suu, svv, suv = (float(s) for s in stats[3:8])
    var_u, var_v = suu - su * su / n, svv - sv * sv / n
    if var_u <= 1e-12 * n or var_v <= 1e-12 * n:
        return None
    return float((suv - su * sv / n) / math.sqrt(var_u * var_v))


def reference_association(
    output: np.ndarray, y: np.ndarray, scores: dict[str, list[float]]
) -> float | None:
    """The holdout's own rank correlation, computed exactly as a window's is."""
    stats = row_stats("regression", output, y, None, {"scores": scores}).sum(axis=0)
    return association(stats)


def correlation_drop_p(r: float, n: int, r_ref: float, n_ref: int) -> float:
    """One-sided p-value of "the current rank correlation ``r`` (``n`` pairs) is lower than
    the reference's ``r_ref`` (``n_ref`` pairs)": Fisher's z of each, with the Bonett-Wright
    variance ``(1 + r^2 / 2) / (n - 3)`` of a rank correlation."""
    from scipy.stats import norm

    if n <= 3 or n_ref <= 3:
        return 1.0
    clip = 1 - 1e-12
    z = math.atanh(max(-clip, min(clip, r)))
    z_ref = math.atanh(max(-clip, min(clip, r_ref)))
    var = (1 + r * r / 2) / (n - 3) + (1 + r_ref * r_ref / 2) / (n_ref - 3)
    return float(norm.sf((z_ref - z) / math.sqrt(var)))
