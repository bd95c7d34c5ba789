"""``apprentice compare A B``: is B really better than A, on the same rows?

A and B are runs (a run id, a run folder or its MLflow run id), registered versions
(``NAME/VERSION``, ``NAME@ALIAS``, ``models:/...``) or bundle folders. Both models score the
same labelled rows; the difference on one metric gets a paired bootstrap interval
(:func:`apprentice.evaluate.paired_test`, the one the leaderboard uses) and a plain verdict:

    B is better than A on ROC AUC by 0.004 (95% CI -0.002 to 0.010): not shown

"shown" means the 95% interval of the difference excludes zero.

The rows, by default, are the holdout of the newer run (re-read from its source, whose
SHA-256 must not have changed). When both runs were trained on the same source, only rows
held out by both are used, so neither model is scored on rows it learned from. A labelled
file given with ``data=`` is scored whole, except that rows of a run's own source that it
trained on are left out in the same way.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.config import Settings, get_settings
from apprentice.errors import ConfigError, TargetError
from apprentice.workflows.run import HOLDOUT, RECORD, RunNotFoundError, RunResult, load_run

if TYPE_CHECKING:
    from apprentice.bundle import Bundle

#: too few rows in common make any verdict meaningless
MIN_ROWS = 30

METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "log_loss": "log loss",
    "brier": "Brier score",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1": "F1",
    "f1_macro": "macro F1",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}


class CompareError(ConfigError):
    """Two models cannot be compared as asked (different targets, no common rows, ...)."""


@dataclass
class Contender:
    """One side of a comparison: a model and, when known, the run that trained it."""

    ref: str
    label: str
    bundle_path: Path
    run: RunResult | None = None
    registered: dict[str, Any] | None = None
    bundle: Any = field(default=None, repr=False)

    @property
    def created_at(self) -> str:
        if self.run is not None:
            return self.run.created_at
        return str((self.bundle.manifest if self.bundle else {}).get("created_at", ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "label": self.label,
            "bundle": str(self.bundle_path),
            "run_id": self.run.run_id if self.run else None,
            "registered": self.registered,
            "champion": (self.bundle.manifest.get("model") or {}).get("name")
            if self.bundle is not None
            else None,
            "created_at": self.created_at,
        }


@dataclass
class CompareResult:
    """The outcome of :func:`compare`; ``verdict`` is the sentence to show."""

    a: Contender
    b: Contender
    task: str
    target: str
    metric: str
    rows: int
    data: str
    value_a: dict[str, float]
    value_b: dict[str, float]
    difference: float
    low: float
    high: float
    p_value: float
    shown: bool
    verdict: str
    n_boot: int
    notes: list[str] = field(default_factory=list)

    @property
    def better(self) -> str | None:
        """``"b"`` or ``"a"`` when the interval shows one better, else ``None``."""
        if not self.shown:
            return None
        return "b" if self.difference > 0 else "a"

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "task": self.task,
            "target": self.target,
            "metric": self.metric,
            "rows": self.rows,
            "data": self.data,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "difference": self.difference,
            "low": self.low,
            "high": self.high,
            "p_value": self.p_value,
            "shown": self.shown,
            "better": self.better,
            "verdict": self.verdict,
            "n_boot": self.n_boot,
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        out = [
            f"A  {self.a.label}: {self.metric} {_iv(self.value_a)}",
            f"B  {self.b.label}: {self.metric} {_iv(self.value_b)}",
            f"on {self.rows:,} rows: {self.data}",
            self.verdict,
        ]
        return out + [f"note: {n}" for n in self.notes]


def _iv(iv: dict[str, float]) -> str:
    return f"{iv['value']:.4f} (95% CI {iv['low']:.4f} to {iv['high']:.4f})"


# -- resolving A and B ------------------------------------------------------------------------


def resolve(ref: str, *, settings: Settings, tracking_uri: str | None = None) -> Contender:
    """A run, a bundle folder or a registered version, as a :class:`Contender`."""
    from apprentice.bundle import load_bundle

    text = str(ref).strip()
    path = Path(text).expanduser()
    if path.is_dir() and (path / "manifest.json").is_file() and not (path / RECORD).is_file():
        bundle = load_bundle(path)
        return Contender(text, f"bundle {path.name}", path, bundle=bundle)
    try:
        run = load_run(text, settings)
    except RunNotFoundError as missing:
        if path.exists() or not _looks_like_model(text):
            raise
        return _registered(text, settings=settings, tracking_uri=tracking_uri, missing=missing)
    bundle = load_bundle(run.bundle_path)
    return Contender(
        text, f"run {run.run_id} ({run.champion})", run.bundle_path, run, bundle=bundle
    )


def _looks_like_model(text: str) -> bool:
    import re

    return bool(
        re.fullmatch(r"(models:/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,127}([@/][A-Za-z0-9_.-]+)?", text)
    )


def _registered(
    text: str, *, settings: Settings, tracking_uri: str | None, missing: RunNotFoundError
) -> Contender:
    from apprentice.bundle import load_bundle
    from apprentice.track import ModelNotFoundError, RegistryError, Tracker, resolve_model

    tracker = Tracker(tracking_uri, settings=settings)
    tracker.check()
    try:
        resolved = resolve_model(text, tracker=tracker)
    except ModelNotFoundError as exc:
        raise RunNotFoundError(
            f"{text!r} is neither a run nor a registered model: {missing.message}; {exc.message}"
        ) from None
    except RegistryError:
        raise RunNotFoundError(missing.message) from None
    run = None
    run_id = None
    try:
        from apprentice.track import show_model

        for version in show_model(tracker, resolved.name).versions:
            if version.version == resolved.version:
                run_id = version.tags.get("apprentice.run_id")
    except Exception:  # the run is a bonus: the model alone can be compared on --data
        run_id = None
    if run_id:
        try:
            run = load_run(run_id, settings)
        except RunNotFoundError:
            run = None
    alias = f"@{resolved.alias}" if resolved.alias else ""
    return Contender(
        text,
        f"{resolved.name} v{resolved.version}{alias}",
        resolved.path,
        run,
        registered=resolved.to_dict(),
        bundle=load_bundle(resolved.path),
    )


# -- the rows ---------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_holdout(run: RunResult) -> dict[str, Any]:
    """The run's ``holdout.json``: ``positions`` are the rows of its source as read that the
    split step of :mod:`apprentice.workflows.train` held out (its ``Holdout.positions``)."""
    file = run.path / HOLDOUT
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise CompareError(
            f"run {run.run_id} has no readable {HOLDOUT}; pass --data FILE with labelled rows"
        ) from None
    return dict(document)


def _source_table(run: RunResult, settings: Settings) -> tuple[pd.DataFrame, str]:
    """The table run ``run`` was trained on, as read, after checking its SHA-256."""
    from apprentice.read import read

    if run.data.get("hashed") != "file":
        parquet = run.path / "holdout.parquet"
        if parquet.is_file():
            return pd.read_parquet(parquet), "holdout"
        raise CompareError(
            f"run {run.run_id} was trained on a table in memory; pass --data FILE with labelled "
            "rows"
        )
    from apprentice.errors import SourceNotFoundError
    from apprentice.storage import local_input

    shown = run.source
    gone = CompareError(
        f"the source of run {run.run_id} ({shown}) is gone; pass --data FILE with labelled rows"
    )
    try:
        with local_input(run.source) as local:  # a storage URL: one local copy
            source = Path(local)
            if not source.is_file():
                raise gone
            if _sha256(source) != run.data.get("sha256"):
                raise CompareError(
                    f"the source of run {run.run_id} ({shown}) changed since the run (its "
                    "SHA-256 differs), so its holdout rows are lost; pass --data FILE with "
                    "labelled rows"
                )
            table = read(str(source), settings=settings).table
    except SourceNotFoundError:
        raise gone from None
    table.columns = pd.Index([str(c) for c in table.columns])
    return table, "source"


def _positions(run: RunResult) -> np.ndarray:
    return np.asarray(read_holdout(run)["positions"], dtype=np.int64)


def _rows(
    a: Contender, b: Contender, data: str | Path | None, settings: Settings
) -> tuple[pd.DataFrame, str, list[str]]:
    """The labelled rows both models are scored on, what they are, and notes."""
    if data is not None:
        return _rows_of_file(a, b, data, settings)
    return _rows_held_out(a, b, settings)


def _unknown(contender: Contender) -> str:
    return (
        f"what {contender.label} was trained on is unknown here; if these rows were among its "
        "training rows, it is favoured"
    )


def _rows_of_file(
    a: Contender, b: Contender, data: str | Path, settings: Settings
) -> tuple[pd.DataFrame, str, list[str]]:
    """A labelled file, less the rows a run trained on when the file is that run's source."""
    from apprentice.read import read
    from apprentice.storage import local_input

    notes: list[str] = []
    with local_input(str(data)) as local:  # a storage URL: one local copy for both
        table = read(str(local), settings=settings).table
        digest = _sha256(Path(local)) if Path(str(local)).is_file() else None
    table.columns = pd.Index([str(c) for c in table.columns])
    keep = np.ones(len(table), dtype=bool)
    what = f"{data}"
    for contender in (a, b):
        run = contender.run
        if run is not None and digest is not None and digest == run.data.get("sha256"):
            mask = np.zeros(len(table), dtype=bool)
            mask[_positions(run)] = True
            keep &= mask
            notes.append(
                f"{data} is the training source of {contender.label}: only its holdout rows "
                "are used"
            )
    if not keep.all():
        table = table.loc[keep].reset_index(drop=True)
        what += " (rows held out from training)"
    notes += [_unknown(c) for c in (a, b) if c.run is None]
    return table, what, notes


