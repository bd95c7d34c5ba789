"""``apprentice watch``: the model after release, without a person in the loop.

One loop per registered model. On a schedule (``every``), and sooner when enough new labelled
feedback has arrived (``min_feedback``), a cycle runs the monitor on the prediction log. A
*confirmed degradation* (the performance check with labels: accuracy at the decision
threshold and, for a classifier, the mean log loss (:func:`log_loss_test`), the policy's level
shared between the two; or the label-free estimate when it can be trusted) starts
:func:`apprentice.workflows.retrain.retrain` on the champion's training rows plus the logged
rows that got feedback, within a time budget (:func:`retrain_budget`); its statistical gate
decides, and only a challenger shown better is promoted (the ``champion`` alias moves, and
every server that follows the alias swaps to it). Drift without a degradation is recorded,
not acted on: retraining on drift alone trades a known model for an unproven one.

Every cycle leaves a record of what was checked, what was decided and why: a line a person can
read in ``<workspace>/watch/<name>.log``, the full record in ``<name>.jsonl``, and an MLflow
run (tag ``apprentice.kind = watch``) in the model's experiment. A failed retrain is recorded
and the champion keeps serving. One loop at a time per model: an exclusive ``flock`` on
``<name>.lock``, which the kernel releases when the process dies, so a crash never leaves a
stale lock behind.

``serve --watch`` runs the same loop on a background thread of the server process
(:func:`background_watch`): the lock is taken before the server starts (a second loop is
refused at once), a cycle that fails is recorded and the loop goes on, and the server, which
follows the ``champion`` alias, swaps to what the loop promotes.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apprentice.config import Settings, get_settings
from apprentice.errors import ApprenticeError, ConfigError
from apprentice.monitor import Policy

log = logging.getLogger(__name__)

#: the checks whose alerts confirm a degradation (drift alone does not)
DEGRADATION = ("performance", "performance_log_loss", "estimated_performance")

#: fewer labelled rows in a window: its mean log loss is not tested (the normal
#: approximation of a mean of skewed per-row losses needs a few dozen rows)
MIN_LOSS_ROWS = 30

#: without a budget of its own, the champion's training seconds times this bound the retrain
BUDGET_FACTOR = 3.0

#: the least a derived retrain budget gives (a search, its evaluation, report and registry)
MIN_RETRAIN_BUDGET = 60.0


class WatchBusyError(ApprenticeError):
    """Another watch loop holds the model."""


@dataclass(frozen=True)
class WatchOptions:
    """How a watch loop runs; every field has a default a person can rely on."""

    every: float = 900.0  # seconds between scheduled checks
    min_feedback: int = 200  # this many new labelled rows trigger a check before the schedule
    since: str = "7d"  # the period of the log a check reads
    poll: float = 30.0  # seconds between looks at the feedback count
    retrain_budget: float | None = None  # the retrain's seconds (None: see retrain_budget())
    db_url: str | None = None
    tracking_uri: str | None = None
    policy: Policy = field(default_factory=Policy)

    def __post_init__(self) -> None:
        if self.every <= 0 or self.poll <= 0:
            raise ConfigError("--every and the poll interval must be positive durations")
        if self.min_feedback < 1:
            raise ConfigError("--min-feedback must be at least 1")
        budget = self.retrain_budget
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise ConfigError(
                f"the retrain budget {budget:g} is not a positive number of seconds "
                "(--retrain-budget; serve: --watch-retrain-budget); give e.g. 60, or leave it "
                "out to derive it from the champion's training"
            )


@dataclass
class Cycle:
    """What one cycle checked, what it decided and why."""

    model: str
    started_at: str
    trigger: str
    champion_version: int | None
    rows: int = 0
    labelled_rows: int = 0
    status: str = "ok"
    alerts: list[dict[str, Any]] = field(default_factory=list)
    degraded: bool = False
    decision: str = "no action"
    reason: str = ""
    log_loss: dict[str, Any] | None = None  # the loss test of a classifier (policy log_loss)
    retrain: dict[str, Any] | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        checks = ", ".join(sorted({str(a.get("check")) for a in self.alerts})) or "none"
        return (
            f"{self.started_at} {self.model} v{self.champion_version} [{self.trigger}] "
            f"{self.rows} rows ({self.labelled_rows} labelled), alerts: {checks} -> "
            f"{self.decision}: {self.reason}"
        )


def _folder(settings: Settings) -> Path:
    folder = settings.workspace.expanduser().resolve() / "watch"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def watch_lock(name: str, settings: Settings | None = None) -> Iterator[Path]:
    """Hold the one watch loop of ``name``; a second one is refused at once."""
    path = _folder(settings or get_settings()) / f"{name}.lock"
    handle: IO[str] = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WatchBusyError(
                f"a watch loop already runs for '{name}' ({holder}); stop it first, or wait "
                "for it: one loop per model"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC).isoformat(timespec='seconds')}")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing releases the lock


def _registered(model: str, tracking_uri: str | None) -> Any:
    """The model's registry record: watching needs a registered model (aliases move)."""
    from apprentice.track import parse_ref, resolve_model

    if Path(model).is_dir():
        raise ConfigError(
            f"{model} is a bundle folder; watch needs a registered model whose champion alias "
            "can move: register it with apprentice run (or models register) and pass its NAME"
        )
    name, version, alias = parse_ref(model)
    if version is not None or (alias is not None and alias != "champion"):
        raise ConfigError(f"watch follows the champion: pass the model's NAME, not {model!r}")
    return resolve_model(name, tracking_uri=tracking_uri)


