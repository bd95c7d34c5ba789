"""**Risks and limits**, written from the evidence in the run record.

Each risk is ``{"level": "high" | "medium" | "note", "title": str, "detail": str}``; the
list is ordered high first. Every sentence is built from a number in the record (sizes,
intervals, gaps, shares, ranges); when a piece of evidence is absent the risk it would
support is not invented, and a note says what was not assessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from apprentice.report.svg import fmt

SMALL_HOLDOUT = 500
SMALL_TRAIN = 1000
MINORITY_SHARE = 0.10
WIDE_INTERVAL = 0.10
GAP = 0.10
MISSING_SHARE = 0.20
ECE_LIMIT = 0.05
BOUNDED = {"roc_auc", "pr_auc", "accuracy", "balanced_accuracy", "f1", "f1_macro", "brier", "r2"}
ORDER = {"high": 0, "medium": 1, "note": 2}


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _section(record: Mapping[str, Any], key: str) -> Any:
    value = record.get(key)
    if isinstance(value, Mapping) and "error" in value and len(value) == 1:
        return None
    return value


def _split(record: Mapping[str, Any]) -> Mapping[str, Any]:
    split = record.get("split")
    return split if isinstance(split, Mapping) else {}


def _sample(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    split = _split(record)
    train = _num(split.get("train_rows"))
    hold = _num(split.get("holdout_rows"))
    if hold is None:
        leakage = record.get("leakage") or {}
        hold = _num(leakage.get("holdout_rows")) if isinstance(leakage, Mapping) else None
    if hold is not None and hold < SMALL_HOLDOUT:
        out.append(
            {
                "level": "high" if hold < 100 else "medium",
                "title": "Small holdout",
                "detail": f"the holdout has {int(hold):,} rows: every holdout number below is "
                "uncertain, read the intervals rather than the point values",
            }
        )
    if train is not None and train < SMALL_TRAIN:
        out.append(
            {
                "level": "medium",
                "title": "Small training sample",
                "detail": f"the model learned from {int(train):,} rows; more data would likely "
                "change it",
            }
        )


def _imbalance(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    plots = _section(record, "plots")
    balance = plots.get("class_balance") if isinstance(plots, Mapping) else None
    if not isinstance(balance, Mapping):
        return
    counts = [float(c) for c in balance.get("counts", [])]
    labels = list(balance.get("labels", []))
    total = sum(counts)
    if total <= 0 or len(counts) < 2:
        return
    i = min(range(len(counts)), key=lambda j: counts[j])
    share = counts[i] / total
    if share < MINORITY_SHARE:
        out.append(
            {
                "level": "high" if share < 0.02 else "medium",
                "title": "Imbalanced classes",
                "detail": f"class '{labels[i] if i < len(labels) else i}' is {share:.1%} of the "
                f"holdout ({int(counts[i]):,} rows): accuracy flatters the model; look at "
                "recall, PR AUC and the confusion matrix",
            }
        )


def _leakage(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    leakage = record.get("leakage")
    if isinstance(leakage, Mapping):
        near = leakage.get("near_perfect") or {}
        kept = set(leakage.get("kept_despite_warning") or [])
        for column, score in dict(near).items():
            level = "high" if column in kept else "medium"
            what = "kept because you asked to" if column in kept else "excluded"
            out.append(
                {
                    "level": level,
                    "title": f"Possible target leak: {column}",
                    "detail": f"'{column}' predicts the target almost perfectly on its own "
                    f"(score {fmt(score)}) and was {what}; make sure it is known at "
                    "prediction time",
                }
            )
        for finding in leakage.get("findings") or []:
            if not isinstance(finding, Mapping) or finding.get("column") in near:
                continue
            level = "high" if finding.get("severity") == "high" else "medium"
            out.append(
                {
                    "level": level,
                    "title": f"Possible target leak: {finding.get('column')}",
                    "detail": f"{finding.get('message')} (kept in the model; the evidence "
                    "comes from a quick check on the training rows)",
                }
            )
        dup = _num(leakage.get("shared_duplicates"))
        if dup:
            out.append(
                {
                    "level": "medium",
                    "title": "Holdout rows copied in training",
                    "detail": f"{int(dup):,} holdout rows are exact copies of training rows: "
                    "holdout scores may be optimistic",
                }
            )
    excluded = record.get("excluded_columns")
    if isinstance(excluded, Mapping) and excluded:
        items = "; ".join(f"'{c}': {r}" for c, r in list(excluded.items())[:8])
        more = f" (and {len(excluded) - 8} more)" if len(excluded) > 8 else ""
        out.append(
            {
                "level": "note",
                "title": f"{len(excluded)} column(s) not used as features",
                "detail": items + more,
            }
        )


def _intervals(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    metrics = record.get("metrics")
    if not isinstance(metrics, Mapping) or not metrics:
        out.append(
            {
                "level": "high",
                "title": "No holdout evaluation",
                "detail": "there are no holdout metrics: the numbers are cross-validation "
                "estimates at best; evaluate the model on data of your own",
            }
        )
        return
    for name, value in metrics.items():
        if not isinstance(value, Mapping):
            continue
        low, high, point = _num(value.get("low")), _num(value.get("high")), _num(value.get("value"))
        if low is None or high is None or point is None:
            continue
        width = high - low
        wide = width > WIDE_INTERVAL if name in BOUNDED else width > 0.4 * abs(point)
        if wide:
            out.append(
                {
                    "level": "medium",
                    "title": f"Wide interval on {name}",
                    "detail": f"{name} is {fmt(point)} with a 95% interval [{fmt(low)}, "
                    f"{fmt(high)}]: the true value could be anywhere in that range",
                }
            )
    for comp in record.get("comparisons") or []:
        risk = _baseline_risk(comp)
        if risk is not None:
            out.append(risk)


def _baseline_risk(comp: Any) -> dict[str, str] | None:
    """A risk for a baseline the champion is not shown to beat, at the level the evidence
    earns: against the constant model (no evidence the model learned anything) high; against
    the linear model medium (a simpler model may do as well), or a note when the champion is
    an ensemble the linear model is part of. The runner-up is no risk."""
    if not isinstance(comp, Mapping) or comp.get("better"):
        return None
    role, a, b = comp.get("role"), comp.get("a"), comp.get("b")
    if role == "baseline":  # records written before the baselines had fixed names
        role = "constant baseline" if b == "dummy" else "linear baseline"
    evidence = (
        f"{a} vs {b} on {comp.get('metric')}: gain {fmt(comp.get('difference'))}, 95% CI "
        f"[{fmt(comp.get('low'))}, {fmt(comp.get('high'))}], p = {fmt(comp.get('p_value'))}"
    )
    if role == "constant baseline":
        return {
            "level": "high",
            "title": "No evidence of beating the constant baseline",
            "detail": f"{evidence}; there is no evidence that the model predicts better than "
            "a constant that uses no feature: do not rely on its predictions",
        }
    if role != "linear baseline":
        return None
    weight = _num(comp.get("weight"))
    if weight is not None:
        return {
            "level": "note",
            "title": "No evidence of beating the linear baseline",
            "detail": f"{evidence}; the linear model is {weight:.0%} of the ensemble, which "
            "may do no better than it alone",
        }
    return {
        "level": "medium",
        "title": "No evidence of beating the linear baseline",
        "detail": f"{evidence}; the simpler linear model may do as well: consider it",
    }


def _calibration(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    calib = record.get("calibration")
    if not isinstance(calib, Mapping):
        return
    ece = _num(calib.get("ece"))
    if ece is not None and ece > ECE_LIMIT:
        out.append(
            {
                "level": "medium",
                "title": "Probabilities are not well calibrated",
                "detail": f"the expected calibration error is {fmt(ece)}: predicted "
                "probabilities are off by that much on average; do not read them as exact "
                "risks without recalibrating",
            }
        )


def _fairness(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    fairness = _section(record, "fairness")
    suggested = record.get("sensitive_suggested") or []
    if isinstance(fairness, Mapping):
        for column, summary in (fairness.get("summary") or {}).items():
            if not isinstance(summary, Mapping):
                continue
            for key, label in (
                ("demographic_parity_difference", "selection rates"),
                ("equalized_odds_difference", "error rates (equalized odds)"),
                ("accuracy_difference", "accuracy"),
                ("mae_difference", "mean absolute error"),
            ):
                gap = _num(summary.get(key))
                if gap is None:
                    continue
                relevant = gap > GAP if key != "mae_difference" else False
                if key == "mae_difference":
                    ratio = _num(summary.get("mae_ratio"))
                    relevant = ratio is not None and ratio < 0.8
                if relevant:
                    interval = summary.get(f"{key}_interval") or [None, None]
                    shown = (
                        f" (95% interval [{fmt(interval[0])}, {fmt(interval[1])}])"
                        if interval[0] is not None and interval[1] is not None
                        else ""
                    )
                    out.append(
                        {
                            "level": "high",
                            "title": f"Subgroup gap in {label} by {column}",
                            "detail": f"the gap between groups of '{column}' is {fmt(gap)}"
                            f"{shown} among groups large enough to judge",
                        }
                    )
            small = summary.get("small_groups") or []
            if small:
                out.append(
                    {
                        "level": "medium",
                        "title": f"Groups too small to judge in {column}",
                        "detail": f"{len(small)} group(s) of '{column}' have fewer than "
                        f"{fairness.get('min_group')} holdout rows: "
                        + ", ".join(map(str, small[:8]))
                        + "; the model's behaviour for them is unknown",
                    }
                )
    elif suggested:
        out.append(
            {
                "level": "medium",
                "title": "Fairness not assessed",
                "detail": "columns that look sensitive were not assessed: "
                + ", ".join(f"'{c}'" for c in suggested)
                + "; rerun with --sensitive to measure group gaps",
            }
        )


def _slices(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    slices = _section(record, "error_slices")
    if not isinstance(slices, list):
        return
    bad = [s for s in slices if isinstance(s, Mapping) and s.get("significant")]
    if bad:
        shown = "; ".join(
            f"{s.get('feature')} {s.get('slice')} (n={s.get('n')}, error {fmt(s.get('error'))} "
            f"vs {fmt(s.get('overall'))})"
            for s in bad[:4]
        )
        out.append(
            {
                "level": "medium",
                "title": f"Worse on {len(bad)} slice(s) of the data",
                "detail": shown,
            }
        )


def _data(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    profile = _section(record, "profile")
    if isinstance(profile, Mapping):
        missing = [
            (c, _num(p.get("missing_share")) or 0.0)
            for c, p in profile.items()
            if isinstance(p, Mapping)
        ]
        many = sorted([(c, s) for c, s in missing if s > MISSING_SHARE], key=lambda cs: -cs[1])
        if many:
            out.append(
                {
                    "level": "medium",
                    "title": "Features with many missing values",
                    "detail": ", ".join(f"'{c}' {s:.0%}" for c, s in many[:8])
                    + " missing in the holdout: predictions lean on imputation there",
                }
            )
        outside = [
            (c, int(p.get("outside_train_range") or 0), p)
            for c, p in profile.items()
            if isinstance(p, Mapping) and p.get("outside_train_range")
        ]
        if outside:
            out.append(
                {
                    "level": "medium",
                    "title": "Holdout values outside the training range",
                    "detail": "; ".join(
                        f"'{c}': {k} row(s) outside [{fmt(p.get('train_min'))}, "
                        f"{fmt(p.get('train_max'))}]"
                        for c, k, p in outside[:6]
                    ),
                }
            )
    ranges = []
    schema = record.get("schema")
    for col in (schema or {}).get("columns", []) if isinstance(schema, Mapping) else []:
        if isinstance(col, Mapping) and col.get("minimum") is not None:
            ranges.append(
                f"{col.get('name')} [{_bound(col.get('minimum'))}, {_bound(col.get('maximum'))}]"
            )
    if ranges:
        out.append(
            {
                "level": "note",
                "title": "Ranges outside which the model extrapolates",
                "detail": "the training data covered "
                + "; ".join(ranges[:12])
                + ("; ..." if len(ranges) > 12 else "")
                + ". Outside these ranges, and for categories it never saw, predictions are "
                "guesses",
            }
        )
    quarantined = _num((record.get("data") or {}).get("quarantined"))
    if quarantined:
        out.append(
            {
                "level": "note",
                "title": "Rows left out when reading",
                "detail": f"{int(quarantined):,} malformed row(s) were quarantined and not used",
            }
        )


def _bound(value: Any) -> str:
    text = fmt(value)
    return text.removesuffix("T00:00:00") if isinstance(value, str) else text


PERFECT = {"roc_auc": 0.99, "pr_auc": 0.99, "accuracy": 0.99, "balanced_accuracy": 0.99,
           "r2": 0.99}  # fmt: skip


def _too_good(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    metrics = record.get("metrics")
    if not isinstance(metrics, Mapping):
        return
    for name, limit in PERFECT.items():
        value = metrics.get(name)
        point = _num(value.get("value")) if isinstance(value, Mapping) else None
        if point is not None and point >= limit:
            explain = _section(record, "explain")
            top = []
            if isinstance(explain, Mapping):
                top = [str(i.get("feature")) for i in (explain.get("importance") or [])[:3]
                       if isinstance(i, Mapping)]  # fmt: skip
            suspects = f"; the columns it leans on most: {', '.join(top)}" if top else ""
            out.append(
                {
                    "level": "high",
                    "title": "Suspiciously good holdout score",
                    "detail": f"{name} is {fmt(point, 4)} on the holdout: real problems are rarely "
                    "this easy, so check that no column is recorded after the outcome (a target "
                    f"leak){suspects}",
                }
            )
            return


def _explain(record: Mapping[str, Any], out: list[dict[str, str]]) -> None:
    explain = _section(record, "explain")
    if isinstance(explain, Mapping) and explain.get("method") == "permutation":
        out.append(
            {
                "level": "note",
                "title": "Approximate explanations",
                "detail": "importance comes from permutation, not SHAP: correlated columns share "
                "or hide each other's importance",
            }
        )


def risks(record: Mapping[str, Any]) -> list[dict[str, str]]:
    """The risks and limits the record's evidence supports (see the module docstring)."""
    out: list[dict[str, str]] = []
    for check in (
        _too_good,
        _intervals,
        _sample,
        _imbalance,
        _leakage,
        _fairness,
        _slices,
        _calibration,
        _data,
        _explain,
    ):
        check(record, out)
    leaks = (record.get("leakage") or {}) if isinstance(record.get("leakage"), Mapping) else {}
    flagged = [str(c) for c in dict(leaks.get("near_perfect") or {})]
    for warning in record.get("warnings") or []:
        text = str(warning)
        if any(f"'{c}' predicts the target" in text for c in flagged):
            continue  # already a "Possible target leak" risk
        if text.startswith("possible target leak ("):
            continue  # a review finding, already a "Possible target leak" risk
        if not any(text[:40] in r["detail"] for r in out):
            out.append({"level": "note", "title": "Training warning", "detail": text})
    out.append(
        {
            "level": "note",
            "title": "Change over time",
            "detail": "the model describes the data it was trained on; when the population or "
            "the way data is collected changes, its numbers stop holding: monitor it",
        }
    )
    return sorted(out, key=lambda r: ORDER.get(r["level"], 3))
