"""Render the run record as a self-contained HTML report and a Markdown model card.

See :mod:`apprentice.report` for the record keys. ``write_report`` never fails on a missing
or malformed section: the section says "not computed" instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apprentice._version import __version__
from apprentice.errors import ConfigError, InputError
from apprentice.evaluate.metrics import bounded
from apprentice.report import svg
from apprentice.report.limits import risks
from apprentice.report.svg import fmt

HTML_NAME = "report.html"
CARD_NAME = "model_card.md"
RECORD_NAME = "run.json"
MAX_GROUPS_SHOWN = 40
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
         9: 2.262, 10: 2.228}  # fmt: skip
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_report` wrote the report and the model card."""

    html: Path
    model_card: Path


def _map(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping) and not ("error" in value and len(value) == 1):
        return value
    return {}


def _error(value: Any) -> str | None:
    if isinstance(value, Mapping) and "error" in value and len(value) == 1:
        return str(value["error"])
    return None


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _safe(text: Any, limit: int = 200) -> str:
    from apprentice.guard import safe_display

    return safe_display(str(text), limit=limit)


def _label(value: Any) -> str:
    from apprentice.evaluate.fairness import category_label

    return category_label(value, 5, limit=40)


# --------------------------------------------------------------------------- sections


def _data(record: Mapping[str, Any]) -> dict[str, Any]:
    data = _map(record.get("data"))
    cleaning = _map(record.get("cleaning"))
    read = _map(cleaning.get("read"))
    facts: list[tuple[str, str]] = []
    source = data.get("source") or cleaning.get("source") or read.get("source")
    if source:
        facts.append(("source", _safe(source)))
    if data.get("fingerprint"):
        facts.append(("fingerprint (SHA-256)", str(data["fingerprint"])))
    rows = data.get("rows", cleaning.get("rows"))
    if rows is not None:
        facts.append(("rows", fmt(rows)))
    columns = data.get("columns", cleaning.get("columns"))
    if isinstance(columns, list | tuple):
        columns = len(columns)
    if columns is not None:
        facts.append(("columns", fmt(columns)))
    quarantined = data.get("quarantined", read.get("rows_quarantined"))
    if quarantined is not None:
        facts.append(("rows quarantined when reading", fmt(quarantined)))
    for key in ("encoding", "format"):
        if read.get(key):
            facts.append((key, str(read[key])))
    lines = [str(x) for x in cleaning.get("ledger", []) or [] if str(x).strip()]
    if not lines:
        lines = _ledger_lines(record.get("ledger"))
    return {"facts": facts, "cleaning": lines, "pii": _pii(record, cleaning)}


def _ledger_lines(ledger: Any) -> list[str]:
    if not isinstance(ledger, list):
        return []
    out = []
    for entry in ledger[:60]:
        if not isinstance(entry, Mapping):
            continue
        parts = [str(entry.get(k)) for k in ("stage", "action", "column") if entry.get(k)]
        reason = entry.get("reason") or entry.get("detail")
        out.append(" ".join(parts) + (f": {reason}" if reason else ""))
    return out


def _pii(record: Mapping[str, Any], cleaning: Mapping[str, Any]) -> dict[str, Any] | None:
    pii = _map(record.get("pii")) or _map(cleaning.get("pii"))
    if not pii:
        return None
    findings = _map(pii.get("findings")) or pii
    columns = _map(findings.get("pii_columns")) or _map(pii.get("columns"))
    protection = _map(pii.get("protection"))
    actions: dict[str, list[str]] = {}
    for key, label in (
        ("excluded_from_features", "excluded from the features"),
        ("pseudonymised", "pseudonymised with the workspace key"),
        ("redacted", "redacted from the ledger"),
        ("masked", "masked in every display"),
    ):
        value = protection.get(key)
        names = list(value.keys()) if isinstance(value, Mapping) else list(value or [])
        for name in names:
            actions.setdefault(str(name), []).append(label)
    rows = [
        {"column": str(c), "kind": str(k), "action": ", ".join(actions.get(str(c), [])) or "-"}
        for c, k in columns.items()
    ]
    # every other finding of the record (low confidence: the column stays a feature), so the
    # report never says "no personal data" where the record holds a finding
    listed = {str(c) for c in columns}
    for finding in findings.get("findings") or []:
        if not isinstance(finding, Mapping) or str(finding.get("column")) in listed:
            continue
        column = str(finding.get("column"))
        listed.add(column)
        done = [*actions.get(column, []), "kept as a feature, its PII cells treated as missing"]
        rows.append(
            {
                "column": column,
                "kind": f"{finding.get('kind')} ({finding.get('confidence')} confidence)",
                "action": ", ".join(done),
            }
        )
    return {"rows": rows}


