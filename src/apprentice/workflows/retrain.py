"""``apprentice retrain``: champion / challenger with a statistical gate.

The challenger is trained with the champion's search settings on the champion's training data
plus the new labelled rows, except the most recent ones: those form the decision holdout that
neither model has seen. Both models predict it; a one-sided paired bootstrap test
(:func:`apprentice.evaluate.paired_test`) says whether the challenger is better. The
challenger is promoted only when it is better (p < alpha), or when the champion is drifting
on the new data and the challenger is shown to be no worse (the lower end of the 95% interval
of the difference is above ``-margin``). The decision, its evidence and both models' metrics
go to ``decision.json``, a short ``retrain.html`` and, for a registered model, MLflow (the
challenger is registered; a promotion moves ``champion`` to it and gives the old champion the
alias ``previous``).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import ConfigError, TargetError

ALPHA = 0.05
MARGIN = 0.01
#: the smallest improvement worth a promotion, relative to the champion's metric value: a
#: challenger trained on more rows of the same distribution is better by a trivial amount,
#: which a large holdout would call significant
MIN_GAIN = 0.002
PREVIOUS = "previous"


@dataclass(frozen=True)
class Gate:
    """The statistical evidence of one champion / challenger comparison."""

    metric: str
    champion: float
    challenger: float
    difference: float  # positive favours the challenger
    low: float
    high: float
    p_value: float
    better: bool
    non_inferior: bool
    drifting: bool
    promote: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {k: _finite(v) for k, v in self.__dict__.items()}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def gate(
    task: str,
    metric: str,
    y: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    *,
    drifting: bool = False,
    alpha: float = ALPHA,
    margin: float = MARGIN,
    min_gain: float = MIN_GAIN,
    n_boot: int = 1000,
    seed: int = 0,
    threshold: float | None = None,
) -> Gate:
    """Promote only a proven improvement, or a proven non-inferiority while drifting.

    Better: the one-sided paired bootstrap p-value is below ``alpha`` and the lower end of
    the 95% interval of the difference exceeds ``min_gain`` x the champion's value. No
    worse (while drifting): that lower end exceeds ``-margin``.
    """
    from apprentice.evaluate import paired_test

    comparison = paired_test(
        task,
        metric,
        y,
        challenger,
        champion,
        name_a="challenger",
        name_b="champion",
        role="champion",
        n_boot=n_boot,
        seed=seed,
        threshold=threshold,
    )
    floor = min_gain * abs(comparison.value_b) if math.isfinite(comparison.value_b) else 0.0
    better = bool(
        comparison.p_value < alpha
        and comparison.difference > 0
        and math.isfinite(comparison.low)
        and comparison.low > floor
    )
    non_inferior = bool(math.isfinite(comparison.low) and comparison.low > -margin)
    if better:
        promote, reason = (
            True,
            f"the challenger is better ({comparison.p_text}; the difference is at least "
            f"{comparison.low:.4g} with 95% confidence)",
        )
    elif drifting and non_inferior:
        promote, reason = (
            True,
            f"the champion is drifting and the challenger is no worse (difference "
            f">= {comparison.low:.4f} > -{margin})",
        )
    else:
        promote = False
        reason = f"the challenger is not shown to be better ({comparison.p_text})" + (
            "" if not drifting else f" nor no worse by more than {margin}"
        )
    return Gate(
        metric=metric,
        champion=comparison.value_b,
        challenger=comparison.value_a,
        difference=comparison.difference,
        low=comparison.low,
        high=comparison.high,
        p_value=comparison.p_value,
        better=better,
        non_inferior=non_inferior,
        drifting=drifting,
        promote=promote,
        reason=reason,
    )


@dataclass
class RetrainDecision:
    """What :func:`retrain` decided, and why."""

    gate: Gate
    champion: dict[str, Any]
    challenger: dict[str, Any]
    holdout_rows: int
    training_rows: int
    new_rows: int
    metrics: dict[str, dict[str, Any]]
    out: Path
    drift: dict[str, Any] | None = None
    registry: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        return self.gate.promote

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": "promote" if self.promoted else "keep",
            "reason": self.gate.reason,
            "gate": self.gate.to_dict(),
            "champion": self.champion,
            "challenger": self.challenger,
            "holdout_rows": self.holdout_rows,
            "training_rows": self.training_rows,
            "new_rows": self.new_rows,
            "metrics": self.metrics,
            "drift": self.drift,
            "registry": self.registry,
            "out": str(self.out),
            "report": str(self.out / "retrain.html"),
            "warnings": self.warnings,
        }


def _read_rows(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True)
    from apprentice.read import read

    return read(str(data)).table.reset_index(drop=True)


def _resolve(model: str, tracking_uri: str | None) -> tuple[Path, Any]:
    """The champion's bundle folder and, for a registered model, its registry record."""
    if Path(model).is_dir():
        return Path(model), None
    from apprentice.track import resolve_model

    resolved = resolve_model(model, tracking_uri=tracking_uri)
    return resolved.path, resolved


