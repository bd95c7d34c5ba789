"""Data quality drift: schema violations, missing-rate jumps, unseen categories, out-of-range
values, each against the reference profile."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apprentice.monitor.policy import QualityPolicy


def _proportion_up(p_ref: float, n_ref: int, p_cur: float, n_cur: int) -> bool:
    """One-sided two-proportion z-test at 1%: is the current share really above the
    reference's? (Without a reference count, the threshold alone decides.)"""
    if n_ref <= 0 or n_cur <= 0:
        return True
    pooled = (p_ref * n_ref + p_cur * n_cur) / (n_ref + n_cur)
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur)))
    return se == 0 or (p_cur - p_ref) / se > 2.326


def quality_checks(
    profile: dict[str, Any],
    current: pd.DataFrame,
    *,
    raw: pd.DataFrame | None = None,
    raw_columns: list[str] | None,
    input_columns: list[str],
    policy: QualityPolicy,
) -> dict[str, Any]:
    """Findings per check; ``issues`` lists the ones that break the policy."""
    from apprentice.monitor.drift import OTHER
    from apprentice.monitor.profile import numeric_values, unreadable_share

    issues: list[dict[str, Any]] = []
    schema: dict[str, Any] = {"missing_columns": [], "extra_columns": []}
    if raw_columns is not None and input_columns:
        present = set(raw_columns)
        schema["missing_columns"] = [c for c in input_columns if c not in present]
        schema["extra_columns"] = [c for c in raw_columns if c not in set(input_columns)]
        if schema["missing_columns"] and not policy.allow_missing_columns:
            issues.append(
                {
                    "check": "schema",
                    "message": "columns the model needs are absent: "
                    + ", ".join(schema["missing_columns"][:10]),
                }
            )
    columns: dict[str, Any] = {}
    n = len(current)
    for name, ref in profile["features"].items():
        if name not in current.columns or n == 0:
            continue
        series = current[name]
        entry: dict[str, Any] = {}
        missing = float(series.isna().mean())
        entry["missing_rate"] = missing
        entry["reference_missing_rate"] = float(ref.get("missing_rate", 0.0))
        jump = missing - entry["reference_missing_rate"]
        if jump > policy.max_missing_increase:
            issues.append(
                {
                    "check": "missing_rate",
                    "column": name,
                    "message": f"'{name}' is missing in {missing:.1%} of rows "
                    f"(reference {entry['reference_missing_rate']:.1%})",
                }
            )
        if ref["kind"] == "numeric" and ref.get("min") is not None:
            values = numeric_values(series)
            finite = values[np.isfinite(values)]
            if len(finite):
                out = float(np.mean((finite < ref["min"]) | (finite > ref["max"])))
                entry["out_of_range_share"] = out
                if out > policy.max_out_of_range_share:
                    issues.append(
                        {
                            "check": "out_of_range",
                            "column": name,
                            "message": f"{out:.1%} of '{name}' lies outside the reference range "
                            f"[{ref['min']:.4g}, {ref['max']:.4g}]",
                        }
                    )
        if raw is not None and name in raw.columns:
            markers = set(profile.get("markers", {}).get(name, []))
            share = unreadable_share(raw[name], series, markers)
            entry["unreadable_share"] = share
            # what the reference itself could not read is its normal state, not news
            baseline = float(profile.get("unreadable", {}).get(name, 0.0))
            tail = 0.0
            if ref["kind"] == "categorical":  # Good-Turing, as below
                counts = ref["counts"].values()
                tail = sum(1 for v in counts if v == 1) / max(sum(counts), 1)
            n_ref = int(profile.get("unreadable_n", {}).get(name, 0))
            n_cur = int(raw[name].astype("string").str.strip().fillna("").ne("").sum())
            if share > baseline + policy.max_unseen_share + tail and _proportion_up(
                baseline, n_ref, share, n_cur
            ):
                what = (
                    "categories the reference never saw"
                    if ref["kind"] == "categorical"
                    else "values the cleaning recipe cannot read"
                )
                issues.append(
                    {
                        "check": "unseen_categories" if ref["kind"] == "categorical" else "schema",
                        "column": name,
                        "message": f"{share:.1%} of '{name}' are {what}",
                    }
                )
        if ref["kind"] == "categorical" and OTHER not in ref["counts"]:
            values = series.dropna().astype(str)
            if len(values):
                unseen_mask = ~values.isin(list(ref["counts"]))
                share = float(unseen_mask.mean())
                entry["unseen_share"] = share
                # Good-Turing: the reference's singletons estimate the mass of categories a
                # sample of its size misses, so a long tail does not raise false alarms
                counts = ref["counts"].values()
                missing_mass = sum(1 for v in counts if v == 1) / max(sum(counts), 1)
                entry["expected_unseen_share"] = missing_mass
                if share > policy.max_unseen_share + missing_mass:
                    examples = sorted(set(values[unseen_mask].head(1000)))[:3]
                    entry["unseen_examples"] = len(examples)
                    issues.append(
                        {
                            "check": "unseen_categories",
                            "column": name,
                            "message": f"{share:.1%} of '{name}' are categories the reference "
                            "never saw",
                        }
                    )
        columns[name] = entry
    return {"schema": schema, "columns": columns, "issues": issues}