def _t(folds: int) -> float:
    return _T975.get(folds - 1, 2.0) if folds >= 2 else math.nan


#: the named baselines, by family (the best model of the family is the baseline)
_BASELINE_OF = {"dummy": "constant baseline", "linear": "linear baseline"}


def _leaderboard(record: Mapping[str, Any]) -> dict[str, Any] | None:
    board = record.get("leaderboard")
    if not isinstance(board, list) or not board:
        return None
    metric = str(record.get("metric") or "")
    key = f"cv_{metric}" if metric else None
    if key is None or not any(isinstance(r, Mapping) and key in r for r in board):
        key = next(
            (k for r in board if isinstance(r, Mapping) for k in r if str(k).startswith("cv_")
             and k != "cv_std"),
            None,
        )  # fmt: skip
    rows, bars, highlight = [], [], []
    named: set[str] = set()  # each named baseline marked once: the best of its family
    for r in board:
        if not isinstance(r, Mapping):
            continue
        role = _BASELINE_OF.get(str(r.get("family", "")))
        status_ok = str(r.get("status", "")) in ("ok", "truncated")
        if role is not None and (role in named or not status_ok):
            role = None
        if role is not None:
            named.add(role)
        mean = _num(r.get(key)) if key else None
        std = _num(r.get("cv_std"))
        folds = int(_num(r.get("folds")) or 0)
        low = high = None
        if mean is not None and std is not None and folds >= 2:
            half = _t(folds) * std / math.sqrt(folds)
            low, high = bounded(str(key).removeprefix("cv_"), mean - half, mean + half)
        rows.append(
            {
                "rank": r.get("rank"),
                "model": str(r.get("model", "")),
                "family": str(r.get("family", "")),
                "mean": fmt(mean, 4),
                "interval": f"[{fmt(low, 4)}, {fmt(high, 4)}]" if low is not None else "-",
                "std": fmt(std, 3),
                "folds": folds or "-",
                "status": str(r.get("status", "")),
                "champion": bool(r.get("champion")),
                "note": "; ".join(x for x in (role, str(r.get("note") or "")) if x),
            }
        )
        if mean is not None:
            bars.append({"label": str(r.get("model", "")), "value": mean, "low": low,
                         "high": high})  # fmt: skip
            highlight.append(bool(r.get("champion")))
    chart = (
        svg.bars(
            bars,
            title="cross-validated score by model",
            xlabel=f"{key or 'score'} (95% interval over folds)",
            highlight=highlight,
        )
        if bars
        else None
    )
    label = (key or "score").removeprefix("cv_")
    return {"metric": label, "rows": rows, "svg": chart}


def _metrics(record: Mapping[str, Any]) -> list[dict[str, str]]:
    out = []
    for name, value in _map(record.get("metrics")).items():
        if isinstance(value, Mapping):
            out.append(
                {
                    "name": str(name),
                    "value": fmt(value.get("value"), 4),
                    "interval": f"[{fmt(value.get('low'), 4)}, {fmt(value.get('high'), 4)}]",
                }
            )
    return out


def _verdict(c: Mapping[str, Any]) -> str:
    """``X beats Y`` or ``no evidence that X beats Y``, from the test's fields."""
    claim = f"{c.get('a')} beats {c.get('b')}"
    if not c.get("better"):
        claim = "no evidence that " + claim
    weight = _num(c.get("weight"))
    if weight is not None and weight < 1:
        claim += f" ({c.get('b')} is {weight:.0%} of {c.get('a')})"
    return claim


