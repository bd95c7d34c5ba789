"""``apprentice retrain``: champion / challenger with a statistical gate.

The challenger is trained with the champion's search settings on the champion's training data
plus the new labelled rows, except the most recent ones: those form the decision holdout that
neither model has seen. The challenger's training is an ``apprentice run`` (its own run
folder with ``run.json``, ``report.html`` and ``model_card.md``, an MLflow run, a registered
version with its model and score) whose holdout is exactly those rows, given to the split step
of :mod:`apprentice.workflows.train`. Both models predict them; a one-sided paired bootstrap
test (:func:`apprentice.evaluate.paired_test`) says whether the challenger is better. The
challenger is promoted only when it is better (p < alpha), or when the champion is drifting
on the new data and the challenger is shown to be no worse (the lower end of the 95% interval
of the difference is above ``-margin``). The decision and its evidence go to the run record
(key ``retrain``), its report and model card, ``decision.json`` in the run folder and, for a
registered model, the MLflow run (a promotion moves ``champion`` to the challenger's version
and gives the old champion the alias ``previous``; a refused challenger keeps the alias
``challenger`` and the champion is untouched).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.errors import ApprenticeError, ConfigError, TargetError
from apprentice.workflows.run import RunObserver

if TYPE_CHECKING:
    from apprentice.bundle import Bundle
    from apprentice.config import Settings
    from apprentice.workflows.run import RunResult

ALPHA = 0.05
MARGIN = 0.01
#: the smallest improvement worth a promotion, relative to the champion's metric value: a
#: challenger trained on more rows of the same distribution is better by a trivial amount,
#: which a large holdout would call significant
MIN_GAIN = 0.002
PREVIOUS = "previous"
#: in the challenger's run folder: its report (which holds the decision) and the decision
REPORT = "report.html"
DECISION = "decision.json"


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
    promote, reason = _verdict(
        comparison, better=better, non_inferior=non_inferior, drifting=drifting, margin=margin
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


def _verdict(
    comparison: Any, *, better: bool, non_inferior: bool, drifting: bool, margin: float
) -> tuple[bool, str]:
    """Promote or not, and why, in words (the interval is the challenger's gain)."""
    interval = f"95% CI {comparison.low:.4g} to {comparison.high:.4g}"
    if better:
        return True, (
            f"the challenger beats the champion ({comparison.p_text}; the gain is at least "
            f"{comparison.low:.4g} with 95% confidence)"
        )
    if drifting and non_inferior:
        return True, (
            f"the champion is drifting and the challenger is no worse (gain {interval}, above "
            f"-{margin})"
        )
    reason = f"no evidence that the challenger beats the champion ({interval}, {comparison.p_text})"
    if drifting:
        reason += f", nor that it is no worse by more than {margin}"
    return False, reason


@dataclass
class RetrainDecision:
    """What :func:`retrain` decided, and why. ``out`` is the challenger's run folder."""

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

    @property
    def report(self) -> Path:
        """The challenger's run report, which holds the decision."""
        return self.out / REPORT

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
            "report": str(self.report),
            "warnings": self.warnings,
        }


@dataclass
class _Plan:
    """One retrain's champion and rows, before the challenger is trained."""

    settings: Settings
    tracking_uri: str | None
    path: Path
    resolved: Any  # the registry record of a registered champion, else None
    champion: Bundle
    #: the champion's training rows, the older new rows, then the decision holdout
    table: pd.DataFrame
    #: positions of the decision holdout (the newest labelled rows) in ``table``
    holdout: np.ndarray
    #: the labelled new rows, in time order (the champion's drift is measured on them)
    new: pd.DataFrame
    time_column: str | None

    @property
    def target(self) -> str:
        return str(self.champion.target)


class _Progress(RunObserver):
    """The challenger's run stages as progress lines."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def stage_finished(self, stage: str, seconds: float, summary: str = "") -> None:
        self.say(f"challenger {stage} ({seconds:.1f} s){': ' + summary if summary else ''}")


def _read_rows(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True)
    from apprentice.read import read

    return read(str(data)).table.reset_index(drop=True)


def _resolve(model: str, tracking_uri: str | None, settings: Settings) -> tuple[Path, Any]:
    """The champion's bundle folder and, for a registered model, its registry record."""
    if Path(model).is_dir():
        return Path(model), None
    from apprentice.track import resolve_model

    resolved = resolve_model(model, tracking_uri=tracking_uri, settings=settings)
    return resolved.path, resolved