def labelled_since(db_url: str | None, since: datetime) -> int:
    """How many feedback rows (labels) the log received after ``since``."""
    from apprentice.monitor.log import feedback_count

    return feedback_count(db_url, since)


def watch_cycle(model: str, options: WatchOptions, *, trigger: str) -> Cycle:
    """One cycle: check the log, and on a confirmed degradation retrain through the gate."""
    from apprentice.monitor import check
    from apprentice.monitor.log import read_log

    started = time.monotonic()
    resolved = _registered(model, options.tracking_uri)
    cycle = Cycle(
        model=resolved.name,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        trigger=trigger,
        champion_version=resolved.version,
    )
    bundle = resolved.load()
    try:
        raw = read_log(options.db_url, options.since, bundle)
    except ApprenticeError as exc:
        cycle.status, cycle.decision, cycle.reason = "no data", "no action", exc.message
        cycle.seconds = time.monotonic() - started
        return cycle
    cycle.rows = len(raw)
    if bundle.target is not None and bundle.target in raw.columns:
        cycle.labelled_rows = int(raw[bundle.target].notna().sum())
    policy = options.policy
    losses = policy.performance.log_loss and bundle.task != "regression"
    if losses:  # two tests of performance: the level is shared, so the stated rate holds
        half = replace(policy.performance, alpha=policy.performance.alpha / 2)
        policy = replace(policy, performance=half)
    result = check(bundle, raw, policy=policy, time_column="__logged_at")
    cycle.status, cycle.alerts = result.status, list(result.alerts)
    if losses and cycle.labelled_rows:
        cycle.log_loss = log_loss_test(bundle, raw, policy)
        alert = log_loss_alert(cycle.log_loss) if cycle.log_loss else None
        if alert is not None:
            cycle.alerts.append(alert)
            cycle.status = "alert"
    degradation = [a for a in cycle.alerts if a.get("check") in DEGRADATION]
    cycle.degraded = bool(degradation)
    if not degradation:
        cycle.reason = (
            "alerts without a degradation of performance: recorded, no retrain"
            if cycle.alerts
            else "no alert"
        )
        cycle.seconds = time.monotonic() - started
        return cycle
    cycle.reason = degradation[0]["message"]
    _retrain(cycle, resolved.name, options, bundle.manifest)
    cycle.seconds = time.monotonic() - started
    return cycle


