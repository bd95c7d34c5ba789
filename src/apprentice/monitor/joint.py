"""The joint distribution of a categorical and a numeric feature: does each category still
carry the numbers it carried in the reference?

A swap of two categories' meanings upstream (``M`` rows now arrive as ``I`` and the other way
round) barely moves either column's own distribution when the two are about equally common,
but it moves the numbers seen within each category. The reference profile keeps, for the most
important categorical features (:data:`TOP_CATEGORICAL`) crossed with the most important
numeric ones (:data:`TOP_NUMERIC`), per category among the commonest (:data:`TOP_CATEGORIES`,
each with at least :data:`MIN_REFERENCE_ROWS` reference rows): the count, the mean of the
number, and the mean and standard deviation of its *reference rank* (the mid-rank of the value
in the numeric column's stored reference sample, a number in [0, 1]). No row is stored.

The test of one pair: per category with at least ``min_rows`` current values, Welch's z for
the difference of the mean ranks (the rank is bounded, so the normal approximation holds for
heavy-tailed numbers too; the current side's variance is at least the reference's, so a
category whose numbers are all equal does not make a huge z of a tiny change); the sum of the
squared z over the categories against a chi-square with as many degrees of freedom (the
categories hold disjoint rows). The p-values join the per-column drift tests in one
Benjamini-Hochberg family at ``drift.alpha`` (:func:`apprentice.monitor.check.finish_drift`),
so the whole run keeps its stated false-alarm rate. A pair counts as drifted when significant
and some category's mean rank moved by at least ``drift.min_joint_shift``.

The current rows' statistics are sums (count, sum of ranks, of squared ranks, of the numbers
per category), so chunks of a big file merge exactly (:mod:`apprentice.monitor.partial`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: categorical features (the most important) whose categories are summarised
TOP_CATEGORICAL = 5
#: numeric features (the most important) summarised within each category
TOP_NUMERIC = 5
#: categories per categorical feature, the commonest
TOP_CATEGORIES = 10
#: reference rows a category needs to be summarised
MIN_REFERENCE_ROWS = 50
VERSION = 1


def reference_rank(values: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Each value's mid-rank in the sorted reference ``sample``, in [0, 1] (NaN kept)."""
    values = np.asarray(values, dtype=float)
    if len(sample) == 0:
        return np.full(len(values), np.nan)
    low = np.searchsorted(sample, values, side="left")
    high = np.searchsorted(sample, values, side="right")
    out = (low + high) / (2.0 * len(sample))
    out[~np.isfinite(values)] = np.nan
    return np.asarray(out, dtype=float)


def _labels(series: pd.Series) -> pd.Series:
    """Category labels as text, missing kept missing (as the column profiles count them)."""
    text = series.astype(object).where(series.notna(), None)
    return text.map(lambda v: None if v is None else str(v))


def _ranked(importance: dict[str, float], names: list[str], top: int) -> list[str]:
    return sorted(names, key=lambda c: (-float(importance.get(c, 0.0)), c))[:top]


def joint_profile(
    features: pd.DataFrame,
    columns: dict[str, dict[str, Any]],
    importance: dict[str, float],
    *,
    top_categorical: int = TOP_CATEGORICAL,
    top_numeric: int = TOP_NUMERIC,
    top_categories: int = TOP_CATEGORIES,
    min_rows: int = MIN_REFERENCE_ROWS,
) -> dict[str, Any]:
    """Per-category summaries of the important numeric features within the important
    categorical ones, from the reference ``features`` (typed) and their column profiles."""
    from apprentice.monitor.profile import numeric_values

    categorical = _ranked(
        importance,
        [
            c
            for c, e in columns.items()
            if e["kind"] == "categorical" and e.get("n", 0) > 0 and c in features.columns
        ],
        top_categorical,
    )
    numeric = _ranked(
        importance,
        [
            c
            for c, e in columns.items()
            if e["kind"] == "numeric" and e.get("sample") and c in features.columns
        ],
        top_numeric,
    )
    pairs: list[dict[str, Any]] = []
    for cat in categorical:
        labels = _labels(features[cat]).to_numpy()
        for num in numeric:
            values = numeric_values(features[num])
            ranks = reference_rank(values, np.asarray(columns[num]["sample"], dtype=float))
            ok = np.isfinite(values) & pd.notna(labels)
            if not ok.any():
                continue
            frame = pd.DataFrame({"c": labels[ok], "x": values[ok], "u": ranks[ok]})
            groups = frame.groupby("c", sort=False)
            stats = groups.agg(
                n=("x", "size"), mean=("x", "mean"), u_mean=("u", "mean"), u_sd=("u", "std")
            )
            stats = stats[stats["n"] >= min_rows]
            stats = stats.sort_values("n", ascending=False, kind="stable").head(top_categories)
            if len(stats) < 2:
                continue
            pairs.append(
                {
                    "categorical": cat,
                    "numeric": num,
                    "categories": [
                        {
                            "category": str(name),
                            "n": int(row["n"]),
                            "mean": float(row["mean"]),
                            "rank_mean": float(row["u_mean"]),
                            "rank_sd": float(row["u_sd"]),
                        }
                        for name, row in stats.iterrows()
                    ],
                }
            )
    return {"version": VERSION, "pairs": pairs}