def _new_rows(
    champion: Bundle,
    *,
    data: Any,
    from_feedback: bool,
    db_url: str | None,
    time_column: str | None,
) -> tuple[pd.DataFrame, str | None]:
    """The labelled new rows, oldest first (by ``time_column`` when given), and that column."""
    target = str(champion.target)
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
    return new, time_column


def _plan(
    model: str,
    *,
    data: Any,
    from_feedback: bool,
    db_url: str | None,
    base: Any,
    holdout_share: float,
    time_column: str | None,
    tracking_uri: str | None,
    settings: Settings,
) -> _Plan:
    """The champion, and the table the challenger's run reads: the champion's training rows
    and the new rows, the newest ``holdout_share`` of them held out for the decision."""
    from apprentice.bundle import load_bundle

    if (data is None) == (not from_feedback):
        raise ConfigError("pass exactly one of --data FILE or --from-feedback")
    if not 0.05 <= holdout_share <= 0.8:
        raise ConfigError("--holdout-share must lie between 0.05 and 0.8")
    path, resolved = _resolve(model, tracking_uri, settings)
    champion = load_bundle(path)
    if champion.target is None:
        raise TargetError("the champion's bundle names no target column")
    new, time_column = _new_rows(
        champion, data=data, from_feedback=from_feedback, db_url=db_url, time_column=time_column
    )
    n_hold = round(len(new) * holdout_share)
    if n_hold < 50:
        raise TargetError(
            f"{len(new)} labelled new rows leave {n_hold} for the decision holdout; at least 50 "
            "are needed (add labelled rows or raise --holdout-share)"
        )
    base_rows = _read_rows(base if base is not None else _source(champion.manifest))
    if champion.target not in base_rows.columns:
        raise TargetError(
            f"the champion's training data has no target column '{champion.target}'; pass it "
            "with --base FILE"
        )
    columns = list(base_rows.columns)
    table = pd.concat([base_rows, new.reindex(columns=columns)], ignore_index=True).astype(object)
    table = table.where(table.notna(), "")
    _check_classes(new, table, champion)
    holdout = np.arange(len(table) - n_hold, len(table))
    return _Plan(settings, tracking_uri, path, resolved, champion, table, holdout, new, time_column)


def _check_classes(new: pd.DataFrame, table: pd.DataFrame, champion: Bundle) -> None:
    """The challenger must predict the champion's classes (else a paired test means nothing):
    checked before anything is trained."""
    if champion.task == "regression":
        return
    from apprentice.learn.task import prepare_target
    from apprentice.monitor.profile import encode_target

    target = str(champion.target)
    labels = new[target].astype(str).str.strip()
    unknown = labels[encode_target(new[target], champion.task, champion.classes) < 0].unique()
    if len(unknown):
        shown = ", ".join(repr(str(u)) for u in unknown[:5])
        raise TargetError(
            f"the new rows hold {len(unknown)} class(es) the champion does not know ({shown}; "
            f"it predicts {', '.join(str(c) for c in champion.classes or [])}): a challenger "
            "could not be compared with it; train a new model with apprentice run"
        )
    info = prepare_target(table[target], name=target, task=champion.task)
    if [str(c) for c in info.classes or []] != [str(c) for c in champion.classes or []]:
        raise TargetError(
            "the new data has other classes than the champion's "
            f"({info.classes} vs {champion.classes}); retrain with apprentice run"
        )


def _drift(plan: _Plan) -> tuple[dict[str, Any] | None, list[str]]:
    """The champion's drift on the new rows (for the non-inferiority path)."""
    from apprentice.monitor import check

    if not plan.champion.manifest.get("profile"):
        return None, ["the champion has no reference profile: its drift is not known"]
    drop = [plan.time_column] if plan.time_column else []
    result = check(plan.champion, plan.new.drop(columns=drop))
    drifting = is_drifting(result.alerts)
    return {"alerts": result.alerts, "score": result.score, "drifting": drifting}, []