def log_loss_test(bundle: Any, raw: Any, policy: Policy) -> dict[str, Any] | None:
    """The labelled rows' mean log loss per day of the log against the reference holdout's,
    by a two-sample test (Welch's normal approximation: the holdout's own mean and spread
    count), the windows together at ``performance.alpha`` (Bonferroni); a window alerts when
    it is also worse than the holdout by more than ``max_drop`` (relative). ``None`` when the
    profile has no reference loss (made before it was recorded) or no row has a known label.

    Accuracy at the decision threshold can miss a degradation the loss sees: a champion whose
    threshold sends most rows to the rare class (F1-tuned on a few positives) scores *higher*
    accuracy when the new world's labels move to that class, while its probabilities are
    wrong there (benchmarks/watch.py on census_income_kdd and bank_marketing)."""
    import numpy as np
    from scipy.stats import norm

    from apprentice.monitor.check import time_windows
    from apprentice.monitor.profile import (
        encode_target,
        load_profile,
        row_log_loss,
        typed_features,
    )

    ref = load_profile(bundle).get("reference_metrics", {})
    if ref.get("log_loss") is None or not ref.get("n") or bundle.target not in raw.columns:
        return None
    y = encode_target(raw[bundle.target], bundle.task, bundle.classes)
    known = np.flatnonzero(y >= 0)
    if not len(known):
        return None
    rows = raw.iloc[known].reset_index(drop=True)
    features = rows.drop(columns=[bundle.target])
    proba = bundle.predictor.predict_frame(typed_features(bundle, features))
    losses = row_log_loss(proba, y[known])
    windows = time_windows(rows, "__logged_at", "1D") if "__logged_at" in rows.columns else None
    keys = np.asarray(windows) if windows is not None else np.full(len(rows), "all")
    reference, sd_ref, n_ref = float(ref["log_loss"]), float(ref["log_loss_sd"]), int(ref["n"])
    tested = [k for k in dict.fromkeys(keys.tolist()) if (keys == k).sum() >= MIN_LOSS_ROWS]
    level = policy.performance.alpha / max(len(tested), 1)
    out: list[dict[str, Any]] = []
    for key in tested:
        mine = losses[keys == key]
        n, value, sd = len(mine), float(mine.mean()), float(mine.std(ddof=1))
        se = math.sqrt(sd * sd / n + sd_ref * sd_ref / n_ref)
        p = float(norm.sf((value - reference) / se)) if se > 0 else float(value <= reference)
        far = value > reference * (1 + policy.performance.max_drop)
        half = 1.96 * sd / math.sqrt(n)
        out.append(
            {
                "window": str(key),
                "rows": n,
                "log_loss": value,
                "low": value - half,
                "high": value + half,
                "p_value": p,
                "alert": bool(far and p < level),
            }
        )
    return {
        "metric": "log_loss",
        "reference": reference,
        "reference_rows": n_ref,
        "direction": "higher is worse",
        "alpha": policy.performance.alpha,
        "untested_rows": int(len(rows) - sum(w["rows"] for w in out)),
        "windows": out,
    }


def log_loss_alert(finding: dict[str, Any]) -> dict[str, Any] | None:
    """The alert of the loss test, naming the worst window; ``None`` when none is worse."""
    bad = [w for w in finding["windows"] if w["alert"]]
    if not bad:
        return None
    worst = max(bad, key=lambda w: w["log_loss"])
    return {
        "check": "performance_log_loss",
        "message": f"log loss rose above the reference {finding['reference']:.4g} (holdout of "
        f"{finding['reference_rows']} rows) in {len(bad)} of {len(finding['windows'])} "
        f"window(s); worst {worst['window']}: {worst['log_loss']:.4g} [95% CI "
        f"{worst['low']:.4g}, {worst['high']:.4g}] over {worst['rows']} labelled rows, "
        f"p = {worst['p_value']:.2g}",
    }


def retrain_budget(options: WatchOptions, manifest: dict[str, Any]) -> tuple[float, str]:
    """The seconds a retrain of this champion may take, and where the number comes from:
    ``--retrain-budget``; else the champion's own time budget; else, for a champion trained
    without one (bounded by trials), :data:`BUDGET_FACTOR` times the seconds its training
    took (its recorded timings), at least :data:`MIN_RETRAIN_BUDGET`. A retrain is never
    unbounded: the loop holds its lock, and the next cycle waits, while it runs."""
    if options.retrain_budget is not None:
        return float(options.retrain_budget), "--retrain-budget"
    own = manifest.get("time_budget")
    if isinstance(own, int | float) and not isinstance(own, bool) and own > 0:
        return float(own), "the champion's time budget"
    timings = manifest.get("timings") or {}
    took = sum(float(v) for v in timings.values() if isinstance(v, int | float))
    budget = max(MIN_RETRAIN_BUDGET, BUDGET_FACTOR * took)
    return round(budget, 1), (
        f"{BUDGET_FACTOR:g} x the champion's training ({took:.1f} s), at least "
        f"{MIN_RETRAIN_BUDGET:g} s: the champion had no time budget"
    )