def _comparisons(record: Mapping[str, Any]) -> list[dict[str, str]]:
    out = []
    for c in record.get("comparisons") or []:
        if isinstance(c, Mapping):
            out.append(
                {
                    "against": f"{c.get('b')} ({c.get('role')})",
                    "metric": str(c.get("metric")),
                    "difference": fmt(c.get("difference"), 4),
                    "interval": f"[{fmt(c.get('low'), 4)}, {fmt(c.get('high'), 4)}]",
                    "p": fmt(c.get("p_value"), 3),
                    "verdict": _verdict(c),
                }
            )
    return out


def _interval(value: Mapping[str, Any]) -> str:
    return f"{fmt(value.get('value'), 4)} [{fmt(value.get('low'), 4)}, {fmt(value.get('high'), 4)}]"


def _retrain(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """A retrain's decision (promote or keep), why, and the paired evidence on the newest
    labelled rows, which neither the champion nor this challenger was trained on."""
    decision = _map(record.get("retrain"))
    gate = _map(decision.get("gate"))
    if not gate:
        return None
    metrics = _map(decision.get("metrics"))
    rows = [
        {
            "name": str(name),
            "champion": _interval(_map(value)),
            "challenger": _interval(_map(_map(metrics.get("challenger")).get(name))),
        }
        for name, value in _map(metrics.get("champion")).items()
    ]
    champion = _map(decision.get("champion"))
    label = (
        f"{champion.get('name')} version {champion.get('version')}"
        if champion.get("name")
        else _safe(champion.get("bundle") or "the champion")
    )
    return {
        "decision": str(decision.get("decision") or "-"),
        "reason": _safe(decision.get("reason") or "", limit=500),
        "champion": label,
        "metric": str(gate.get("metric")),
        "value_champion": fmt(gate.get("champion"), 4),
        "value_challenger": fmt(gate.get("challenger"), 4),
        "difference": fmt(gate.get("difference"), 4),
        "interval": f"[{fmt(gate.get('low'), 4)}, {fmt(gate.get('high'), 4)}]",
        "p": fmt(gate.get("p_value"), 3),
        "drifting": "yes" if gate.get("drifting") else "no",
        "holdout_rows": fmt(decision.get("holdout_rows")),
        "training_rows": fmt(decision.get("training_rows")),
        "metrics": rows,
    }


def _plots(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    plots = _map(record.get("plots"))
    out: list[dict[str, Any]] = []
    confusion = _map(plots.get("confusion"))
    if confusion.get("matrix"):
        out.append(
            {
                "title": "Confusion matrix",
                "svg": svg.heatmap(
                    confusion["matrix"], confusion.get("labels", []), title="confusion matrix"
                ),
                "caption": "holdout counts; rows are the true class, columns the prediction",
            }
        )
    roc = _map(plots.get("roc"))
    if roc.get("points"):
        out.append(
            {
                "title": "ROC curve",
                "svg": svg.lines(
                    [{"name": f"AUC {fmt(roc.get('auc'))}", "points": roc["points"]}],
                    title="ROC curve",
                    xlabel="false positive rate",
                    ylabel="true positive rate",
                    diagonal=True,
                ),
                "caption": "the dashed line is a model that guesses",
            }
        )
    pr = _map(plots.get("pr"))
    if pr.get("points"):
        out.append(
            {
                "title": "Precision-recall curve",
                "svg": svg.lines(
                    [{"name": f"AP {fmt(pr.get('average_precision'))}", "points": pr["points"]}],
                    title="precision-recall curve",
                    xlabel="recall",
                    ylabel="precision",
                    hline=_num(pr.get("prevalence")),
                ),
                "caption": "the dashed line is the share of positives (a model that guesses)",
            }
        )
    calib = _map(record.get("calibration"))
    bins = [b for b in calib.get("bins", []) or [] if isinstance(b, Mapping)]
    if bins:
        points = [[b.get("mean_predicted"), b.get("observed")] for b in bins]
        out.append(
            {
                "title": "Calibration",
                "svg": svg.lines(
                    [{"name": f"ECE {fmt(calib.get('ece'))}", "points": points}],
                    title="calibration",
                    xlabel=f"predicted probability ({calib.get('kind', '')})",
                    ylabel="observed frequency",
                    diagonal=True,
                    markers=True,
                ),
                "caption": "points on the diagonal mean the probabilities can be taken at face "
                "value",
            }
        )
    resid = _map(plots.get("residuals"))
    if resid.get("points"):
        out.append(
            {
                "title": "Residuals",
                "svg": svg.scatter(
                    resid["points"],
                    title="residuals",
                    xlabel="predicted",
                    ylabel="actual - predicted",
                    hline=0.0,
                ),
                "caption": "a pattern (a curve, a funnel) means the errors depend on the value",
            }
        )
    avp = _map(plots.get("actual_vs_predicted"))
    if avp.get("points"):
        out.append(
            {
                "title": "Actual against predicted",
                "svg": svg.scatter(
                    avp["points"],
                    title="actual against predicted",
                    xlabel="predicted",
                    ylabel="actual",
                    diagonal=True,
                ),
                "caption": "points on the dashed line are exact predictions",
            }
        )
    hist = _map(plots.get("residual_histogram"))
    if hist.get("counts"):
        out.append(
            {
                "title": "Residual distribution",
                "svg": svg.histogram(
                    hist["counts"],
                    hist.get("edges", []),
                    title="residual distribution",
                    xlabel="actual - predicted",
                ),
                "caption": "",
            }
        )
    return out


_SPACE = {
    "log_odds": "log-odds",
    "margin": "class score",
    "probability": "probability",
    "value": "predicted value",
    "loss": "loss increase when shuffled",
    "prediction": "prediction change when shuffled",
}


def _importance(record: Mapping[str, Any]) -> dict[str, Any] | None:
    explain = _map(record.get("explain"))
    items = [i for i in explain.get("importance", []) or [] if isinstance(i, Mapping)]
    if not items:
        return None
    space = _SPACE.get(str(explain.get("space")), str(explain.get("space")))
    top = items[:15]
    bars = svg.bars(
        [{"label": str(i.get("feature")), "value": _num(i.get("mean_abs")) or 0.0} for i in top],
        title="importance by column",
        xlabel=f"mean |contribution| ({space})",
    )
    summary = [dict(s) for s in explain.get("summary") or [] if isinstance(s, Mapping)]
    swarm = (
        svg.beeswarm(summary[:12], title="SHAP summary", xlabel=f"contribution ({space})")
        if summary
        else None
    )
    return {
        "method": str(explain.get("method")),
        "space": space,
        "rows": explain.get("n_rows"),
        "bars": bars,
        "swarm": swarm,
        "table": [
            {
                "feature": str(i.get("feature")),
                "mean_abs": fmt(i.get("mean_abs"), 4),
                "share": f"{(_num(i.get('share')) or 0):.1%}",
            }
            for i in top
        ],
        "notes": [str(n) for n in explain.get("notes", []) or []],
    }


def _interval_text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    low, high = row.get(f"{key}_low"), row.get(f"{key}_high")
    if low is None or high is None:
        return fmt(value)
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def _fairness(record: Mapping[str, Any]) -> dict[str, Any] | None:
    fairness = _map(record.get("fairness"))
    if not fairness:
        return None
    task = str(fairness.get("task") or record.get("task") or "")
    metrics = (
        ["selection_rate", "tpr", "fpr", "accuracy"]
        if task == "binary"
        else ["accuracy"]
        if task == "multiclass"
        else ["mae", "mean_error"]
    )
    groups = [g for g in fairness.get("groups", []) or [] if isinstance(g, Mapping)]
    summary = _map(fairness.get("summary"))
    columns = []
    for name in fairness.get("columns", []) or []:
        every = [g for g in groups if g.get("column") == name]
        rows = [g for g in every if not g.get("small")][:MAX_GROUPS_SHOWN]
        rows += [g for g in every if g.get("small")][: max(0, MAX_GROUPS_SHOWN - len(rows))]
        hidden = len(every) - len(rows)
        table = [
            {
                "group": str(g.get("group")),
                "n": fmt(g.get("n")),
                "small": bool(g.get("small")),
                "values": [_interval_text(g, m) for m in metrics],
            }
            for g in rows
        ]
        main = metrics[0]
        chart = svg.bars(
            [
                {
                    "label": str(g.get("group")),
                    "value": _num(g.get(main)),
                    "low": _num(g.get(f"{main}_low")),
                    "high": _num(g.get(f"{main}_high")),
                }
                for g in rows
            ],
            title=f"{main} by group of {name}",
            xlabel=f"{main.replace('_', ' ')} (95% interval)",
            highlight=[bool(g.get("small")) for g in rows],
            highlight_colour=svg.AMBER,
        )
        s = _map(summary.get(name))
        gaps = []
        for key in (
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equalized_odds_difference",
            "accuracy_difference",
            "mae_difference",
            "mae_ratio",
            "mean_error_difference",
        ):
            if key in s:
                interval = s.get(f"{key}_interval") or [None, None]
                fl = _map(s.get("fairlearn")).get(key)
                gaps.append(
                    {
                        "name": key.replace("_", " "),
                        "value": fmt(s.get(key)),
                        "interval": f"[{fmt(interval[0])}, {fmt(interval[1])}]"
                        if interval[0] is not None
                        else "-",
                        "fairlearn": fmt(fl) if fl is not None else "-",
                    }
                )
        columns.append(
            {"name": str(name), "table": table, "svg": chart, "gaps": gaps,
             "small": [str(x) for x in s.get("small_groups", []) or []],
             "more": hidden}
        )  # fmt: skip
    return {
        "metrics": [m.replace("_", " ") for m in metrics],
        "columns": columns,
        "notes": [str(n) for n in fairness.get("notes", []) or []],
        "min_group": fairness.get("min_group"),
        "positive": fairness.get("positive_class"),
    }


def _slices(record: Mapping[str, Any]) -> dict[str, Any] | None:
    slices = record.get("error_slices")
    if not isinstance(slices, list):
        return None
    rows = [s for s in slices if isinstance(s, Mapping)]
    significant = [s for s in rows if s.get("significant")]
    shown = significant[:12] if significant else rows[:5]
    table = [
        {
            "feature": str(s.get("feature")),
            "slice": str(s.get("slice")),
            "n": fmt(s.get("n")),
            "error": f"{fmt(s.get('error'))} [{fmt(s.get('low'))}, {fmt(s.get('high'))}]",
            "overall": fmt(s.get("overall")),
            "p": fmt(s.get("p_adjusted")),
            "significant": bool(s.get("significant")),
        }
        for s in shown
    ]
    chart = None
    if shown:
        overall = _num(shown[0].get("overall"))
        chart = svg.bars(
            [
                {
                    "label": f"{s.get('feature')} {s.get('slice')}",
                    "value": _num(s.get("error")),
                    "low": _num(s.get("low")),
                    "high": _num(s.get("high")),
                }
                for s in shown
            ],
            title="error by slice",
            xlabel="holdout error (dashed: overall)",
            reference=overall,
            highlight=[bool(s.get("significant")) for s in shown],
        )
    return {
        "tested": len(rows),
        "significant": len(significant),
        "rows": table,
        "svg": chart,
    }


def _reproduce(record: Mapping[str, Any]) -> dict[str, Any]:
    rep = _map(record.get("reproduce"))
    command = rep.get("command")
    if not command:
        source = _map(record.get("data")).get("source") or "DATA"
        parts = ["apprentice", "run", _safe(source), "--target", str(record.get("target", "T"))]
        split = _map(record.get("split"))
        seed = rep.get("seed", split.get("seed"))
        budget = rep.get("time_budget", record.get("time_budget"))
        trials = rep.get("max_trials", record.get("max_trials"))
        if budget is not None:
            parts += ["--time-budget", fmt(budget)]
        if trials is not None:
            parts += ["--max-trials", fmt(trials)]
        if seed is not None:
            parts += ["--seed", fmt(seed)]
        command = " ".join(parts)
    versions = _map(rep.get("versions"))
    model = _map(record.get("model"))
    registered = None
    if model.get("name"):
        registered = f"{model.get('name')} version {model.get('version', '?')}"
        if model.get("alias"):
            registered += f" (alias {model.get('alias')})"
    git = _map(record.get("git"))
    commit = None
    if git.get("commit"):
        commit = str(git["commit"]) + (" (uncommitted changes)" if git.get("dirty") else "")
    return {
        "command": _safe(command, limit=2000),
        "versions": [(str(k), str(v)) for k, v in versions.items()],
        "bundle": _safe(record["bundle"]) if record.get("bundle") else None,
        "registered": registered,
        "git": commit,
    }


def _overview(record: Mapping[str, Any]) -> dict[str, Any]:
    metric = str(record.get("metric") or "")
    metrics = _map(record.get("metrics"))
    head = _map(metrics.get(metric)) if metric in metrics else {}
    if not head and metrics:
        metric, first = next(iter(metrics.items()))
        head = _map(first)
    classes = record.get("classes")
    return {
        "champion": str(record.get("champion") or _map(record.get("model")).get("name") or "-"),
        "task": str(record.get("task") or "-"),
        "target": str(record.get("target") or "-"),
        "classes": [_label(c) for c in classes] if isinstance(classes, list) else None,
        "metric": metric or "-",
        "value": fmt(head.get("value"), 4) if head else "not computed",
        "interval": f"[{fmt(head.get('low'), 4)}, {fmt(head.get('high'), 4)}]" if head else "",
        "threshold": _threshold(record),
        "split": _map(record.get("split")),
    }


def _threshold(record: Mapping[str, Any]) -> str | None:
    """The decision threshold, stated once with what uses it (binary models only)."""
    from apprentice.evaluate.metrics import threshold_text

    value = record.get("threshold")
    if record.get("task") != "binary" or not isinstance(value, int | float):
        return None
    source = record.get("threshold_source")
    return threshold_text(float(value), source if isinstance(source, str) else None)


def context(record: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the templates show, computed from the record alone."""
    if not isinstance(record, Mapping):
        raise ConfigError("the run record must be a mapping (the content of run.json)")
    purpose = record.get("purpose") or (
        f"Predict '{record.get('target', 'the target')}' "
        f"({record.get('task', 'unknown task')}) from the other columns of the table."
    )
    return {
        "run_id": str(record.get("run_id") or "-"),
        "created_at": str(record.get("created_at") or "-"),
        "version": str(record.get("apprentice_version") or __version__),
        "rendered_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "purpose": str(purpose),
        "intended_use": str(
            record.get("intended_use")
            or "Decision support on rows like the training data, with a person reviewing the "
            "outcome. Not for decisions about individuals without human review, nor for data "
            "unlike the training data (see Risks and limits)."
        ),
        "overview": _overview(record),
        "retrain": _retrain(record),
        "data": _data(record),
        "leaderboard": _leaderboard(record),
        "metrics": _metrics(record),
        "comparisons": _comparisons(record),
        "cv": _map(record.get("cv")),
        "plots": _plots(record),
        "plots_error": _error(record.get("plots")),
        "importance": _importance(record),
        "importance_error": _error(record.get("explain")),
        "fairness": _fairness(record),
        "fairness_error": _error(record.get("fairness")),
        "suggested": [str(c) for c in record.get("sensitive_suggested") or []],
        "slices": _slices(record),
        "slices_error": _error(record.get("error_slices")),
        "risks": risks(record),
        "reproduce": _reproduce(record),
        "warnings": [str(w) for w in record.get("warnings") or []],
    }


def notebook_html(record: Mapping[str, Any], *, top: int = 10) -> Any:
    """A run in a notebook cell: the headline, holdout metrics with intervals, the paired
    tests, the top of the leaderboard, the risks and the key plots (an HTML fragment with its
    own scoped style; the full report stays in ``report.html``)."""
    ctx = _with_svg(context(record))
    report = _map(record.get("report")).get("html")
    ctx["report_name"] = Path(str(report)).name if report else None
    ctx["top"] = top
    return _environment(markdown=False).get_template("notebook.html.j2").render(**ctx)


# --------------------------------------------------------------------------- rendering


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value: Any) -> str:
    """Text safe inside Markdown (and a table cell): HTML and Markdown syntax escaped."""
    if value is None:
        return ""
    text = str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"[\r\n]+", " ", text)


def _environment(markdown: bool) -> Any:
    import jinja2
    from markupsafe import Markup

    loader = jinja2.PackageLoader("apprentice.report", "templates")
    if markdown:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=lambda v: v if isinstance(v, Markup) else md_escape(v),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=jinja2.ChainableUndefined,
        )
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.ChainableUndefined,
        )
    env.filters["fmt"] = lambda v, digits=3: fmt(
        None if isinstance(v, jinja2.Undefined) else v, digits
    )
    return env


def render_html(record: Mapping[str, Any]) -> str:
    """The report as one HTML document (inline CSS and SVG, no script, no request)."""
    ctx = _with_svg(context(record))
    return str(_environment(False).get_template("report.html.j2").render(csp=CSP, **ctx))


def _with_svg(ctx: dict[str, Any]) -> dict[str, Any]:
    """The context with its inline SVG charts marked safe (they are built here, escaped)."""
    from markupsafe import Markup

    for plot in ctx["plots"]:
        plot["svg"] = Markup(plot["svg"])
    for key in ("leaderboard", "importance", "slices"):
        section = ctx.get(key)
        if section:
            for name in ("svg", "bars", "swarm"):
                if section.get(name):
                    section[name] = Markup(section[name])
    if ctx["fairness"]:
        for column in ctx["fairness"]["columns"]:
            column["svg"] = Markup(column["svg"])
    return ctx


def render_model_card(record: Mapping[str, Any]) -> str:
    """The model card as Markdown (every value escaped)."""
    ctx = context(record)
    return str(_environment(True).get_template("model_card.md.j2").render(**ctx))


def load_record(
    run: str | Path, *, workspace: str | Path | None = None
) -> tuple[dict[str, Any], Path]:
    """The record of a run and its folder: ``run`` is a run folder, a ``run.json`` file, or a
    run id under the workspace (``<workspace>/runs/<id>/run.json``)."""
    candidates: list[Path] = []
    path = Path(run)
    if path.is_file():
        candidates.append(path)
    candidates.append(path / RECORD_NAME)
    if workspace is None:
        from apprentice.config import get_settings

        workspace = get_settings().workspace
    if not any(sep in str(run) for sep in ("/", "\\")) and str(run) not in ("", ".", ".."):
        candidates.append(Path(workspace) / "runs" / str(run) / RECORD_NAME)
    for candidate in candidates:
        if candidate.is_file():
            try:
                record = json.loads(candidate.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputError(
                    f"{candidate} is not a valid run record (JSON); rerun apprentice run"
                ) from None
            if not isinstance(record, dict):
                raise InputError(f"{candidate} is not a run record (expected a JSON object)")
            return record, candidate.parent
    runs = Path(workspace) / "runs"
    known = (
        sorted(p.name for p in runs.iterdir() if (p / RECORD_NAME).is_file())
        if runs.is_dir()
        else []
    )
    hint = (
        f"; known runs: {', '.join(known[-5:])}" if known else f"; no run is recorded under {runs}"
    )
    raise InputError(f"no run '{run}': pass a run folder or a run id" + hint)


def write_report(record: Mapping[str, Any], out_dir: str | Path) -> ReportPaths:
    """Write ``report.html`` and ``model_card.md`` for ``record`` into ``out_dir``."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder; choose another output folder")
    out.mkdir(parents=True, exist_ok=True)
    html = out / HTML_NAME
    card = out / CARD_NAME
    html.write_text(render_html(record), encoding="utf-8")
    card.write_text(render_model_card(record), encoding="utf-8")
    return ReportPaths(html=html, model_card=card)
