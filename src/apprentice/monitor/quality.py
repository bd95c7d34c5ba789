"""Data quality drift: schema violations, missing-rate jumps, unseen categories, out-of-range
values, each against the reference profile.

Each finding needs both a threshold and a test: a share above its policy threshold is news
only when it is also more than a sample of that size from the reference would show, judged
with the reference's own size. The tests of one check run share ``QualityPolicy.alpha``
(Bonferroni over the columns and checks), so a run on unchanged data alerts with at most that
probability. "Missing" means a cell that was empty or a missing-value marker in the raw row;
a filled cell the recipe could not map (a category the reference never saw, free text in a
text-like column) is counted as unseen or unreadable, never as missing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apprentice.monitor.policy import QualityPolicy


def _proportion_up(p_ref: float, n_ref: int, p_cur: float, n_cur: int, level: float) -> bool:
    """One-sided two-proportion z-test at ``level``: is the current share really above the
    reference's? (Without a reference count, the threshold alone decides.)"""
    from scipy.stats import norm

    if n_ref <= 0 or n_cur <= 0:
        return True
    pooled = (p_ref * n_ref + p_cur * n_cur) / (n_ref + n_cur)
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur)))
    return se == 0 or (p_cur - p_ref) / se > float(norm.isf(level))


def _beyond_range(count: int, n: int, n_ref: int, level: float) -> bool:
    """Are ``count`` of ``n`` values outside the reference's [min, max] more than a sample of
    that size from the reference's distribution would give? A new value from the same
    continuous distribution falls outside the range of ``n_ref`` reference values with
    probability 2 / (n_ref + 1); the binomial upper tail decides."""
    from scipy.stats import binom

    if n_ref <= 0:
        return True
    p0 = min(2.0 / (n_ref + 1), 1.0)
    return float(binom.sf(count - 1, n, p0)) < level


#: unseen values kept (in order) for the examples count of an unseen-categories finding
FIRST_UNSEEN = 1000


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
    return quality_verdicts(
        profile,
        quality_counts(profile, current, raw=raw),
        rows=len(current),
        raw_columns=raw_columns,
        input_columns=input_columns,
        policy=policy,
    )


def quality_counts(
    profile: dict[str, Any], current: pd.DataFrame, *, raw: pd.DataFrame | None = None
) -> dict[str, dict[str, Any]]:
    """Per column, the counts the quality verdicts come from. They add up across chunks of
    rows (``unseen_first``, the first unseen values, concatenates in row order), see
    :func:`merge_quality_counts`."""
    from apprentice.clean.markers import MISSING_TOKENS
    from apprentice.monitor.drift import OTHER
    from apprentice.monitor.profile import numeric_values, unparsed

    out: dict[str, dict[str, Any]] = {}
    if len(current) == 0:
        return out
    for name, ref in profile["features"].items():
        if name not in current.columns:
            continue
        series = current[name]
        absent = series.isna().to_numpy()
        entry: dict[str, Any] = {"missing": int(absent.sum())}
        if ref["kind"] == "numeric" and ref.get("min") is not None:
            values = numeric_values(series)
            finite = values[np.isfinite(values)]
            entry["finite"] = len(finite)
            entry["out_of_range"] = int(np.sum((finite < ref["min"]) | (finite > ref["max"])))
        if raw is not None and name in raw.columns:
            markers = set(profile.get("markers", {}).get(name, []))
            bad = unparsed(raw[name], series)
            bad = bad[~bad.isin(markers) & ~bad.str.casefold().isin(MISSING_TOKENS)]
            text = raw[name].astype("string").str.strip()
            entry["bad"] = len(bad)
            entry["filled"] = int((text.notna() & (text != "")).sum())
            # a filled cell the recipe could not map is unseen or unreadable, not missing
            entry["missing"] = int(absent.sum()) - len(bad)
        if ref["kind"] == "categorical" and OTHER not in ref["counts"]:
            values = series.dropna().astype(str)
            unseen_mask = ~values.isin(list(ref["counts"]))
            entry["values"] = len(values)
            entry["unseen"] = int(unseen_mask.sum())
            entry["unseen_first"] = values[unseen_mask].head(FIRST_UNSEEN).tolist()
        out[name] = entry
    return out