def _holdout_of(run: RunResult, settings: Settings) -> tuple[pd.DataFrame, np.ndarray, bool]:
    """A run's source table, its holdout positions in it, and whether the table is only the
    holdout rows kept in the run folder (the run was trained on a table in memory)."""
    table, kind = _source_table(run, settings)
    document = read_holdout(run)
    if kind == "holdout":
        return table, np.arange(len(table)), True
    if len(table) != int(document.get("rows_as_read", len(table))):
        raise CompareError(
            f"the source of run {run.run_id} now reads as {len(table):,} rows, not "
            f"{document.get('rows_as_read')}; pass --data FILE with labelled rows"
        )
    return table, np.asarray(document["positions"], dtype=np.int64), False


def _rows_held_out(
    a: Contender, b: Contender, settings: Settings
) -> tuple[pd.DataFrame, str, list[str]]:
    """The newer run's holdout rows, less those the other run (same source) trained on."""
    runs = [c for c in (a, b) if c.run is not None]
    if not runs:
        raise CompareError(
            "neither model has a run in this workspace to take holdout rows from; pass --data "
            "FILE with labelled rows neither model was trained on"
        )
    newer = max(runs, key=lambda c: c.created_at)
    other = b if newer is a else a
    assert newer.run is not None
    frame, positions, in_memory = _holdout_of(newer.run, settings)
    what = f"the holdout of {newer.label}"
    notes: list[str] = []
    if other.run is not None and other.run.data.get("sha256") == newer.run.data.get("sha256"):
        other_positions = _positions(other.run)
        if in_memory:
            raise CompareError(
                "both runs were trained on tables in memory; pass --data FILE with labelled rows"
            )
        common = np.intersect1d(positions, other_positions)
        if len(common) < len(positions):
            notes.append(
                f"{len(positions) - len(common):,} of the {len(positions):,} holdout rows of "
                f"{newer.label} were training rows of {other.label} and are left out"
            )
        positions = common
        what = f"the rows held out by both runs (source {Path(newer.run.source).name})"
    elif other.run is not None:
        notes.append(
            f"{other.label} was trained on another source ({Path(other.run.source).name}); if "
            "these rows were among its training rows, it is favoured"
        )
    else:
        notes.append(_unknown(other))
    return frame.iloc[positions].reset_index(drop=True), what, notes