def joint_sums(
    joint: dict[str, Any], columns: dict[str, dict[str, Any]], typed: pd.DataFrame
) -> list[np.ndarray | None]:
    """Per pair of ``joint``, per stored category: the current rows' count, sum of reference
    ranks, sum of squared ranks and sum of the numbers (``None``: a column is absent)."""
    from apprentice.monitor.profile import numeric_values

    out: list[np.ndarray | None] = []
    labels_of: dict[str, np.ndarray] = {}
    ranks_of: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for pair in joint.get("pairs", []):
        cat, num = pair["categorical"], pair["numeric"]
        if cat not in typed.columns or num not in typed.columns or num not in columns:
            out.append(None)
            continue
        if cat not in labels_of:
            labels_of[cat] = _labels(typed[cat]).to_numpy()
        if num not in ranks_of:
            values = numeric_values(typed[num])
            sample = np.asarray(columns[num].get("sample", []), dtype=float)
            ranks_of[num] = (values, reference_rank(values, sample))
        labels = labels_of[cat]
        values, ranks = ranks_of[num]
        ok = np.isfinite(values) & np.isfinite(ranks)
        sums = np.zeros((len(pair["categories"]), 4))
        for i, entry in enumerate(pair["categories"]):
            mask = ok & (labels == entry["category"])
            u = ranks[mask]
            sums[i] = (mask.sum(), u.sum(), (u * u).sum(), values[mask].sum())
        out.append(sums)
    return out


def merge_sums(
    a: list[np.ndarray | None] | None, b: list[np.ndarray | None] | None
) -> list[np.ndarray | None] | None:
    """Two chunks' sums together."""
    if a is None or b is None:
        return a if b is None else b
    merged: list[np.ndarray | None] = []
    for x, y in zip(a, b, strict=True):
        merged.append(x if y is None else y if x is None else x + y)
    return merged


@dataclass
class JointDrift:
    """The test of one (categorical, numeric) pair; ``p_adjusted`` and ``drifted`` are set
    with the per-column tests (:func:`apprentice.monitor.check.finish_drift`)."""

    categorical: str
    numeric: str
    statistic: float
    p_value: float
    df: int
    shift: float
    categories: list[dict[str, Any]]
    test: str = "welch_chi2_rank"
    p_adjusted: float = math.nan
    importance: float = 0.0
    drifted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def worst(self) -> dict[str, Any] | None:
        """The tested category whose mean rank moved most."""
        tested = [c for c in self.categories if c.get("z") is not None]
        return max(tested, key=lambda c: abs(c["rank_shift"])) if tested else None

    def describe(self) -> str:
        """What moved, in the numbers' own units: "mean `x` for `c` = M: 0.99 -> 0.43"."""
        worst = self.worst
        if worst is None:
            return f"`{self.numeric}` within `{self.categorical}`"
        return (
            f"mean `{self.numeric}` for `{self.categorical}` = {worst['category']}: "
            f"{worst['mean_reference']:.4g} -> {worst['mean_current']:.4g}"
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("statistic", "p_value", "p_adjusted", "shift"):
            value = out[key]
            out[key] = None if value is None or not math.isfinite(value) else float(value)
        out["message"] = self.describe()
        return out


def joint_tests(
    joint: dict[str, Any], sums: list[np.ndarray | None], min_rows: int
) -> list[JointDrift]:
    """One test per pair with at least one category holding ``min_rows`` current values."""
    from scipy.stats import chi2

    results: list[JointDrift] = []
    for pair, found in zip(joint.get("pairs", []), sums, strict=True):
        if found is None:
            continue
        categories: list[dict[str, Any]] = []
        zs: list[float] = []
        for entry, (n, su, suu, sx) in zip(pair["categories"], found, strict=True):
            n = int(n)
            row: dict[str, Any] = {
                "category": entry["category"],
                "n_reference": entry["n"],
                "n_current": n,
                "mean_reference": entry["mean"],
                "mean_current": sx / n if n else None,
                "rank_reference": entry["rank_mean"],
                "rank_current": su / n if n else None,
                "rank_shift": (su / n - entry["rank_mean"]) if n else None,
                "z": None,
            }
            categories.append(row)
            if n < max(min_rows, 2):
                continue
            mean = su / n
            var_cur = max((suu - n * mean * mean) / (n - 1), 0.0)
            var_ref = float(entry["rank_sd"]) ** 2 if math.isfinite(entry["rank_sd"]) else 0.0
            # the current side's spread at least the reference's; a floor of a rank step
            floor = 1e-8
            var = var_ref / entry["n"] + max(var_cur, var_ref) / n + floor
            z = (mean - entry["rank_mean"]) / math.sqrt(var)
            row["z"] = z
            zs.append(z)
        if not zs:
            continue
        statistic = float(np.sum(np.square(zs)))
        shifts = [abs(c["rank_shift"]) for c in categories if c["z"] is not None]
        results.append(
            JointDrift(
                categorical=pair["categorical"],
                numeric=pair["numeric"],
                statistic=statistic,
                p_value=float(chi2.sf(statistic, len(zs))),
                df=len(zs),
                shift=float(max(shifts)),
                categories=categories,
            )
        )
    return results