def merge_quality_counts(
    a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The counts of two chunks of rows together (``a``'s rows first)."""
    out = {name: dict(entry) for name, entry in a.items()}
    for name, entry in b.items():
        if name not in out:
            out[name] = dict(entry)
            continue
        merged = out[name]
        for key, value in entry.items():
            if key == "unseen_first":
                merged[key] = (merged.get(key, []) + value)[:FIRST_UNSEEN]
            else:
                merged[key] = merged.get(key, 0) + value
    return out


def quality_verdicts(
    profile: dict[str, Any],
    counts: dict[str, dict[str, Any]],
    *,
    rows: int,
    raw_columns: list[str] | None,
    input_columns: list[str],
    policy: QualityPolicy,
) -> dict[str, Any]:
    """Findings per check from :func:`quality_counts` over ``rows`` current rows."""
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
    tested = [name for name in profile["features"] if name in counts]
    # three tests per column share the family's level (Bonferroni)
    level = policy.alpha / max(3 * len(tested), 1)
    n_ref_rows = int(profile.get("rows", 0))
    for name, ref in profile["features"].items():
        if name not in counts or rows == 0:
            continue
        found = counts[name]
        entry: dict[str, Any] = {}
        missing = found["missing"] / rows
        entry["missing_rate"] = missing
        entry["reference_missing_rate"] = float(ref.get("missing_rate", 0.0))
        jump = missing - entry["reference_missing_rate"]
        if jump > policy.max_missing_increase and _proportion_up(
            entry["reference_missing_rate"], n_ref_rows, missing, rows, level
        ):
            issues.append(
                {
                    "check": "missing_rate",
                    "column": name,
                    "message": f"'{name}' is missing in {missing:.1%} of rows "
                    f"(reference {entry['reference_missing_rate']:.1%})",
                }
            )
        if found.get("finite"):
            out = found["out_of_range"] / found["finite"]
            entry["out_of_range_share"] = out
            entry["expected_out_of_range_share"] = min(2.0 / (int(ref.get("n", 0)) + 1), 1.0)
            if out > policy.max_out_of_range_share and _beyond_range(
                found["out_of_range"], found["finite"], int(ref.get("n", 0)), level
            ):
                issues.append(
                    {
                        "check": "out_of_range",
                        "column": name,
                        "message": f"{out:.1%} of '{name}' lies outside the reference range "
                        f"[{ref['min']:.4g}, {ref['max']:.4g}]",
                    }
                )
        if "filled" in found:
            filled = found["filled"]
            share = found["bad"] / filled if filled else 0.0
            entry["unreadable_share"] = share
            # what the reference itself could not read is its normal state, not news
            baseline = float(profile.get("unreadable", {}).get(name, 0.0))
            tail = 0.0
            if ref["kind"] == "categorical":  # Good-Turing, as below
                ref_counts = ref["counts"].values()
                tail = sum(1 for v in ref_counts if v == 1) / max(sum(ref_counts), 1)
            n_ref = int(profile.get("unreadable_n", {}).get(name, 0))
            if share > baseline + policy.max_unseen_share + tail and _proportion_up(
                baseline + tail, n_ref, share, filled, level
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
        if found.get("values"):
            share = found["unseen"] / found["values"]
            entry["unseen_share"] = share
            # Good-Turing: the reference's singletons estimate the mass of categories a
            # sample of its size misses, so a long tail does not raise false alarms
            ref_counts = ref["counts"].values()
            missing_mass = sum(1 for v in ref_counts if v == 1) / max(sum(ref_counts), 1)
            entry["expected_unseen_share"] = missing_mass
            if share > policy.max_unseen_share + missing_mass and _proportion_up(
                missing_mass, int(ref.get("n", 0)), share, found["values"], level
            ):
                examples = sorted(set(found["unseen_first"]))[:3]
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