# -- scoring ----------------------------------------------------------------------------------


def _truth(frame: pd.DataFrame, bundle: Bundle, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Encoded truth (class indices in ``bundle.classes``, or values) and the rows kept."""
    from apprentice.learn.task import prepare_target

    if target not in frame.columns:
        raise TargetError(
            f"the rows have no target column '{target}'; pass labelled rows (--data FILE)"
        )
    info = prepare_target(frame[target], name=target, task=bundle.task)
    kept = np.asarray(info.kept, dtype=bool)
    if bundle.task == "regression":
        return np.asarray(info.y, dtype=float), kept
    classes = [str(c) for c in (bundle.classes or [])]
    lookup = {label: i for i, label in enumerate(classes)}
    labels = [str(c) for c in (info.classes or [])]
    unknown = [label for label in labels if label not in lookup]
    if unknown:
        raise CompareError(
            f"the rows hold classes the models do not know ({', '.join(unknown[:5])}); the "
            f"models predict {', '.join(classes)}"
        )
    mapping = np.asarray([lookup[label] for label in labels], dtype=np.int64)
    return mapping[np.asarray(info.y, dtype=np.int64)], kept


def _aligned(pred: np.ndarray, bundle: Bundle, reference: Bundle) -> np.ndarray:
    """``pred`` with its class columns in ``reference``'s order."""
    if bundle.task == "regression" or bundle.classes == reference.classes:
        return pred
    order = [[str(c) for c in bundle.classes or []].index(str(c)) for c in reference.classes or []]
    return pred[:, order]


def _fmt(value: float, scale: float) -> str:
    digits = 3 if scale >= 0.01 else 4 if scale >= 0.001 else 5
    return f"{value:.{digits}f}"


def verdict_text(a: str, b: str, metric: str, difference: float, low: float, high: float) -> str:
    """``B is better than A on ROC AUC by 0.004 (95% CI -0.002 to 0.010): not shown``.

    ``difference``, ``low`` and ``high`` are B's advantage over A (positive: B is better).
    """
    label = METRIC_LABELS.get(metric, metric)
    scale = max(abs(difference), abs(low), abs(high)) if math.isfinite(low) else abs(difference)
    ci = f"95% CI {_fmt(low, scale)} to {_fmt(high, scale)}"
    if difference == 0:
        return f"{b} and {a} score the same on {label} ({ci}): no difference shown"
    word = "better" if difference > 0 else "worse"
    shown = (difference > 0 and low > 0) or (difference < 0 and high < 0)
    return f"{b} is {word} than {a} on {label} by {_fmt(abs(difference), scale)} ({ci}): " + (
        "shown" if shown else "not shown"
    )


def _check_comparable(a: Bundle, b: Bundle) -> None:
    """Both models predict the same target, task and classes."""
    if a.task != b.task or a.target != b.target:
        raise CompareError(
            f"A predicts '{a.target}' ({a.task}) and B predicts '{b.target}' ({b.task}); "
            "compare models of the same task"
        )
    if a.task != "regression" and {str(c) for c in a.classes or []} != {
        str(c) for c in b.classes or []
    }:
        raise CompareError(
            f"A predicts the classes {a.classes} and B {b.classes}; compare models of the same "
            "classes"
        )


def _metric(first: Contender, second: Contender, task: str, metric: str | None) -> str:
    """The metric asked for, else the newer model's selection metric."""
    from apprentice.evaluate import HOLDOUT_METRICS

    newer = max((first, second), key=lambda c: c.created_at)
    chosen = metric or str(newer.bundle.manifest.get("metric") or "")
    if task == "multiclass" and chosen == "f1":
        chosen = "f1_macro"
    if chosen not in HOLDOUT_METRICS[task]:
        raise ConfigError(
            f"metric {chosen!r} is not one of the {task} metrics: "
            + ", ".join(HOLDOUT_METRICS[task])
        )
    return chosen


def _labelled(frame: pd.DataFrame, bundle: Bundle, target: str) -> tuple[np.ndarray, pd.DataFrame]:
    """The encoded truth and the feature rows of the rows with a usable label."""
    if len(frame) >= MIN_ROWS:
        y, kept = _truth(frame, bundle, target)
        frame = frame.loc[kept].reset_index(drop=True)
    if len(frame) < MIN_ROWS:
        raise CompareError(
            f"only {len(frame)} labelled rows to compare on (at least {MIN_ROWS} are needed); "
            "pass --data FILE with more labelled rows neither model was trained on"
        )
    return y, frame.drop(columns=[target])


def _threshold(a: Bundle, b: Bundle, metric: str, notes: list[str]) -> float | None:
    """The binary decision threshold both models share (else label metrics are at 0.5)."""
    if a.task != "binary":
        return None
    if a.threshold == b.threshold:
        return a.threshold
    if metric in ("accuracy", "balanced_accuracy", "f1"):
        notes.append(
            f"the models use different decision thresholds ({a.threshold} and {b.threshold}); "
            f"{metric} is compared at 0.5 for both"
        )
    return None


def compare(
    a: str,
    b: str,
    *,
    data: str | Path | None = None,
    metric: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    tracking_uri: str | None = None,
    settings: Settings | None = None,
) -> CompareResult:
    """Score models ``a`` and ``b`` on the same labelled rows and test their difference.

    ``metric`` defaults to the newer model's selection metric; any holdout metric of the task
    can be named. See the module docstring for the rows used.
    """
    from apprentice.evaluate import holdout_metrics, paired_test

    settings = settings or get_settings()
    first = resolve(a, settings=settings, tracking_uri=tracking_uri)
    second = resolve(b, settings=settings, tracking_uri=tracking_uri)
    bundle_a: Bundle = first.bundle
    bundle_b: Bundle = second.bundle
    _check_comparable(bundle_a, bundle_b)
    task, target = bundle_a.task, str(bundle_a.target)
    chosen = _metric(first, second, task, metric)
    frame, what, notes = _rows(first, second, data, settings)
    if first.bundle_path.resolve() == second.bundle_path.resolve():
        notes.insert(0, "A and B are the same model")
    y, features = _labelled(frame, bundle_a, target)
    pred_a = np.asarray(bundle_a._output(features))
    pred_b = _aligned(np.asarray(bundle_b._output(features)), bundle_b, bundle_a)
    threshold = _threshold(bundle_a, bundle_b, chosen, notes)
    comparison = paired_test(
        task, chosen, y, pred_b, pred_a, name_a=second.label, name_b=first.label, role="A",
        n_boot=n_boot, seed=seed, threshold=threshold,
    )  # fmt: skip
    value_a = holdout_metrics(task, y, pred_a, threshold=threshold, n_boot=n_boot, seed=seed)
    value_b = holdout_metrics(task, y, pred_b, threshold=threshold, n_boot=n_boot, seed=seed)
    difference, low, high = comparison.difference, comparison.low, comparison.high
    return CompareResult(
        a=first,
        b=second,
        task=task,
        target=target,
        metric=chosen,
        rows=len(features),
        data=what,
        value_a=value_a[chosen].to_dict(),
        value_b=value_b[chosen].to_dict(),
        difference=difference,
        low=low,
        high=high,
        p_value=comparison.p_value,
        shown=bool((difference > 0 and low > 0) or (difference < 0 and high < 0)),
        verdict=verdict_text("A", "B", chosen, difference, low, high),
        n_boot=comparison.n_boot,
        notes=notes,
    )


__all__ = [
    "CompareError",
    "CompareResult",
    "Contender",
    "compare",
    "read_holdout",
    "resolve",
    "verdict_text",
]
