"""Numeric sentinels: ``-200``, ``-999``, ``9999`` standing for "no value".

A value is a suspected sentinel when it is sentinel-shaped (the minimum and a negative integer
with one significant digit or all 9s, such as ``-1``, ``-200``, ``-999``; or the maximum and
all 9s, such as ``99``, ``9999``), frequent (at least 0.5% of
the column's numbers, and 3 cells), the column's extreme, and far outside the rest of the
distribution (the only negative value in a non-negative column, or more than 1.5 interquartile
ranges beyond the nearest other value). The evidence is recorded; whether the value becomes
missing is the user's call (``sentinels="flag"`` keeps it and reports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sentinel_shaped(v: float, side: str) -> bool:
    """Negative codes like -1, -9, -99, -200, -999 at the low end; 99, 999, 9999 at the top."""
    if not np.isfinite(v) or v != np.floor(v) or v == 0:
        return False
    digits = str(abs(int(v)))
    nines = set(digits) == {"9"}
    if side == "high":
        return v > 0 and nines and len(digits) >= 2
    return v < 0 and (nines or digits.rstrip("0") in {"1", "2", "3", "4", "5", "6", "7", "8"})


def find_sentinels(
    values: np.ndarray, extremes: tuple[float, float] | None = None
) -> list[dict[str, Any]]:
    """Suspected sentinels of a float column (NaN = missing), with their evidence.

    ``extremes``: ``(min, max)`` of ``values`` when every value is finite and they are
    already known (a wide table's plain columns get them for many columns at once)."""
    if extremes is not None:
        n = len(values)
        if n < 20 or not (
            sentinel_shaped(extremes[0], "low") or sentinel_shaped(extremes[1], "high")
        ):
            return []
        finite_mask = np.ones(n, dtype=bool)
        lo, hi = extremes
    else:
        finite_mask = np.isfinite(values)
        n = int(finite_mask.sum())
        if n < 20:
            return []
        if n == len(values):  # no NaN: min/max are nanmin/nanmax without their NaN handling
            lo, hi = float(values.min()), float(values.max())
        else:
            lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    found: list[dict[str, Any]] = []
    for side, v in (("low", lo), ("high", hi)):
        if not sentinel_shaped(v, side):
            continue
        hits = values == v
        count = int(hits.sum())
        if count < 3 or count < 0.005 * n:
            continue
        rest_mask = finite_mask & ~hits
        if int(rest_mask.sum()) < 5:
            continue
        # quartiles and distinctness of the other values, from an even sample of them
        rest_idx = np.flatnonzero(rest_mask)
        if rest_idx.size > 200_000:
            rest_idx = rest_idx[np.linspace(0, rest_idx.size - 1, 200_000).astype(np.int64)]
        rest = values[rest_idx]
        if np.unique(rest[:100_000]).size < 5:
            continue
        q1, q3 = np.percentile(rest, [25, 75])
        iqr = float(q3 - q1) or float(np.std(rest)) or 1.0
        masked = np.where(rest_mask, values, np.nan)
        rest_min, rest_max = float(np.nanmin(masked)), float(np.nanmax(masked))
        del masked
        nearest = rest_min if side == "low" else rest_max
        gap = abs(v - nearest)
        sign_apart = v < 0 <= rest_min if side == "low" else False
        if not sign_apart and gap < 1.5 * iqr:
            continue
        reason = (
            "the only negative value in an otherwise non-negative column"
            if sign_apart
            else f"{gap / iqr:.1f} interquartile ranges beyond the nearest other value"
        )
        found.append(
            {
                "value": v,
                "count": count,
                "share": round(count / n, 6),
                "rest_min": rest_min,
                "rest_max": rest_max,
                "rest_median": float(np.median(rest)),
                "reason": f"{count} cells ({count / n:.1%}); {reason}",
            }
        )
    return found