#: the monitor's alerts that say the champion's inputs or outputs moved (the joint check
#: included: a category whose numbers moved is drift though every column's shares held)
DRIFT_CHECKS = frozenset({"feature_drift", "joint_drift", "prediction_drift"})


def is_drifting(alerts: list[dict[str, Any]]) -> bool:
    """Whether the monitor's ``alerts`` say the champion is drifting (the gate then promotes
    a challenger that is proven no worse)."""
    return any(a.get("check") in DRIFT_CHECKS for a in alerts)


def _search_settings(
    manifest: dict[str, Any],
    *,
    time_budget: float | None,
    max_trials: int | None,
    families: tuple[str, ...] | None,
) -> dict[str, Any]:
    """The champion's search settings, unless given: its budget, trials, metric and the
    families of its leaderboard."""
    if families is None:
        from apprentice.learn.models import FAMILIES

        tried = {str(r.get("family")) for r in manifest.get("leaderboard") or []}
        families = tuple(f for f in FAMILIES if f in tried and f != "dummy") or None
    budget = time_budget if time_budget is not None else manifest.get("time_budget")
    return {
        "time_budget": budget or None,
        "max_trials": max_trials if max_trials is not None else manifest.get("max_trials"),
        "metric": manifest.get("metric"),
        "families": families,
    }


def _train_challenger(plan: _Plan, search: dict[str, Any], *, seed: int, say: Any) -> RunResult:
    """The challenger as an ``apprentice run`` whose holdout is the decision holdout; for a
    registered champion it is tracked and registered under the champion's name."""
    from apprentice.workflows.run import default_name, run

    registered = plan.resolved is not None
    say(
        f"challenger: {len(plan.table) - len(plan.holdout):,} training rows (the champion's "
        f"and the older new rows); decision holdout: the {len(plan.holdout):,} most recent rows"
    )
    return run(
        plan.table,
        target=plan.target,
        name=plan.resolved.name if registered else default_name(str(plan.path), plan.target),
        task=plan.champion.task,
        holdout_rows=plan.holdout.tolist(),
        drop_columns=_challenger_drops(plan),
        seed=seed,
        n_boot=200,
        track=registered,
        tracking_uri=plan.tracking_uri,
        settings=plan.settings,
        report=False,  # written once the decision is known
        observer=_Progress(say),
        **search,
    )


def _challenger_drops(plan: _Plan) -> dict[str, str]:
    """The columns the challenger never uses, with why: the time column that orders the new
    rows, and the champion's identifiers (appended rows can repeat an id or break its rise
    with row order, so the challenger's own guard may no longer see one: a customer number
    scored again every month would become a feature)."""
    from apprentice.learn import ID_REASONS

    drops: dict[str, str] = {}
    if plan.time_column and plan.time_column in plan.table.columns:
        drops[plan.time_column] = "the time column that orders the new rows"
    excluded = plan.champion.manifest.get("excluded_columns") or {}
    for column, why in excluded.items():
        if why in ID_REASONS and column in plan.table.columns and column != plan.target:
            drops[column] = f"an identifier in the champion's training data: {why}"
    return drops