def retrain(
    model: str,
    *,
    data: Any = None,
    from_feedback: bool = False,
    db_url: str | None = None,
    base: Any = None,
    holdout_share: float = 0.3,
    time_column: str | None = None,
    alpha: float = ALPHA,
    margin: float = MARGIN,
    time_budget: float | None = None,
    max_trials: int | None = None,
    families: tuple[str, ...] | None = None,
    seed: int = 0,
    n_boot: int = 1000,
    out: str | Path | None = None,
    tracking_uri: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> RetrainDecision:
    """Train a challenger for ``model`` (a bundle folder or a registered name) and decide."""
    from apprentice.bundle import load_bundle, train
    from apprentice.monitor import attach_profile, build_profile, check
    from apprentice.monitor.profile import encode_target

    say = progress or (lambda _m: None)
    if (data is None) == (not from_feedback):
        raise ConfigError("pass exactly one of --data FILE or --from-feedback")
    if not 0.05 <= holdout_share <= 0.8:
        raise ConfigError("--holdout-share must lie between 0.05 and 0.8")
    path, resolved = _resolve(model, tracking_uri)
    champion = load_bundle(path)
    target = champion.target
    if target is None:
        raise TargetError("the champion's bundle names no target column")
    manifest = champion.manifest

    # -- data: the champion's training rows and the new labelled rows
    if from_feedback:
        from apprentice.monitor.log import read_log

        new = read_log(db_url, "3650d", champion)
        new = new.drop(columns=["__latency_ms"], errors="ignore")
        time_column = time_column or "__logged_at"
    else:
        new = _read_rows(data)
    if target not in new.columns:
        raise TargetError(f"the new data has no target column '{target}': it must be labelled")
    labels = new[target].astype("string").str.strip()
    new = new[labels.notna() & (labels != "")].reset_index(drop=True)
    if time_column is not None:
        if time_column not in new.columns:
            raise ConfigError(f"the time column '{time_column}' is not in the new data")
        order = pd.to_datetime(new[time_column], errors="coerce", utc=True).argsort(kind="stable")
        new = new.iloc[np.asarray(order)].reset_index(drop=True)
    n_hold = round(len(new) * holdout_share)
    if n_hold < 50:
        raise TargetError(
            f"{len(new)} labelled new rows leave {n_hold} for the decision holdout; at least 50 "
            "are needed (add labelled rows or raise --holdout-share)"
        )
    holdout = new.iloc[len(new) - n_hold :].reset_index(drop=True)
    new_train = new.iloc[: len(new) - n_hold]
    base_rows = _read_rows(base if base is not None else _source(manifest))
    columns = [c for c in base_rows.columns]
    combined = pd.concat([base_rows, new_train.reindex(columns=columns)], ignore_index=True).astype(
        object
    )
    combined = combined.where(combined.notna(), "")
    say(
        f"challenger: {len(base_rows):,} champion training rows + {len(new_train):,} new rows; "
        f"decision holdout: the {n_hold:,} most recent rows"
    )

    # -- the champion's drift on the new rows (for the non-inferiority path)
    drift: dict[str, Any] | None = None
    drifting = False
    warnings: list[str] = []
    if manifest.get("profile"):
        result = check(champion, new.drop(columns=[time_column] if time_column else []))
        drifting = any(a["check"] in ("feature_drift", "prediction_drift") for a in result.alerts)
        drift = {"alerts": result.alerts, "score": result.score, "drifting": drifting}
    else:
        warnings.append("the champion has no reference profile: its drift is not known")

    # -- the challenger, with the champion's search settings
    out_dir = Path(out) if out is not None else _default_out(path)
    out_dir.mkdir(parents=True, exist_ok=True)
    budget = time_budget if time_budget is not None else manifest.get("time_budget")
    if families is None:  # the champion's portfolio, from its leaderboard
        from apprentice.learn.models import FAMILIES

        tried = {str(r.get("family")) for r in manifest.get("leaderboard") or []}
        families = tuple(f for f in FAMILIES if f in tried and f != "dummy") or None
    trials = max_trials if max_trials is not None else manifest.get("max_trials")
    say("training the challenger with the champion's search settings")
    result_c = train(
        combined,
        target=target,
        time_budget=budget if (budget or trials is None) else None,
        max_trials=trials,
        metric=manifest.get("metric"),
        test_size=0.0,
        seed=seed,
        out=out_dir / "challenger",
        drop_columns=[c for c in (time_column,) if c and c in combined.columns],
        families=families,
        n_boot=200,
    )
    attach_profile(result_c.path, build_profile(result_c.bundle, holdout))
    challenger = load_bundle(result_c.path)
    if challenger.classes != champion.classes:
        raise TargetError(
            "the new data has other classes than the champion's "
            f"({challenger.classes} vs {champion.classes}); retrain with apprentice run"
        )

    # -- the same holdout through both models
    from apprentice.evaluate import holdout_metrics, metrics_to_dict
    from apprentice.workflows.train import PAIRED_METRIC as _PAIRED_METRIC

    y = encode_target(holdout[target], champion.task, champion.classes)
    keep = np.isfinite(y) if champion.task == "regression" else y >= 0
    rows = holdout.drop(columns=[target])[keep].reset_index(drop=True)
    y = y[keep]
    pred_champion = champion._output(rows)
    pred_challenger = challenger._output(rows)
    metric = _PAIRED_METRIC.get(str(manifest.get("metric")), "accuracy")
    if champion.task == "multiclass" and metric == "f1":
        metric = "f1_macro"
    evidence = gate(
        champion.task,
        metric,
        y,
        pred_champion,
        pred_challenger,
        drifting=drifting,
        alpha=alpha,
        margin=margin,
        n_boot=n_boot,
        seed=seed,
        threshold=champion.threshold,
    )
    # each model's label metrics at its own decision threshold: the labels it would serve
    metrics = {
        name: metrics_to_dict(
            holdout_metrics(
                champion.task, y, pred, threshold=model.threshold, n_boot=200, seed=seed
            )
        )
        for name, pred, model in (
            ("champion", pred_champion, champion),
            ("challenger", pred_challenger, challenger),
        )
    }
    decision = RetrainDecision(
        gate=evidence,
        champion={"bundle": str(path), **_registry_info(resolved)},
        challenger={"bundle": str(result_c.path), "model": result_c.champion},
        holdout_rows=len(y),
        training_rows=len(combined),
        new_rows=len(new),
        metrics=metrics,
        out=out_dir,
        drift=drift,
        warnings=warnings + list(result_c.warnings),
    )
    say(("promote: " if evidence.promote else "keep the champion: ") + evidence.reason)
    if resolved is not None:
        decision.registry = _record(resolved, decision, tracking_uri)
    (out_dir / "decision.json").write_text(
        json.dumps(decision.to_dict(), indent=2, default=str), encoding="utf-8"
    )
    (out_dir / "retrain.html").write_text(retrain_html(decision.to_dict()), encoding="utf-8")
    return decision


def _source(manifest: dict[str, Any]) -> str:
    source = manifest.get("source")
    if not source or not Path(str(source)).is_file():
        raise ConfigError(
            "the champion's training data is not available here (it was trained from a "
            "DataFrame, or the file moved); pass it with --base FILE"
        )
    return str(source)


def _default_out(path: Path) -> Path:
    from apprentice.config import get_settings

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return get_settings().workspace / "retrain" / f"{path.name}-{stamp}"


def _registry_info(resolved: Any) -> dict[str, Any]:
    if resolved is None:
        return {}
    return {"name": resolved.name, "version": resolved.version}


def _record(resolved: Any, decision: RetrainDecision, tracking_uri: str | None) -> dict[str, Any]:
    """Log the decision as an MLflow run, register the challenger, move the aliases."""
    from apprentice.track import RunLog, Tracker, promote, register_bundle

    tracker = Tracker(tracking_uri)
    g = decision.gate
    metrics: dict[str, float] = {
        "gate_p_value": g.p_value,
        "gate_difference": g.difference,
        "gate_low": g.low,
        "gate_high": g.high,
    }
    for role, values in decision.metrics.items():
        for name, interval in values.items():
            metrics[f"{role}_{name}"] = float(interval["value"])
    (decision.out / "retrain.html").write_text(retrain_html(decision.to_dict()), encoding="utf-8")
    log = RunLog(
        experiment=resolved.name,
        run_name=f"retrain-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}",
        params={
            "champion_version": resolved.version,
            "holdout_rows": decision.holdout_rows,
            "training_rows": decision.training_rows,
            "metric": g.metric,
            "drifting": g.drifting,
        },
        metrics=metrics,
        tags={
            "apprentice.kind": "retrain",
            "apprentice.decision": "promote" if g.promote else "keep",
            "apprentice.reason": g.reason[:250],
        },
        artifacts=[
            (Path(decision.challenger["bundle"]), "bundle"),
            (decision.out / "retrain.html", ""),
        ],
    )
    tracked = tracker.log_run(log)
    registration = register_bundle(
        tracker,
        name=resolved.name,
        run_id=tracked.run_id,
        source=f"{tracked.artifact_uri.rstrip('/')}/bundle",
        task=str(resolved.task),
        target=str(resolved.target),
        tags={"apprentice.decision": "promote" if g.promote else "keep"},
        description=f"retrain challenger: {g.reason}",
    )
    info: dict[str, Any] = {"run_id": tracked.run_id, "registered": registration.to_dict()}
    if g.promote:
        promote(tracker, resolved.name, resolved.version, alias=PREVIOUS)
        info["promotion"] = promote(tracker, resolved.name, registration.version).to_dict()
    return info


def retrain_html(decision: dict[str, Any]) -> str:
    """A short self-contained page: the decision, the evidence, both models' metrics."""
    e = html.escape
    g = decision["gate"]
    rows = "".join(
        f"<tr><td>{e(name)}</td>"
        + "".join(
            f"<td>{decision['metrics'][role][name]['value']:.4f} "
            f"[{decision['metrics'][role][name]['low']:.4f}, "
            f"{decision['metrics'][role][name]['high']:.4f}]</td>"
            for role in ("champion", "challenger")
        )
        + "</tr>"
        for name in decision["metrics"]["champion"]
    )

    def num(value: Any) -> str:
        return "n/a" if value is None else f"{value:.4g}"

    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>apprentice '
        "retrain</title><style>body{font-family:system-ui,sans-serif;margin:2em}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>retrain: {e(decision['decision'])}</h1><p>{e(decision['reason'])}</p>"
        f"<p>paired bootstrap on the {decision['holdout_rows']:,} most recent labelled rows "
        f"(seen by neither model): {e(g['metric'])} challenger - champion = "
        f"{num(g['difference'])} [{num(g['low'])}, {num(g['high'])}], one-sided "
        f"p = {num(g['p_value'])}; champion drifting: {g['drifting']}.</p>"
        f"<p>challenger trained on {decision['training_rows']:,} rows (the champion's "
        f"training data plus the older new rows).</p>"
        f"<table><tr><th>metric</th><th>champion</th><th>challenger</th></tr>{rows}</table>"
        "</body></html>"
    )
