"""Data quality drift: schema violations, missing-rate jumps, unseen categories, out-of-range
values, each against the reference profile."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apprentice.monitor.policy import QualityPolicy


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
    from apprentice.clean.markers import MISSING_TOKENS
    from apprentice.monitor.drift import OTHER
    from apprentice.monitor.profile import numeric_values, unparsed

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
            bad = unparsed(raw[name], series)
            folded = bad.str.casefold()
            bad = bad[~bad.isin(markers) & ~folded.isin(MISSING_TOKENS)]
            filled = raw[name].astype("string").str.strip()
            n_filled = int((filled.notna() & (filled != "")).sum())
            share = len(bad) / n_filled if n_filled else 0.0
            entry["unreadable_share"] = share
            tail = 0.0
            if ref["kind"] == "categorical":  # Good-Turing, as below
                counts = ref["counts"].values()
                tail = sum(1 for v in counts if v == 1) / max(sum(counts), 1)
            if share > policy.max_unseen_share + tail:
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