def _decide(
    plan: _Plan,
    record: RunResult,
    *,
    drifting: bool,
    alpha: float,
    margin: float,
    n_boot: int,
    seed: int,
) -> tuple[Gate, dict[str, dict[str, Any]], int]:
    """Both models on the rows the challenger's run held out: the gate, each model's
    metrics at its own decision threshold, and the number of rows."""
    from apprentice.evaluate import holdout_metrics, metrics_to_dict
    from apprentice.monitor.profile import encode_target
    from apprentice.workflows.compare import read_holdout
    from apprentice.workflows.train import PAIRED_METRIC

    champion, challenger = plan.champion, record.load_bundle()
    positions = np.asarray(read_holdout(record)["positions"], dtype=np.int64)
    rows = plan.table.iloc[positions].reset_index(drop=True)
    y = encode_target(rows[plan.target], champion.task, champion.classes)
    keep = np.isfinite(y) if champion.task == "regression" else y >= 0
    features = rows.drop(columns=[plan.target])[keep].reset_index(drop=True)
    y = y[keep]
    predictions = {
        "champion": champion._output(features),
        "challenger": challenger._output(features),
    }
    metric = PAIRED_METRIC.get(str(champion.manifest.get("metric")), "accuracy")
    if champion.task == "multiclass" and metric == "f1":
        metric = "f1_macro"
    evidence = gate(
        champion.task, metric, y, predictions["champion"], predictions["challenger"],
        drifting=drifting, alpha=alpha, margin=margin, n_boot=n_boot, seed=seed,
        threshold=champion.threshold,
    )  # fmt: skip
    models = {"champion": champion, "challenger": challenger}
    metrics = {
        role: metrics_to_dict(
            holdout_metrics(
                champion.task, y, pred, threshold=models[role].threshold, n_boot=200, seed=seed
            )
        )
        for role, pred in predictions.items()
    }
    return evidence, metrics, len(y)


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
    tracking_uri: str | None = None,
    progress: Callable[[str], None] | None = None,
    settings: Settings | None = None,
) -> RetrainDecision:
    """Train a challenger for ``model`` (a bundle folder or a registered name) and decide.

    The challenger's run folder (``decision.out``) holds its record, report and model card,
    each with the decision; see the module docstring for the registry."""
    from apprentice.config import get_settings

    say = progress or (lambda _m: None)
    plan = _plan(
        model, data=data, from_feedback=from_feedback, db_url=db_url, base=base,
        holdout_share=holdout_share, time_column=time_column, tracking_uri=tracking_uri,
        settings=settings or get_settings(),
    )  # fmt: skip
    drift, warnings = _drift(plan)
    search = _search_settings(
        plan.champion.manifest, time_budget=time_budget, max_trials=max_trials, families=families
    )
    record = _train_challenger(plan, search, seed=seed, say=say)
    try:
        decision = _judge(
            plan, record, drift, warnings, alpha=alpha, margin=margin, n_boot=n_boot, seed=seed
        )
        say(("promote: " if decision.promoted else "keep the champion: ") + decision.gate.reason)
        command = _command(
            model, data, from_feedback, base=base, holdout_share=holdout_share,
            time_column=time_column, time_budget=time_budget, max_trials=max_trials, seed=seed,
        )  # fmt: skip
        _publish(plan, record, decision, command)
    except BaseException as exc:
        _note_failure(record, exc)
        raise
    return decision


def _judge(
    plan: _Plan,
    record: RunResult,
    drift: dict[str, Any] | None,
    warnings: list[str],
    **gate_options: Any,
) -> RetrainDecision:
    """The gate on the challenger's run, and the decision with its evidence."""
    drifting = bool(drift and drift["drifting"])
    evidence, metrics, n_rows = _decide(plan, record, drifting=drifting, **gate_options)
    return RetrainDecision(
        gate=evidence,
        champion=_champion_info(plan),
        challenger=_challenger_info(record),
        holdout_rows=n_rows,
        training_rows=len(plan.table) - len(plan.holdout),
        new_rows=len(plan.new),
        metrics=metrics,
        out=record.path,
        drift=drift,
        warnings=warnings + list(record.warnings),
    )


def _publish(plan: _Plan, record: RunResult, decision: RetrainDecision, command: str) -> None:
    """The registry (tags, numbers, aliases), then the record, report and card, then their
    copies on the MLflow run."""
    if plan.resolved is not None:
        decision.registry = _record_in_registry(plan, record, decision)
    _write_decision(record, decision, command)
    if plan.resolved is not None:
        _attach_files(record, _tracker(plan))


def _note_failure(record: RunResult, exc: BaseException) -> None:
    """A challenger trained but not judged: its record says so (the error goes on)."""
    message = exc.message if isinstance(exc, ApprenticeError) else type(exc).__name__
    record.warnings.append(
        f"the retrain failed after this challenger was trained ({message}): no decision was "
        "recorded; the registry's aliases say which model serves"
    )
    with contextlib.suppress(OSError):  # the original error matters more
        record.save()