def _retrain(cycle: Cycle, name: str, options: WatchOptions, manifest: dict[str, Any]) -> None:
    """Retrain from the feedback within its budget; any failure is recorded and the champion
    keeps serving."""
    from apprentice.workflows.retrain import retrain

    budget, source = retrain_budget(options, manifest)
    cycle.retrain = {"time_budget": budget, "time_budget_from": source}
    started = time.monotonic()
    try:
        decision = retrain(
            name,
            from_feedback=True,
            db_url=options.db_url,
            tracking_uri=options.tracking_uri,
            time_budget=budget,
        )
    except Exception as exc:  # a failed retrain never stops the loop nor the champion
        log.exception("watch: the retrain of %s failed", name)
        # what went wrong, in the record a person reads (a class name alone said nothing)
        message = exc.message if isinstance(exc, ApprenticeError) else type(exc).__name__
        if not isinstance(exc, ApprenticeError) and str(exc):
            message = f"{message}: {str(exc)[:300]}"
        cycle.retrain["seconds"] = round(time.monotonic() - started, 1)
        cycle.decision = "retrain failed, champion kept"
        cycle.reason = f"{cycle.reason}; retrain failed: {message}"
        return
    gate = decision.gate
    cycle.retrain.update(
        {
            "seconds": round(time.monotonic() - started, 1),
            "promote": gate.promote,
            "reason": gate.reason,
            "registry": decision.registry,
            "out": str(decision.out),
        }
    )
    cycle.decision = "retrained, challenger promoted" if gate.promote else "retrained, kept"
    cycle.reason = f"{cycle.reason}; gate: {gate.reason}"


def record_cycle(cycle: Cycle, options: WatchOptions, settings: Settings | None = None) -> None:
    """The cycle's record: a readable line, the JSON record, and an MLflow run."""
    folder = _folder(settings or get_settings())
    with (folder / f"{cycle.model}.log").open("a", encoding="utf-8") as fh:
        fh.write(cycle.line() + "\n")
    with (folder / f"{cycle.model}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(cycle.to_dict(), default=str) + "\n")
    from apprentice.track import RunLog, Tracker

    try:
        Tracker(options.tracking_uri).log_run(
            RunLog(
                experiment=cycle.model,
                run_name=f"watch-{cycle.started_at}",
                params={"trigger": cycle.trigger, "champion_version": cycle.champion_version},
                metrics={
                    "rows": cycle.rows,
                    "labelled_rows": cycle.labelled_rows,
                    "alerts": len(cycle.alerts),
                    "seconds": cycle.seconds,
                },
                tags={
                    "apprentice.kind": "watch",
                    "apprentice.decision": cycle.decision,
                    "apprentice.reason": cycle.reason[:250],
                },
            )
        )
    except ApprenticeError as exc:  # the readable record above is the one that must not fail
        log.warning("watch: the MLflow record of a cycle failed: %s", exc.message)


def _marker(name: str, settings: Settings) -> Path:
    """The file that says a cycle is running; one left behind means it never finished."""
    return _folder(settings) / f"{name}.cycle"


def recover_interrupted(
    name: str, options: WatchOptions, settings: Settings | None = None
) -> Cycle | None:
    """The record of a cycle whose process stopped before it finished (killed, out of memory,
    the machine went down), from the marker it left; ``None`` when there is none. The caller
    holds the lock, so the process that wrote the marker is gone."""
    settings = settings or get_settings()
    marker = _marker(name, settings)
    if not marker.is_file():
        return None
    try:
        started = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        started = {}
    before = started.get("champion_version")
    try:
        now: int | None = _registered(name, options.tracking_uri).version
    except ApprenticeError:
        now = None
    if now is not None and before is not None and int(now) != int(before):
        kept = f"the champion moved from v{before} to v{now} before it stopped"
    else:
        kept = f"the champion is still v{now if now is not None else before}"
    cycle = Cycle(
        model=name,
        started_at=str(started.get("started_at", "unknown")),
        trigger=str(started.get("trigger", "unknown")),
        champion_version=before,
        status="interrupted",
        decision="cycle interrupted, champion kept" if "still" in kept else "cycle interrupted",
        reason=f"the cycle started by pid {started.get('pid', '?')} never finished (its process "
        f"stopped mid-cycle: killed, out of memory or shut down); {kept}",
    )
    record_cycle(cycle, options, settings)
    marker.unlink(missing_ok=True)
    log.warning("watch: %s", cycle.line())
    return cycle


def _failed_cycle(model: str, trigger: str, exc: Exception) -> Cycle:
    """The record of a cycle that could not run (the registry or the log unreachable)."""
    message = exc.message if isinstance(exc, ApprenticeError) else type(exc).__name__
    return Cycle(
        model=model,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        trigger=trigger,
        champion_version=None,
        status="error",
        decision="cycle failed, champion kept",
        reason=message,
    )


def _version(model: str, options: WatchOptions) -> int | None:
    try:
        return int(_registered(model, options.tracking_uri).version)
    except (ApprenticeError, TypeError, ValueError):
        return None


def _loop(
    model: str,
    name: str,
    options: WatchOptions,
    *,
    cycles: int | None,
    settings: Settings,
    sleep: Callable[[float], object],
    say: Callable[[Cycle], None] | None,
    stop: threading.Event | None = None,
    survive: bool = False,
) -> list[Cycle]:
    """The cycles of one loop (the caller holds the lock); ``stop`` ends it between cycles and
    during its waits; ``survive``: a cycle that raises is recorded and the loop goes on."""
    done: list[Cycle] = []
    interrupted = recover_interrupted(name, options, settings)
    if interrupted is not None and say is not None:
        say(interrupted)
    marker = _marker(name, settings)
    last = datetime.now(UTC)
    due = 0.0  # the first cycle runs at once
    trigger = "start"
    while (cycles is None or len(done) < cycles) and not (stop is not None and stop.is_set()):
        if trigger == "wait":
            try:
                waited = labelled_since(options.db_url, last)
            except Exception as exc:  # a log not created or migrated yet, a database away
                if not survive:
                    raise
                log.warning(
                    "watch: cannot count the new labels: %s",
                    exc.message if isinstance(exc, ApprenticeError) else type(exc).__name__,
                    exc_info=not isinstance(exc, ApprenticeError),
                )
                waited = 0
            if waited >= options.min_feedback:
                trigger = f"feedback ({waited} new labels)"
            elif time.monotonic() >= due:
                trigger = "schedule"
            else:
                sleep(min(options.poll, max(due - time.monotonic(), 0.0)))
                continue
        last = datetime.now(UTC) - timedelta(microseconds=1)
        marker.write_text(
            json.dumps({"started_at": last.isoformat(timespec="seconds"), "trigger": trigger,
                        "pid": os.getpid(), "champion_version": _version(model, options)}),
            encoding="utf-8",
        )  # fmt: skip
        try:
            cycle = watch_cycle(model, options, trigger=trigger)
        except Exception as exc:
            if not survive:
                raise
            log.exception("watch: a cycle of %s failed", name)
            cycle = _failed_cycle(name, trigger, exc)
        record_cycle(cycle, options, settings)
        marker.unlink(missing_ok=True)
        log.info("watch: %s", cycle.line())
        if say is not None:
            say(cycle)
        done.append(cycle)
        due = time.monotonic() + options.every
        trigger = "wait"
    return done


def watch(
    model: str,
    options: WatchOptions | None = None,
    *,
    cycles: int | None = None,
    settings: Settings | None = None,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[Cycle], None] | None = None,
) -> list[Cycle]:
    """Run the loop (``cycles`` cycles, or until interrupted); each cycle is recorded."""
    options = options or WatchOptions()
    settings = settings or get_settings()
    name = _registered(model, options.tracking_uri).name
    with watch_lock(name, settings):
        return _loop(model, name, options, cycles=cycles, settings=settings, sleep=sleep, say=say)


@contextmanager
def background_watch(
    model: str,
    options: WatchOptions | None = None,
    *,
    settings: Settings | None = None,
    say: Callable[[Cycle], None] | None = None,
    join_timeout: float = 30.0,
) -> Iterator[threading.Thread]:
    """The loop on a daemon thread of this process, for as long as the ``with`` block runs
    (``serve --watch``). The model is resolved and the lock taken here, before the block, so a
    model that cannot be watched, or a loop already running, is an error before the server
    starts. Leaving the block stops the loop between cycles or during a wait (a retrain in
    progress gets ``join_timeout`` seconds to finish) and releases the lock; a thread still
    running then dies with the process."""
    options = options or WatchOptions()
    settings = settings or get_settings()
    name = _registered(model, options.tracking_uri).name
    stop = threading.Event()

    def run() -> None:
        try:
            _loop(model, name, options, cycles=None, settings=settings, sleep=stop.wait,
                  say=say, stop=stop, survive=True)  # fmt: skip
        except Exception:  # the record itself failed (the workspace is not writable)
            log.exception("watch: the loop of %s stopped", name)

    with watch_lock(name, settings):
        thread = threading.Thread(target=run, name=f"apprentice-watch-{name}", daemon=True)
        thread.start()
        log.info("watch: the loop of %s runs in this process", name)
        try:
            yield thread
        finally:
            stop.set()
            thread.join(timeout=join_timeout)
            if thread.is_alive():
                log.warning("watch: a cycle of %s was still running at shutdown", name)