def _source(manifest: dict[str, Any]) -> str:
    from apprentice.storage import is_url

    source = manifest.get("source")
    if is_url(source):
        return str(source)  # read from the store (a missing object says so)
    if not source or not Path(str(source)).is_file():
        raise ConfigError(
            "the champion's training data is not available here (it was trained from a "
            "DataFrame, or the file moved); pass it with --base FILE"
        )
    return str(source)


def _champion_info(plan: _Plan) -> dict[str, Any]:
    info: dict[str, Any] = {
        "bundle": str(plan.path),
        "model": (plan.champion.manifest.get("model") or {}).get("name"),
    }
    if plan.resolved is not None:
        info.update(name=plan.resolved.name, version=plan.resolved.version)
    return info


def _challenger_info(record: RunResult) -> dict[str, Any]:
    return {
        "bundle": record.bundle,
        "model": record.champion,
        "run_id": record.run_id,
        "run": str(record.path),
        "registered": record.model,
    }


def _command(model: str, data: Any, from_feedback: bool, **options: Any) -> str:
    """The command that repeats this retrain (a DataFrame shows as ``dataframe``); ``options``
    are the command's other options by their Python names, left out when ``None``."""
    import shlex

    def name(value: Any) -> str:
        return "dataframe" if isinstance(value, pd.DataFrame) else str(value)

    parts = ["apprentice", "retrain", "--model", model]
    parts += ["--from-feedback"] if from_feedback else ["--data", name(data)]
    for key, value in options.items():
        if value is not None:
            parts += ["--" + key.replace("_", "-"), name(value)]
    return shlex.join(parts)


def _tracker(plan: _Plan) -> Any:
    from apprentice.track import Tracker

    return Tracker(plan.tracking_uri, settings=plan.settings)


def _record_in_registry(
    plan: _Plan, record: RunResult, decision: RetrainDecision
) -> dict[str, Any]:
    """The decision on the challenger's MLflow run (tags and the gate's numbers); on a
    promotion, ``champion`` moves to the challenger's version and the old champion becomes
    ``previous``. A refused challenger keeps its alias ``challenger``."""
    from apprentice.track import promote

    resolved, tracker = plan.resolved, _tracker(plan)
    run_id = str((record.tracking or {}).get("run_id"))
    g = decision.gate
    tracker.set_tags(
        run_id,
        {
            "apprentice.kind": "retrain",
            "apprentice.decision": "promote" if g.promote else "keep",
            "apprentice.reason": g.reason[:250],
            "apprentice.champion_version": str(resolved.version),
        },
    )
    numbers = {f"gate_{k}": getattr(g, k) for k in ("p_value", "difference", "low", "high")}
    for role, values in decision.metrics.items():
        numbers.update({f"{role}_{name}": float(iv["value"]) for name, iv in values.items()})
    tracker.log_metrics(run_id, numbers)
    info: dict[str, Any] = {"run_id": run_id, "registered": record.model}
    if g.promote and record.model is not None:
        promote(tracker, resolved.name, resolved.version, alias=PREVIOUS)
        info["promotion"] = promote(tracker, resolved.name, record.model["version"]).to_dict()
        record.model["alias"] = "champion"
    return info


def _write_decision(record: RunResult, decision: RetrainDecision, command: str) -> None:
    """The decision into the challenger's record, its report and model card, and
    ``decision.json``."""
    from apprentice.workflows.run import write_run_report

    payload = decision.to_dict()
    record.retrain = payload
    record.reproduce["command"] = command
    record.report = write_run_report(record, record.path)
    record.save()
    (record.path / DECISION).write_text(
        json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8"
    )


def _attach_files(record: RunResult, tracker: Any) -> None:
    """The record with the decision, the report, the card and ``decision.json`` on the MLflow
    run (the run itself closed when the challenger was registered)."""
    from apprentice.workflows.run import RECORD

    files = [(record.path / RECORD, ""), (record.path / DECISION, "")]
    for key in ("html", "model_card"):
        if record.report and record.report.get(key):
            files.append((Path(record.report[key]), "report"))
    tracker.add_artifacts(str((record.tracking or {}).get("run_id")), files)
