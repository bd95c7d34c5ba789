"""``apprentice run``: the main job, one call from a messy file to a registered model.

read -> clean -> guard -> train -> evaluate -> explain -> fairness -> register -> report.

Everything a user can get wrong is checked before training starts: the tracking store is
reachable (one short request for a server), the target and the ``--sensitive`` columns
exist, the model name is usable and not registered for another task. Opening the MLflow
store (the import, and a SQLite schema on first use) runs in a background thread meanwhile.

A run lives in its folder ``<workspace>/runs/<run_id>/``: ``run.json`` (the run record, a
:class:`RunResult`), ``bundle/``, ``ledger.json``, ``schema.json``, ``holdout.json`` (the
holdout's row positions in the source as read, so ``apprentice compare`` can score other
models on the same rows), ``report.html`` and ``model_card.md``. The MLflow run
holds the parameters, metrics with their interval bounds, the data fingerprint, library
versions, the git commit, the ledger, schema and bundle as artifacts, and the top candidates
as child runs; the bundle is registered as a model version (alias ``champion`` for a new
name, else ``challenger``). The registration comes before the report so that the report and
the model card can name the registered version.

A run that fails leaves nothing behind: its folder is removed, and registration is the last
step that can fail it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shlex
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice._version import __version__
from apprentice.config import Settings, get_settings
from apprentice.errors import ConfigError, InputError, TargetError

if TYPE_CHECKING:
    from apprentice.bundle import Bundle
    from apprentice.learn.search import FoldRunner
    from apprentice.read import ReadResult
    from apprentice.track import Tracker
    from apprentice.workflows.train import TrainResult

STAGES: tuple[str, ...] = (
    "read",
    "clean",
    "guard",
    "train",
    "evaluate",
    "explain",
    "fairness",
    "register",
    "report",
)
log = logging.getLogger(__name__)

RUNS_DIR = "runs"
RECORD = "run.json"
HOLDOUT = "holdout.json"
#: candidates logged as child runs
TOP_CANDIDATES = 5
#: numeric sensitive columns with more distinct values than this are put in quantile bands
MAX_SENSITIVE_LEVELS = 12
SENSITIVE_BANDS = 5
#: holdout rows the global explanation uses (mean |SHAP| of 1,000 rows is a stable ranking;
#: exact tree SHAP costs about a millisecond a row for a tuned LightGBM model)
EXPLAIN_ROWS = 1000
logger = logging.getLogger(__name__)
#: seconds held back after the explanations for the registry, the report, the record and
#: closing the MLflow run
CLOSING_SECONDS = 2.0
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class RunNotFoundError(InputError):
    """No run of that id or path in the workspace."""


# -- progress ---------------------------------------------------------------------------------


class RunObserver:
    """What a run tells about its progress; the CLI draws a bar per stage from it.

    ``budget`` is the stage's time budget in seconds when it has one (training), so a bar
    can show elapsed time against it. Every method is optional to override.
    """

    def stage_started(self, stage: str, *, budget: float | None = None) -> None:
        """A stage begins."""

    def message(self, stage: str, text: str) -> None:
        """A line of news from inside a stage (training sends one per candidate)."""

    def stage_finished(self, stage: str, seconds: float, summary: str = "") -> None:
        """A stage ended, with a one-line summary of what it did."""

    def stage_skipped(self, stage: str, reason: str) -> None:
        """A stage did not run (no sensitive columns, tracking off)."""


# -- the run record ---------------------------------------------------------------------------


#: dataclass fields stored under another key in ``run.json``
_KEYS = {"error_slices_": "error_slices", "bundle_dir": "bundle", "leaderboard_rows": "leaderboard"}
_FIELDS = {key: attr for attr, key in _KEYS.items()}


@dataclass(repr=False)
class RunResult:
    """The record of one ``apprentice run``, saved as ``run.json`` in the run folder.

    Its :meth:`to_dict` is the document :func:`apprentice.report.write_report` renders (see
    :mod:`apprentice.report` for the keys it reads); the other keys say where the run's
    files, MLflow run and registered version are.
    """

    run_id: str
    name: str
    created_at: str
    path: Path
    source: str
    target: str
    task: str
    metric: str
    champion: str
    baseline: str | None = None
    apprentice_version: str = __version__
    status: str = "complete"
    data: dict[str, Any] = field(default_factory=dict)
    cleaning: dict[str, Any] = field(default_factory=dict)
    pii: dict[str, Any] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    classes: list[Any] | None = None
    threshold: float | None = None
    threshold_source: str | None = None
    #: the bundle folder (``bundle`` in ``run.json``; :attr:`bundle` is the loaded bundle)
    bundle_dir: str = ""
    split: dict[str, Any] = field(default_factory=dict)
    #: the leaderboard's rows (``leaderboard`` in ``run.json``; :attr:`leaderboard` is a frame)
    leaderboard_rows: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    cv: dict[str, Any] = field(default_factory=dict)
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    calibration: dict[str, Any] | None = None
    leakage: dict[str, Any] = field(default_factory=dict)
    excluded_columns: dict[str, str] = field(default_factory=dict)
    schema: dict[str, Any] = field(default_factory=dict)
    sensitive: list[str] = field(default_factory=list)
    sensitive_suggested: list[str] = field(default_factory=list)
    plots: dict[str, Any] | None = None
    explain: dict[str, Any] | None = None
    fairness: dict[str, Any] | None = None
    error_slices_: list[dict[str, Any]] | dict[str, Any] | None = None
    profile: dict[str, Any] | None = None
    holdout: dict[str, Any] = field(default_factory=dict)
    tracking: dict[str, Any] | None = None
    model: dict[str, Any] | None = None
    report: dict[str, Any] | None = None
    git: dict[str, Any] | None = None
    reproduce: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    #: the model is the constant baseline (same prediction for every row, no feature used)
    constant_model: bool = False
    #: a retrain's champion / challenger decision and its paired evidence (``apprentice retrain``)
    retrain: dict[str, Any] | None = None
    #: under a time budget: each step's planned end against its actual end, in seconds since
    #: the command started (:func:`_budget_account`)
    budget: dict[str, Any] | None = None

    # -- what people ask first

    @property
    def bundle_path(self) -> Path:
        return Path(self.bundle_dir)

    @property
    def bundle(self) -> Bundle:
        """The run's bundle, verified and loaded on first use (``r.bundle.predict(X)``)."""
        loaded = self.__dict__.get("_bundle")
        if loaded is None or Path(loaded.path) != self.bundle_path:
            loaded = self.load_bundle()
            self.__dict__["_bundle"] = loaded
        return loaded

    def load_bundle(self) -> Bundle:
        """The run's verified bundle (loaded again from its folder)."""
        from apprentice.bundle import load_bundle

        return load_bundle(self.bundle_path)

    @property
    def leaderboard(self) -> pd.DataFrame:
        """Every candidate of the search: CV score with its interval, status, family."""
        return pd.DataFrame(self.leaderboard_rows)

    def metrics_frame(self) -> pd.DataFrame:
        """The holdout metrics, one row each: ``metric``, ``value``, ``low``, ``high``."""
        rows = [
            {"metric": name, **{k: iv.get(k) for k in ("value", "low", "high")}}
            for name, iv in self.metrics.items()
        ]
        return pd.DataFrame(rows, columns=["metric", "value", "low", "high"])

    def __repr__(self) -> str:
        head = self.headline
        score = (
            f", {head[0]}={head[1]['value']:.4f} [{head[1]['low']:.4f}, {head[1]['high']:.4f}]"
            if head
            else ""
        )
        return (
            f"RunResult(run_id={self.run_id!r}, target={self.target!r}, task={self.task!r}, "
            f"champion={self.champion!r}{score})"
        )

    @property
    def headline(self) -> tuple[str, dict[str, float]] | None:
        """The selection metric's holdout value and interval (or the first metric's)."""
        name = _holdout_name(self.metric, self.task)
        if name in self.metrics:
            return name, self.metrics[name]
        if self.metrics:
            first = next(iter(self.metrics))
            return first, self.metrics[first]
        return None

    @property
    def baseline_comparison(self) -> dict[str, Any] | None:
        """The paired test against the constant baseline."""
        roles = ("constant baseline", "baseline")
        return next((c for c in self.comparisons if c.get("role") in roles), None)

    @property
    def beats_baseline(self) -> bool | None:
        """Whether the paired test shows the champion better than the constant baseline
        (``None``: no test, e.g. the constant model is the champion)."""
        comparison = self.baseline_comparison
        return None if comparison is None else bool(comparison.get("better"))

    def error_slices(self) -> pd.DataFrame:
        """The holdout slices where the model errs more (the evaluate stage's table)."""
        from apprentice.evaluate.slices import COLUMNS

        rows = self.error_slices_ if isinstance(self.error_slices_, list) else []
        return pd.DataFrame(rows, columns=COLUMNS if not rows else None)

    def summary_lines(self) -> list[str]:
        """The closing summary: champion, holdout metric, baseline test, report, version."""
        lines = [f"champion   {self.champion} for '{self.target}' ({self.task})"]
        if self.constant_model:
            lines.append(
                "model      the constant baseline: it predicts the same value for every row "
                "and uses no feature (no learner beat it; see the warnings)"
            )
        head = self.headline
        if head is not None:
            metric, iv = head
            rows = self.split.get("holdout_rows", "?")
            lines.append(
                f"holdout    {metric} {iv['value']:.4f} "
                f"(95% CI {iv['low']:.4f} to {iv['high']:.4f}, {rows} rows)"
            )
        if self.threshold is not None:
            from apprentice.evaluate.metrics import threshold_text

            lines.append(f"threshold  {threshold_text(self.threshold, self.threshold_source)}")
        if self.champion == "dummy":
            lines.append("baseline   the champion is the constant baseline (dummy)")
        elif self.champion == "linear":
            lines.append("baseline   the champion is the linear baseline (linear)")
        for comparison in self.comparisons:  # each named baseline and the runner-up, once
            lines.append(f"versus     {comparison.get('wording')}")
        if not self.comparisons:
            lines.append("versus     no paired test (see the warnings)")
        for finding in (self.leakage or {}).get("findings") or []:
            lines.append(f"leak?      {finding.get('summary')} (see the warnings)")
        if self.fairness and isinstance(self.fairness, dict) and "summary" in self.fairness:
            for column, gaps in (self.fairness.get("summary") or {}).items():
                gap = gaps.get("demographic_parity_difference") if isinstance(gaps, dict) else None
                if isinstance(gap, dict):
                    gap = gap.get("value")
                if isinstance(gap, int | float) and math.isfinite(gap):
                    lines.append(f"fairness   {column}: demographic parity difference {gap:.3f}")
        if self.report:
            lines.append(f"report     {self.report.get('html')}")
            lines.append(f"model card {self.report.get('model_card')}")
        if self.model:
            where = self.tracking.get("uri") if self.tracking else "?"
            lines.append(
                f"registered {self.model['name']} version {self.model['version']} "
                f"(alias {self.model['alias']}) at {where}"
            )
        elif self.tracking is None:
            lines.append("registered no (tracking off)")
        lines.append(f"run        {self.run_id} ({self.path})")
        return lines

    # -- files

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[_KEYS.get(f.name, f.name)] = str(value) if isinstance(value, Path) else value
        return json.loads(json.dumps(out, default=_json_default, allow_nan=True))

    def save(self) -> Path:
        """Write ``run.json`` (atomically) in the run folder."""
        path = self.path / RECORD
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(
            json.dumps(self.to_dict(), indent=2, default=_json_default, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        os.replace(tmp, path)
        return path

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], path: Path) -> RunResult:
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in document.items():
            attr = _FIELDS.get(key, key)
            if attr in names and attr != "path":
                values[attr] = value
        values["path"] = path
        for required in ("run_id", "name", "created_at", "source", "target", "task", "metric"):
            values.setdefault(required, "")
        values.setdefault("champion", "")
        result = cls(**values)
        bundle = Path(result.bundle_dir) if result.bundle_dir else path / "bundle"
        if not bundle.is_dir() and (path / "bundle").is_dir():
            result.bundle_dir = str(path / "bundle")
        return result

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        """A run record from its folder or its ``run.json``."""
        p = Path(path)
        folder = p.parent if p.name == RECORD else p
        file = folder / RECORD
        try:
            document = json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunNotFoundError(f"{folder} holds no {RECORD}; is it a run folder?") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RunNotFoundError(f"{file} is not a valid run record (broken JSON)") from None
        if not isinstance(document, dict) or "run_id" not in document:
            raise RunNotFoundError(f"{file} is not a run record")
        return cls.from_dict(document, folder)

    def _repr_html_(self) -> str:
        """The run at a glance in a notebook: headline, metrics with intervals, leaderboard,
        the paired tests, the risks and the key plots (:func:`apprentice.report.notebook_html`)."""
        from apprentice.report import notebook_html

        return str(notebook_html(self.to_dict()))


def _json_default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    if isinstance(value, pd.DataFrame):
        return value.astype(object).where(value.notna(), None).to_dict(orient="records")
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def _holdout_name(metric: str, task: str) -> str:
    return "f1_macro" if metric == "f1" and task == "multiclass" else metric


# -- finding runs -----------------------------------------------------------------------------


def runs_dir(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return Path(settings.workspace).expanduser().resolve() / RUNS_DIR


def list_runs(settings: Settings | None = None) -> list[RunResult]:
    """Every run in the workspace, newest first (unreadable folders are skipped)."""
    root = runs_dir(settings)
    out: list[RunResult] = []
    if not root.is_dir():
        return out
    for folder in root.iterdir():
        if (folder / RECORD).is_file():
            try:
                out.append(RunResult.load(folder))
            except RunNotFoundError:
                continue
    return sorted(out, key=lambda r: (r.created_at, r.run_id), reverse=True)


def load_run(ref: str | Path, settings: Settings | None = None) -> RunResult:
    """A run by its folder, its ``run.json``, its run id or its MLflow run id.

    Raises :class:`RunNotFoundError` (naming the recent runs) when there is no such run.
    """
    text = str(ref).strip()
    if not text:
        raise RunNotFoundError("no run given; pass a run id or a run folder")
    path = Path(text).expanduser()
    if path.name == RECORD or (path / RECORD).is_file():
        return RunResult.load(path)
    root = runs_dir(settings)
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text) and (root / text / RECORD).is_file():
        return RunResult.load(root / text)
    runs = list_runs(settings)
    for run in runs:
        if (run.tracking or {}).get("run_id") == text:
            return run
    if path.exists():
        raise RunNotFoundError(f"{path} is not a run folder (no {RECORD} in it)")
    recent = ", ".join(r.run_id for r in runs[:5])
    hint = f"; recent runs: {recent}" if recent else "; no run yet (apprentice run FILE --target T)"
    raise RunNotFoundError(f"no run {text!r} in {root}" + hint)


# -- helpers ----------------------------------------------------------------------------------


def default_name(source: str, target: str) -> str:
    """``<file stem>-<target>``, cut to a valid registered model name."""
    stem = Path(source).name.split(".")[0] if source and source != "dataframe" else "data"
    raw = f"{stem}-{target}"
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", raw).strip("-._") or "model"
    if not safe[0].isalnum():
        safe = "m" + safe
    return safe[:128]


def fingerprint(read: ReadResult, source: Any) -> dict[str, Any]:
    """SHA-256 of the source file (of the table's cells when it is not a local file), rows
    and columns as read."""
    from apprentice.storage import is_url, local_input

    if isinstance(source, str) and is_url(source):
        # an object in storage: the SHA-256 of its bytes, as for a local file
        with local_input(source) as local:
            return fingerprint(read, Path(local))
    digest = hashlib.sha256()
    path = Path(str(source)) if isinstance(source, str | Path) else None
    hashed = "file"
    if path is not None and path.is_file():
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        size: int | None = path.stat().st_size
    else:
        hashed = "table"
        size = None
        table = read.table
        digest.update(json.dumps([str(c) for c in table.columns]).encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
    return {
        "source": str(read.source),
        "sha256": digest.hexdigest(),
        "fingerprint": digest.hexdigest(),
        "hashed": hashed,
        "bytes": size,
        "rows": len(read.table),
        "columns": int(read.table.shape[1]),
        "column_names": [str(c) for c in read.table.columns],
        "format": read.format,
        "encoding": read.encoding,
        "quarantined": int(read.rows_quarantined),
        # a file read in part because of the time budget: how many rows it holds
        "rows_sampled_from": read.rows_sampled_from,
    }


def _suggest(name: str, columns: Sequence[str]) -> str:
    import difflib

    folded = {c.casefold().strip(): c for c in columns}
    key = name.casefold().strip()
    match = folded.get(key)
    if match is None:  # a typo: the one close spelling, when there is one
        close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.8)
        match = folded[close[0]] if close else None
    if match is not None:
        return f"; did you mean '{match}'?"
    shown = ", ".join(f"'{c}'" for c in list(columns)[:12])
    return f"; the columns are {shown}" + (" ..." if len(columns) > 12 else "")


def _new_run_dir(root: Path, name: str) -> tuple[str, Path]:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 1000):
        run_id = f"{name}-{stamp}" + (f"-{attempt}" if attempt > 1 else "")
        folder = root / run_id
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return run_id, folder
    raise ConfigError(f"cannot create a run folder under {root}")  # pragma: no cover


def holdout_positions(
    table: pd.DataFrame,
    *,
    target: str,
    task: str | None,
    split: str | None,
    test_size: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, Any]:
    """The holdout rows of :func:`apprentice.train` on ``table``: positions in the table as
    read, their encoded targets, and the prepared target.

    This repeats the split that :func:`apprentice.train` makes (same functions, same
    arguments), which is deterministic; :func:`run` checks the result against the bundle's
    own holdout metrics.
    """
    from apprentice.learn.split import holdout_split, parse_split, parse_time, resolve_split
    from apprentice.learn.task import prepare_target

    frame = table.reset_index(drop=True)
    frame.columns = pd.Index([str(c) for c in frame.columns])
    info = prepare_target(frame[target], name=target, task=task)
    kept = frame.loc[info.kept].reset_index(drop=True)
    spec = resolve_split(parse_split(split), info.task)
    groups = times = None
    if spec.kind == "group":
        groups = kept[spec.column].astype(str).to_numpy()
    elif spec.kind == "time":
        times = parse_time(kept[spec.column], str(spec.column))
    _, test_idx = holdout_split(
        len(kept),
        spec,
        y=info.y,
        task=info.task,
        test_size=test_size,
        seed=seed,
        groups=groups,
        times=times,
    )
    positions = np.flatnonzero(info.kept)[test_idx]
    return positions, info.y[test_idx], info


def sensitive_frame(frame: pd.DataFrame, names: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """The sensitive columns of ``frame`` for the fairness report, numeric ones with many
    values put in quantile bands (``age`` becomes five age bands); plus notes saying so."""
    out: dict[str, pd.Series] = {}
    notes: list[str] = []
    for name in names:
        column = frame[name]
        numbers = pd.to_numeric(
            column.astype("string").str.strip().replace("", None), errors="coerce"
        )
        present = numbers.dropna()
        if len(present) >= 0.95 * column.notna().sum() and present.nunique() > MAX_SENSITIVE_LEVELS:
            edges = np.unique(np.quantile(present, np.linspace(0, 1, SENSITIVE_BANDS + 1)))
            if len(edges) >= 3:
                labels = [f"{_num(edges[i])}-{_num(edges[i + 1])}" for i in range(len(edges) - 1)]
                banded = pd.cut(numbers, edges, labels=labels, include_lowest=True)
                out[name] = banded.astype(object).where(banded.notna(), None)
                notes.append(
                    f"'{name}' is numeric: its fairness groups are {len(labels)} quantile bands "
                    f"({', '.join(labels)})"
                )
                continue
        out[name] = column
    return pd.DataFrame(out, index=frame.index), notes


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.3g}"


def _guarded(compute: Callable[[], Any]) -> Any:
    """A section of the record; a failure becomes ``{"error": ...}`` and the run goes on."""
    from apprentice.errors import ApprenticeError

    try:
        return compute()
    except ApprenticeError as exc:
        return {"error": exc.message}
    except Exception as exc:
        return {"error": f"{type(exc).__name__} while computing this section"}


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# -- the run ----------------------------------------------------------------------------------


@dataclass
class _Stage:
    observer: RunObserver
    timings: dict[str, float]
    name: str = ""
    started: float = 0.0
    #: each stage's end (``time.monotonic()``)
    ended: dict[str, float] = field(default_factory=dict)

    def start(self, name: str, *, budget: float | None = None) -> None:
        self.name = name
        self.started = time.monotonic()
        self.observer.stage_started(name, budget=budget)

    def done(self, summary: str = "") -> None:
        self.ended[self.name] = now = time.monotonic()
        seconds = now - self.started
        logger.info("run stage %s done in %.3f s", self.name, seconds)
        self.timings[f"{self.name}_s"] = round(seconds, 3)
        self.observer.stage_finished(self.name, seconds, summary)

    def say(self, text: str) -> None:
        self.observer.message(self.name, text)

    def timed(self, name: str, work: Callable[[], str]) -> None:
        """Run ``work`` as stage ``name`` (safe on another thread); it returns the summary."""
        begun = time.monotonic()
        self.observer.stage_started(name)
        summary = work()
        self.ended[name] = now = time.monotonic()
        seconds = now - begun
        logger.info("run stage %s done in %.3f s", name, seconds)
        self.timings[f"{name}_s"] = round(seconds, 3)
        self.observer.stage_finished(name, seconds, summary)

    def finish_with(self, work: Callable[[], str]) -> None:
        """Run ``work`` as the rest of the current stage, then end it with its summary."""
        self.done(work())


def run(
    source: str | Path | pd.DataFrame,
    *,
    target: str,
    sensitive: Sequence[str] = (),
    name: str | None = None,
    time_budget: float | None = 60.0,
    max_trials: int | None = None,
    metric: str | None = None,
    split: str | None = None,
    test_size: float = 0.25,
    seed: int = 0,
    task: str | None = None,
    keep_columns: Sequence[str] = (),
    drop_columns: Sequence[str] | Mapping[str, str] = (),
    families: Sequence[str] | None = None,
    n_jobs: int | None = None,
    tracking_uri: str | None = None,
    track: bool = True,
    report: bool = True,
    n_boot: int = 1000,
    settings: Settings | None = None,
    observer: RunObserver | None = None,
    fold_runner: FoldRunner | None = None,
    threshold: float | None = None,
    holdout_rows: Sequence[int] | None = None,
    started: float | None = None,
) -> RunResult:
    """Read, clean, guard, train, evaluate, explain, assess fairness, register and report.

    ``sensitive`` names columns to assess group fairness on (they stay features unless in
    ``drop_columns``). ``name`` is the registered model's name (default
    ``<file stem>-<target>``). ``tracking_uri`` overrides ``MLFLOW_TRACKING_URI``; without
    either the workspace's SQLite store is used. ``track=False`` records nothing in MLflow.
    The training options are those of :func:`apprentice.train` (``fold_runner``: where the
    search's folds are fitted, e.g. on Dask workers). ``started`` (a ``time.monotonic()``
    value, e.g. :func:`~apprentice.workflows.train.command_started`) is when the command
    began: the budget counts from there (default: now).
    """
    from apprentice.track import check_name

    settings = settings or get_settings()
    observer = observer or RunObserver()
    timings: dict[str, float] = {}
    stage = _Stage(observer, timings)
    started = time.monotonic() if started is None else min(started, time.monotonic())
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    sensitive = _check_options(sensitive, time_budget, name)
    # -- before anything: the tracking store must be usable (it opens as :func:`_cpus` says)
    one_core = _cpus() <= 1
    tracker = _open_tracker(tracking_uri, settings, now=not one_core) if track else None

    # -- read
    stage.start("read")
    raw, source_text = _read_source(source, target, sensitive, settings, time_budget, seed)
    data = fingerprint(raw, source if not isinstance(source, pd.DataFrame) else None)
    shape = f"{len(raw.table):,} rows, {len(raw.table.columns)} columns"
    stage.done(f"{shape}, {raw.rows_quarantined} quarantined")
    _check_spent(time_budget, started, raw.table)

    name = name or default_name(source_text, target)
    check_name(name)

    # -- clean (the whole file, for the ledger, PII findings and the schema contract; a table
    # far larger than the budget can use: the random part of it that training draws from)
    stage.start("clean")
    from apprentice.workflows.clean import clean_file

    part = _budget_part(raw, time_budget, seed)
    cleaned = clean_file(part, target=target, settings=settings)
    sampled = "" if part is raw else f" (a random {len(part.table):,} rows)"
    stage.done(f"{len(cleaned.ledger.columns)} columns typed{sampled}; ledger written")
    _check_spent(time_budget, started, part.table)
    if tracker is not None and one_core:
        tracker.open(background=True)

    # -- guard: the task must fit the model name; PII and schema are recorded
    stage.start("guard")
    stage.done(_guard(part, target=target, task=task, tracker=tracker, name=name, cleaned=cleaned))

    run_id, folder = _new_run_dir(runs_dir(settings), name)
    try:
        return _run_in(
            folder,
            run_id=run_id,
            name=name,
            created_at=created_at,
            raw=raw,
            source_text=source_text,
            data=data,
            cleaned=cleaned,
            target=target,
            sensitive=sensitive,
            train_options={
                "time_budget": time_budget,
                "metric": metric,
                "split": split,
                "test_size": test_size,
                "seed": seed,
                "max_trials": max_trials,
                "task": task,
                "keep_columns": tuple(keep_columns),
                "drop_columns": drop_columns,  # a mapping keeps each one's reason
                "n_jobs": n_jobs,
                "families": tuple(families) if families is not None else None,
                "n_boot": n_boot,
                "fold_runner": fold_runner,
                "threshold": threshold,
                "holdout_rows": holdout_rows,
                "after_seconds": _after_training_seconds(time_budget, sensitive, started=started),
            },
            tracker=tracker,
            make_report=report,
            stage=stage,
            started=started,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        _settle(tracker)
        raise


def _check_options(
    sensitive: Sequence[str], time_budget: float | None, name: str | None
) -> list[str]:
    """The sensitive columns, stripped; a :class:`ConfigError` for a repeated one, a budget
    that is not positive or an unusable model name."""
    from apprentice.track import check_name

    columns = [s.strip() for s in sensitive if s and s.strip()]
    if len(set(columns)) != len(columns):
        raise ConfigError("a sensitive column is named twice; name each once")
    if time_budget is not None and time_budget <= 0:
        raise ConfigError("the time budget must be a positive number of seconds")
    if name is not None:
        check_name(name)
    return columns


def _open_tracker(tracking_uri: str | None, settings: Settings, *, now: bool = True) -> Tracker:
    """The tracking store, checked (a server answers quickly) and, when ``now``, opening in
    the background (else the caller opens it)."""
    from apprentice.track import Tracker

    tracker = Tracker(tracking_uri, settings=settings)
    tracker.check()
    if tracker.new_store:
        # a new store's schema is created once training's plan holds (``train``'s
        # ``before_search``): a refusal before then would wait for it, 20-27 s on a busy core;
        # MLflow is imported meanwhile
        tracker.hold_writes()
    if now:
        tracker.open(background=True)
    return tracker


def _settle(tracker: Tracker | None) -> None:
    """Before a failed run ends the process: let the store finish opening when it has begun
    writing. Its background thread may be creating a new SQLite store's schema, and an exit in
    the middle of that leaves a store no later run can open ("duplicate column name"). A
    thread still importing MLflow is cancelled instead (it stops before writing): waiting
    for it ended a refused run 22-25 s after its refusal on a busy core."""
    if tracker is None or not tracker.opened:
        return
    if tracker.cancel():  # still importing MLflow: it stops before writing to the store
        return
    try:
        tracker.wait()
    except Exception as exc:  # the run's own error is the one raised; this one is logged
        log.warning("the tracking store did not open either: %s", getattr(exc, "message", exc))
        log.debug("the store's error", exc_info=True)


def _cpus() -> int:
    """The CPUs this process may use (a process pinned to one core: 1). On one core, the
    store's background opening (importing MLflow takes seconds) runs after the budget checks
    that follow the read and the clean: during them it would only delay a refusal."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _check_spent(budget: float | None, started: float, table: pd.DataFrame) -> None:
    """A budget spent already (a large file on a busy machine) fails now, before the
    registry and the training are touched (:class:`~apprentice.errors.BudgetError`)."""
    if budget is None:
        return
    from apprentice.clock import Clock
    from apprentice.workflows.train import check_time_left

    clock = Clock(budget, start=started)
    check_time_left(clock, rows=len(table), features=len(table.columns))


def _budget_part(raw: ReadResult, budget: float | None, seed: int) -> ReadResult:
    """``raw``, or a random part of a table larger than ``budget`` can clean before training
    (half the cells it affords, at least 20,000 rows, drawn from the rows training draws
    from: :func:`~apprentice.workflows.train.sample_positions`): cleaning and guarding every
    row of ten million would spend the budget before training starts, and the types, PII
    findings and task they decide are the same on a part (the ledger says it counted a
    part). Training learns its own cleaning recipe on its training rows."""
    if budget is None:
        return raw
    import dataclasses

    from apprentice.workflows.train import CELLS_PER_BUDGET_SECOND, sample_positions

    table = raw.table
    columns = max(len(table.columns), 1)
    most = max(20_000, int(budget * CELLS_PER_BUDGET_SECOND / (2 * columns)))
    if len(table) <= most:
        return raw
    positions = sample_positions(len(table), budget=budget, columns=columns, seed=seed)
    if len(positions) > most:
        positions = np.sort(np.random.default_rng(seed).permutation(positions)[:most])
    logger.info("clean and guard on a random %d of %d rows", len(positions), len(table))
    return dataclasses.replace(raw, table=table.iloc[positions].reset_index(drop=True))


def _after_training_seconds(
    budget: float | None, sensitive: Sequence[str], *, started: float | None = None
) -> float:
    """Seconds the run needs after training, inside the budget: the holdout analyses and the
    explanations (a share of the budget: they size themselves to what is left,
    :meth:`_Analyses.explain`), the fairness report when asked for, and the registry, the
    report and the record (seconds of an idle core, stretched by how busy the machine has
    been since ``started``: :func:`~apprentice.workflows.train.busy_factor`)."""
    if budget is None:
        return 0.0
    from apprentice.clock import Clock
    from apprentice.workflows.train import busy_factor

    slow = busy_factor(Clock(budget, start=started)) if started is not None else 1.0
    share = min(0.08 * budget, 6.0) + (min(0.05 * budget, 4.0) if sensitive else 0.0)
    return (CLOSING_SECONDS + 1.0) * slow + share


def _guard(
    raw: ReadResult,
    *,
    target: str,
    task: str | None,
    tracker: Tracker | None,
    name: str,
    cleaned: Any,
) -> str:
    """The task must fit the registered model of that name; the stage's summary line."""
    from apprentice.learn.task import prepare_target
    from apprentice.track import check_name, check_task

    detected = prepare_target(raw.table[target], name=target, task=task)
    if tracker is not None:
        if tracker.new_store:  # nothing registered yet: no need to wait for the schema
            check_name(name)
        else:
            tracker.wait()
            check_task(tracker, name, task=detected.task, target=target)
    pii_columns = cleaned.pii.pii_columns
    return f"task {detected.task}; PII columns: {', '.join(pii_columns) if pii_columns else 'none'}"


def _read_source(
    source: str | Path | pd.DataFrame,
    target: str,
    sensitive: Sequence[str],
    settings: Settings,
    budget: float | None = None,
    seed: int = 0,
) -> tuple[ReadResult, str]:
    """The rows (a file read, or a DataFrame as it is) and the source's name; the target and
    the sensitive columns must be among the columns. Under a ``budget``, a file far larger
    than it can use is read in part, as training would sample it
    (:func:`~apprentice.workflows.train.read_sample_rows`; the result says how many rows the
    file holds)."""
    from apprentice.read import read

    if isinstance(source, pd.DataFrame):
        from apprentice.read import ReadResult

        raw = ReadResult(
            table=source.reset_index(drop=True).copy(), source="dataframe", format="dataframe"
        )
        source_text = "dataframe"
    else:
        from apprentice.workflows.train import no_table, read_sample_rows

        sample = None if budget is None else read_sample_rows(budget)
        raw = read(source, settings=settings, sample_rows=sample, seed=seed)
        no_table(raw)
        source_text = str(source)
    raw.table.columns = pd.Index([str(c) for c in raw.table.columns])
    columns = list(raw.table.columns)
    if target not in columns:
        raise TargetError(
            f"the target column '{target}' is not in the table" + _suggest(target, columns)
        )
    for column in sensitive:
        if column not in columns:
            raise ConfigError(
                f"the sensitive column '{column}' is not in the table" + _suggest(column, columns)
            )
        if column == target:
            raise ConfigError(
                f"the sensitive column '{column}' is the target; name feature columns"
            )
    return raw, source_text


def _run_in(
    folder: Path,
    *,
    run_id: str,
    name: str,
    created_at: str,
    raw: ReadResult,
    source_text: str,
    data: dict[str, Any],
    cleaned: Any,
    target: str,
    sensitive: list[str],
    train_options: dict[str, Any],
    tracker: Tracker | None,
    make_report: bool,
    stage: _Stage,
    started: float,
) -> RunResult:
    from apprentice.workflows.train import train

    timings = stage.timings
    ledger_path = folder / "ledger.json"
    schema_path = folder / "schema.json"
    cleaned.write(schema=schema_path)

    # -- train
    budget = train_options["time_budget"]
    stage.start("train", budget=budget)
    result = train(
        raw,
        target=target,
        out=folder / "bundle",
        progress=stage.say,
        started=started,  # the budget counts from the command's start, reading included
        pii=cleaned.pii,  # one PII detection: the guard's, which the report and record show
        before_search=tracker.allow_writes if tracker is not None else None,
        **train_options,
    )
    stage.done(f"{result.champion}; {len(result.leaderboard)} candidates")
    # what the budget bounds: from the command's start to the bundle written
    timings["to_bundle_s"] = round(time.monotonic() - started, 3)
    _write_ledger(ledger_path, cleaned, result, len(raw.table), budget)

    _keep_frame(folder, raw, data)
    record = _record_from_training(
        result,
        folder=folder,
        run_id=run_id,
        name=name,
        created_at=created_at,
        source_text=source_text,
        data=data,
        cleaned=cleaned,
        sensitive=sensitive,
        train_options=train_options,
    )
    record.timings = timings  # shared: later stages add theirs

    # -- evaluate: the holdout rows through the bundle; then the analyses of the holdout
    # (plots, error slices, profile), the explanations and the fairness report run side by
    # side on two threads: training is over, the cores are free, and the heavy parts (LightGBM
    # contributions, numpy) release the GIL. Each stage reports its own start and end.
    trained_at = time.monotonic()
    stage.start("evaluate")
    bundle = result.bundle
    positions, y_holdout, _ = _holdout(raw.table, result, train_options)
    raw_holdout = raw.table.iloc[positions].reset_index(drop=True)
    features = raw_holdout.drop(columns=[target])
    pred = _holdout_output(result, features)
    _check_holdout(record, result, y_holdout, pred)
    _write_holdout(folder, positions, data, raw, target)
    record.holdout = {
        "file": str(folder / HOLDOUT),
        "rows": len(positions),
        "source_sha256": data["sha256"],
    }
    seed = int(train_options["seed"])
    from apprentice.evaluate.fairness import suggest_sensitive

    record.sensitive_suggested = [
        c for c in suggest_sensitive(features.columns) if c not in sensitive and c != target
    ]
    budget = train_options["time_budget"]
    analysis = _Analyses(
        record, bundle, features, y_holdout, pred, positions, raw.table, cleaned, sensitive, seed
    )
    if budget is not None:
        analysis.deadline = started + float(budget) - CLOSING_SECONDS
    logged = _metrics(record)  # known after training; the analyses add theirs later
    tracked = _analyse(stage, analysis, tracker, result, logged)
    record.save()

    # -- register: the MLflow run gets the analyses' metrics; the bundle becomes a version
    if tracker is not None and tracked is not None:
        stage.start("register")
        registration = _register(tracker, record, tracked, logged)
        record.tracking = tracked.to_dict()
        record.model = registration.to_dict()
        stage.done(f"{registration.name} version {registration.version} ({registration.alias})")
    else:
        stage.observer.stage_skipped("register", "tracking is off")

    # -- report
    if make_report:
        stage.start("report")
        record.report = write_run_report(record, folder)
        stage.done(str(record.report.get("html")) if record.report else "not written")
    else:
        stage.observer.stage_skipped("report", "report is off")
    timings["total_s"] = round(time.monotonic() - started, 3)
    timings["after_training_s"] = round(time.monotonic() - trained_at, 3)
    record.budget = _budget_account(stage, result, budget, started)
    record.save()
    if tracker is not None and tracked is not None:
        _finish_tracking(tracker, tracked.run_id, record, folder)
    return record


#: the run's own stages after training, and when each is planned to end (seconds before the
#: end of the budget): the analyses by the explanations' deadline, the rest by the budget
_AFTER_TRAINING_PLAN = {
    "evaluate": CLOSING_SECONDS,
    "explain": CLOSING_SECONDS,
    "fairness": CLOSING_SECONDS,
    "register": 0.0,
    "report": 0.0,
}


def _budget_account(
    stage: _Stage, result: TrainResult, budget: float | None, started: float
) -> dict[str, Any] | None:
    """The whole run's plan against what happened, in seconds since the command started: the
    run's reading, cleaning and guard (not planned: bounded by the row caps), training's
    steps (``train.<step>``, as :func:`~apprentice.workflows.train.budget_account` says), the
    run's stages after training and the whole run (``total``: planned to end with the
    budget). Each overrun is logged. ``None`` without a budget."""
    if budget is None:
        return None
    trained = result.budget or {}
    steps: list[dict[str, Any]] = []

    def add(name: str, ended: float, planned: float | None) -> None:
        over = None if planned is None else max(0.0, ended - planned)
        steps.append(
            {
                "step": name,
                "planned_end_s": None if planned is None else round(planned, 2),
                "ended_s": round(ended, 2),
                "over_s": None if over is None else round(over, 2),
            }
        )
        if over:
            logger.info("budget: %s ended at %.1f s, %.1f s past its plan", name, ended, over)

    for name in ("read", "clean", "guard"):
        if name in stage.ended:
            add(name, stage.ended[name] - started, None)
    for step in trained.get("steps", []):
        add(f"train.{step['step']}", float(step["ended_s"]), step.get("planned_end_s"))
    for name, before_end in _AFTER_TRAINING_PLAN.items():
        if name in stage.ended:
            add(name, stage.ended[name] - started, float(budget) - before_end)
    add("total", time.monotonic() - started, float(budget))
    return {
        "budget_s": budget,
        "limit_s": round(1.05 * float(budget) + 5.0, 2),
        "held_s": trained.get("held_s", {}),
        "steps": steps,
    }


def _write_ledger(
    path: Path, cleaned: Any, result: TrainResult, rows: int, budget: float | None
) -> None:
    """The cleaning ledger with training's part, and what a budget-sized sample left out."""
    document = cleaned.ledger_dict()
    document["training"] = result.ledger
    if len(cleaned.table) < rows:
        document["sampled"] = {
            "rows": len(cleaned.table),
            "rows_available": rows,
            "reason": f"the {budget:g} s budget cleaned and checked a random "
            f"{len(cleaned.table):,} of the {rows:,} rows before training: the "
            "counts above are of those rows; give a larger --time-budget to count every row",
        }
    path.write_text(
        json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )


def _holdout_output(result: TrainResult, features: pd.DataFrame) -> np.ndarray:
    """What the bundle outputs on the holdout rows: train()'s own predictions when it kept
    them for these rows, else the bundle run on them."""
    shipped = getattr(result, "holdout_output", None)
    if shipped is not None and len(shipped) == len(features):
        return np.asarray(shipped)
    return np.asarray(result.bundle._output(features)) if len(features) else np.zeros(0)


@dataclass
class _Analyses:
    """The analyses of the holdout after training (plots, error slices, profile), the
    explanations and the fairness report: each fills its part of the record."""

    record: RunResult
    bundle: Bundle
    features: pd.DataFrame
    y: np.ndarray
    pred: np.ndarray
    positions: np.ndarray
    table: pd.DataFrame
    cleaned: Any
    sensitive: list[str]
    seed: int
    #: when the explanations must be done (``time.monotonic()``; ``None``: no budget)
    deadline: float | None = None

    def analyses(self) -> str:
        record, bundle, features = self.record, self.bundle, self.features
        if len(self.positions):
            from apprentice.report.analysis import column_profile, holdout_plots

            task, excluded = record.task, list(record.excluded_columns)
            record.plots = _guarded(
                lambda: holdout_plots(
                    task,
                    self.y,
                    self.pred,
                    classes=bundle.classes,
                    threshold=bundle.threshold,
                    seed=self.seed,
                )
            )
            record.error_slices_ = _guarded(
                lambda: _slices(features, self.y, self.pred, task, excluded, bundle.threshold)
            )

            def profile() -> dict[str, Any]:
                from apprentice.bundle.cleaning import clean_frame

                chosen = bundle._select(features) if bundle.input_columns else features
                return column_profile(
                    clean_frame(bundle.cleaner, chosen), bundle.manifest.get("schema")
                )

            record.profile = _guarded(profile)
        significant = (
            sum(1 for s in record.error_slices_ if s.get("significant"))
            if isinstance(record.error_slices_, list)
            else 0
        )
        return f"{len(self.positions):,} holdout rows; {significant} slice(s) with more errors"

    def explain(self) -> str:
        record = self.record
        if record.constant_model:
            return "no importance: the constant baseline uses no feature"
        if len(self.positions):
            from apprentice.explain import explain_global
            from apprentice.workflows.train import contribution_rows

            rows = EXPLAIN_ROWS
            if self.deadline is not None:
                # the explanation's cost per row grows with the model: it gets the rows the
                # time left affords, timed on a few
                rows = contribution_rows(
                    lambda f: explain_global(self.bundle, f, max_rows=len(f), seed=self.seed),
                    self.features,
                    seconds=self.deadline - time.monotonic(),
                    most=EXPLAIN_ROWS,
                )
                logger.info("explain: %d holdout rows in the time left", rows)
            record.explain = _guarded(
                lambda: explain_global(
                    self.bundle, self.features, self.y, max_rows=max(rows, 1), seed=self.seed
                ).to_dict()
            )
        top = []
        if isinstance(record.explain, dict) and isinstance(record.explain.get("importance"), list):
            top = [str(row.get("feature")) for row in record.explain["importance"][:3]]
        return "most important: " + ", ".join(top) if top else "no importance computed"

    def fairness(self) -> str:
        self.record.fairness = _guarded(
            lambda: _fairness(
                _sensitive_values(self.table, self.cleaned, self.positions, self.sensitive),
                self.sensitive,
                self.y,
                self.pred,
                self.record.task,
                self.bundle,
                self.seed,
            )
        )
        return f"groups of {', '.join(self.sensitive)} compared"


def _analyse(
    stage: _Stage,
    analysis: _Analyses,
    tracker: Tracker | None,
    result: TrainResult,
    logged: dict[str, float],
) -> Any:
    """The analyses side by side on threads while the MLflow run opens; the tracked run."""
    from concurrent.futures import ThreadPoolExecutor

    record, sensitive, positions = analysis.record, analysis.sensitive, analysis.positions
    tracked = None
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="apprentice-analysis") as pool:
        # the MLflow run starts meanwhile (mostly file copies and SQLite writes)
        opening = (
            pool.submit(_open_tracking, tracker, record, result, logged)
            if tracker is not None
            else None
        )
        jobs = []
        if sensitive and len(positions):  # the longest first
            jobs.append(pool.submit(stage.timed, "fairness", analysis.fairness))
        jobs.append(pool.submit(stage.timed, "explain", analysis.explain))
        jobs.append(pool.submit(stage.finish_with, analysis.analyses))  # the evaluate rest
        try:
            for job in jobs:
                job.result()
        finally:
            if opening is not None:
                tracked = opening.result()
                if any(job.exception() for job in jobs) and tracker is not None:
                    tracker._fail(tracked.run_id)
    if not (sensitive and len(positions)):
        record.fairness = None
        stage.observer.stage_skipped(
            "fairness",
            "no --sensitive columns"
            + (
                f" (these look sensitive: {', '.join(record.sensitive_suggested)})"
                if record.sensitive_suggested
                else ""
            ),
        )
    return tracked


def _holdout(
    table: pd.DataFrame, result: TrainResult, options: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, Any]:
    given = getattr(result, "holdout_index", None)
    evaluated = getattr(result, "holdout_y", None)
    if given is not None and evaluated is not None and len(evaluated) == len(given):
        # the targets training evaluated: no second pass over every row of the table (ten
        # million rows took minutes)
        return np.asarray(given, dtype=np.int64), np.asarray(evaluated), None
    if given is not None:
        from apprentice.learn.task import prepare_target

        info = prepare_target(table[result.target], name=result.target, task=result.task)
        positions = np.asarray(given, dtype=np.int64)
        codes = np.full(len(table), -1, dtype=np.int64) if result.task != "regression" else None
        kept = np.flatnonzero(info.kept)
        if codes is not None:
            codes[kept] = info.y
            return positions, codes[positions], info
        values = np.full(len(table), np.nan)
        values[kept] = info.y
        return positions, values[positions], info
    return holdout_positions(
        table,
        target=result.target,
        task=options.get("task"),
        split=options.get("split"),
        test_size=float(options.get("test_size", 0.25)),
        seed=int(options.get("seed", 0)),
    )


def _check_holdout(record: RunResult, result: TrainResult, y: np.ndarray, pred: np.ndarray) -> None:
    """The recomputed holdout must reproduce the bundle's own holdout metric."""
    expected = record.split.get("holdout_rows")
    if expected is not None and int(expected) != len(y):
        raise RuntimeError(
            f"the holdout has {len(y)} rows but training held out {expected}; please report this"
        )
    name = _holdout_name(result.metric, result.task)
    if not len(y) or name not in result.metrics:
        return
    from apprentice.evaluate.metrics import weighted_metric

    value = float(
        weighted_metric(
            name, result.task, y, pred, np.ones((1, len(y))), threshold=result.threshold
        )[0]
    )
    shipped = result.metrics[name].value
    if not math.isclose(value, shipped, rel_tol=1e-6, abs_tol=1e-9):
        raise RuntimeError(
            f"the holdout rows do not reproduce the holdout {name} ({value:.6f} vs "
            f"{shipped:.6f}); please report this"
        )


def _keep_frame(folder: Path, raw: ReadResult, data: dict[str, Any]) -> None:
    """For a DataFrame source, a copy of the rows in the run folder (``input.parquet``, or
    ``input.csv`` when a column cannot be stored in Parquet), named in ``data["copy"]``, so
    that the run's reproduce line is a command that works; its fingerprint is in ``data``."""
    if data.get("source") != "dataframe":
        return
    import pyarrow as pa

    try:
        raw.table.to_parquet(folder / "input.parquet", index=False)
        data["copy"] = "input.parquet"
    except (pa.ArrowException, ValueError, TypeError) as exc:  # mixed types in a column
        log.info("the input frame cannot be stored as Parquet (%s); keeping it as CSV", exc)
        (folder / "input.parquet").unlink(missing_ok=True)
        raw.table.to_csv(folder / "input.csv", index=False)
        data["copy"] = "input.csv"


def _write_holdout(
    folder: Path, positions: np.ndarray, data: Mapping[str, Any], raw: ReadResult, target: str
) -> None:
    document = {
        "source": data["source"],
        "source_sha256": data["sha256"],
        "rows_as_read": data["rows"],
        "target": target,
        "positions": [int(p) for p in positions],
    }
    (folder / HOLDOUT).write_text(json.dumps(document) + "\n", encoding="utf-8")
    if data["source"] == "dataframe":  # no file to read back: keep the rows themselves
        raw.table.iloc[positions].reset_index(drop=True).to_parquet(folder / "holdout.parquet")


def _slices(
    features: pd.DataFrame,
    y: np.ndarray,
    pred: np.ndarray,
    task: str,
    excluded: list[str],
    threshold: float | None,
) -> list[dict[str, Any]]:
    from apprentice.evaluate.slices import error_slices, slices_to_records

    return slices_to_records(
        error_slices(features, y, pred, task=task, threshold=threshold, exclude=excluded)
    )


def _sensitive_values(
    table: pd.DataFrame, cleaned: Any, positions: np.ndarray, names: Sequence[str]
) -> pd.DataFrame:
    """The sensitive columns of the holdout rows, cleaned (markers such as ``?`` or ``NA``
    are missing values, labels lose stray spaces) when the cleaned table has every row."""
    typed = getattr(cleaned, "table", None)
    if isinstance(typed, pd.DataFrame) and len(typed) == len(table):
        renamed = {str(r.original): r.name for r in cleaned.ledger.columns}
        renamed |= {r.name: r.name for r in cleaned.ledger.columns}
        if all(renamed.get(n) in typed.columns for n in names):
            out = typed.iloc[positions][[renamed[n] for n in names]]
            return out.set_axis(list(names), axis=1).reset_index(drop=True)
    return table.iloc[positions][list(names)].reset_index(drop=True)


def _fairness(
    raw_holdout: pd.DataFrame,
    sensitive: list[str],
    y: np.ndarray,
    pred: np.ndarray,
    task: str,
    bundle: Bundle,
    seed: int,
) -> dict[str, Any]:
    from apprentice.evaluate.fairness import fairness_report

    frame, notes = sensitive_frame(raw_holdout, sensitive)
    labels = pred if task == "regression" else bundle.decide(pred)
    report = fairness_report(
        y,
        labels,
        frame,
        task=task,
        proba=pred if task == "binary" else None,
        positive=1 if task == "binary" else None,
        seed=seed,
    )
    report.notes = notes + list(report.notes)
    out = report.to_dict()
    if task == "binary" and bundle.classes:
        out["positive_class"] = str(bundle.classes[1])
    return out


def _record_from_training(
    result: TrainResult,
    *,
    folder: Path,
    run_id: str,
    name: str,
    created_at: str,
    source_text: str,
    data: dict[str, Any],
    cleaned: Any,
    sensitive: list[str],
    train_options: Mapping[str, Any],
) -> RunResult:
    from apprentice.bundle.io import library_versions
    from apprentice.evaluate import metrics_to_dict
    from apprentice.track import git_commit

    manifest = result.bundle.manifest
    board = result.leaderboard.astype(object).where(result.leaderboard.notna(), None)
    versions = library_versions()
    try:
        from importlib import metadata

        versions["mlflow"] = metadata.version("mlflow")
    except Exception:  # mlflow-skinny, or absent
        pass
    # a DataFrame has no file to name: the reproduce line reads the copy kept in the run folder
    source_arg = str(folder / data["copy"]) if data.get("copy") else source_text
    command = ["apprentice", "run", source_arg, "--target", result.target, "--name", name]
    if sensitive:
        command += ["--sensitive", ",".join(sensitive)]
    if train_options.get("time_budget") is not None:
        command += ["--time-budget", f"{train_options['time_budget']:g}"]
    if train_options.get("max_trials") is not None:
        command += ["--max-trials", str(train_options["max_trials"])]
    command += ["--seed", str(train_options.get("seed", 0))]
    if train_options.get("split"):
        command += ["--split", str(train_options["split"])]
    if train_options.get("test_size") not in (None, 0.25):
        command += ["--test-size", f"{train_options['test_size']:g}"]
    if train_options.get("families"):
        command += ["--families", ",".join(train_options["families"])]
    for column in train_options.get("keep_columns") or ():
        command += ["--keep-column", str(column)]
    for column in train_options.get("drop_columns") or ():
        command += ["--drop-column", str(column)]
    if train_options.get("threshold") is not None:
        command += ["--threshold", f"{train_options['threshold']:g}"]
    compute = dict(getattr(result, "compute", None) or {})
    if compute.get("runner") == "dask" and compute.get("address"):
        command += ["--dask", str(compute["address"])]
    summary = cleaned.summary()
    return RunResult(
        run_id=run_id,
        name=name,
        created_at=created_at,
        path=folder,
        source=source_text,
        target=result.target,
        task=result.task,
        metric=result.metric,
        champion=result.champion,
        baseline=result.search.baseline if result.search is not None else None,
        data=data,
        cleaning=summary,
        pii=dict(summary.get("pii") or {}),
        ledger=list(result.ledger),
        classes=result.classes,
        threshold=result.threshold,
        threshold_source=manifest.get("decision_threshold_source"),
        bundle_dir=str(result.path),
        split=dict(manifest.get("split") or {}),
        leaderboard_rows=board.to_dict(orient="records"),
        metrics=metrics_to_dict(result.metrics),
        cv=dict(result.cv),
        comparisons=[c.to_dict() for c in result.comparisons],
        calibration=result.calibration.to_dict() if result.calibration else None,
        leakage=result.leakage.to_dict(),
        excluded_columns=dict(manifest.get("excluded_columns") or {}),
        schema=dict(manifest.get("schema") or {}),
        sensitive=list(sensitive),
        git=git_commit(),
        reproduce={
            "command": shlex.join(command),
            "seed": train_options.get("seed", 0),
            "time_budget": train_options.get("time_budget"),
            "max_trials": train_options.get("max_trials"),
            "versions": versions,
            "compute": compute,
        },
        warnings=list(result.warnings),
        constant_model=bool(getattr(result, "constant", False)),
    )


def _params(record: RunResult) -> dict[str, Any]:
    reproduce = record.reproduce
    split = record.split
    params: dict[str, Any] = {
        "target": record.target,
        "task": record.task,
        "metric": record.metric,
        "champion": record.champion,
        "sensitive": ",".join(record.sensitive) or None,
        "time_budget": reproduce.get("time_budget"),
        "max_trials": reproduce.get("max_trials"),
        "seed": reproduce.get("seed"),
        "split": split.get("kind"),
        "split_column": split.get("column"),
        "test_size": split.get("test_size"),
        "train_rows": split.get("train_rows"),
        "holdout_rows": split.get("holdout_rows"),
        "threshold": record.threshold,
        "excluded_columns": ",".join(record.excluded_columns) or None,
        "data.source": record.data.get("source"),
        "data.sha256": record.data.get("sha256"),
        "data.rows": record.data.get("rows"),
        "data.columns": record.data.get("columns"),
        "data.quarantined": record.data.get("quarantined"),
        "apprentice.run_id": record.run_id,
    }
    for library, version in (reproduce.get("versions") or {}).items():
        params[f"version.{library}"] = version
    compute = reproduce.get("compute") or {}
    for key in ("runner", "address", "workers"):  # where the search ran
        if compute.get(key) is not None:
            params[f"compute.{key}"] = compute[key]
    return params


def _metrics(record: RunResult) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for key, iv in record.metrics.items():
        metrics[f"holdout_{key}"] = iv.get("value", math.nan)
        metrics[f"holdout_{key}_low"] = iv.get("low", math.nan)
        metrics[f"holdout_{key}_high"] = iv.get("high", math.nan)
    cv = record.cv or {}
    metrics[f"cv_{record.metric}_mean"] = cv.get("mean", math.nan)
    if cv.get("std") is not None:
        metrics[f"cv_{record.metric}_std"] = cv["std"]
    for comparison in record.comparisons:
        role = str(comparison.get("role", "other")).replace("-", "_")
        metrics[f"vs_{role}_difference"] = comparison.get("difference", math.nan)
        metrics[f"vs_{role}_low"] = comparison.get("low", math.nan)
        metrics[f"vs_{role}_high"] = comparison.get("high", math.nan)
        metrics[f"vs_{role}_p_value"] = comparison.get("p_value", math.nan)
    if record.calibration and "ece" in record.calibration:
        metrics["calibration_ece"] = record.calibration["ece"]
    fairness = record.fairness if isinstance(record.fairness, dict) else {}
    for column, gaps in (fairness.get("summary") or {}).items():
        if not isinstance(gaps, dict):
            continue
        for gap, value in gaps.items():
            number = _float(value.get("value") if isinstance(value, dict) else value)
            if number is not None:
                metrics[f"fairness.{_metric_key(column)}.{_metric_key(gap)}"] = number
    for key, seconds in dict(record.timings).items():  # a copy: stages run on threads
        metrics[f"time.{_metric_key(key)}"] = seconds
    return {k: v for k, v in metrics.items() if _float(v) is not None}


def _metric_key(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text))[:200]


def _children(result: TrainResult) -> list[Any]:
    from apprentice.track import ChildRun

    children = []
    board = result.leaderboard
    configs = {}
    if result.search is not None:
        configs = {c.name: c.config for c in result.search.candidates}
    score = f"cv_{result.metric}"
    usable = ("ok", "truncated", "not kept")
    rows = board[board["status"].isin(usable)] if "status" in board.columns else board
    for row in rows.head(TOP_CANDIDATES).to_dict(orient="records"):
        model = str(row.get("model"))
        config = configs.get(model)
        params: dict[str, Any] = {"model": model, "family": row.get("family")}
        if config is not None:
            params.update({f"param.{k}": v for k, v in config.params.items()})
        metrics = {
            score: row.get(score),
            f"{score}_std": row.get("cv_std"),
            "fit_s": row.get("fit_s"),
            "predict_ms_per_1k": row.get("predict_ms_per_1k"),
            "rank": row.get("rank"),
        }
        children.append(
            ChildRun(
                name=model,
                params=params,
                metrics={k: v for k, v in metrics.items() if _float(v) is not None},
                tags={"apprentice.champion": str(bool(row.get("champion"))).lower()},
            )
        )
    return children


def _open_tracking(
    tracker: Tracker, record: RunResult, result: TrainResult, metrics: dict[str, float]
) -> Any:
    """Start the MLflow run: parameters, the metrics known after training, the bundle, ledger,
    schema and holdout as artifacts, the top candidates as child runs. It stays open."""
    from apprentice.track import RunLog

    folder = record.path
    tags = {
        "apprentice.run_id": record.run_id,
        "apprentice.task": record.task,
        "apprentice.target": record.target,
        "mlflow.source.name": record.source,
        "mlflow.source.type": "LOCAL",
    }
    if record.git:
        tags["mlflow.source.git.commit"] = str(record.git.get("commit"))
        tags["apprentice.git_dirty"] = str(record.git.get("dirty")).lower()
    log = RunLog(
        experiment=record.name,
        run_name=record.run_id,
        params=_params(record),
        metrics=metrics,
        tags=tags,
        artifacts=[
            (folder / "bundle", "bundle"),
            (folder / "ledger.json", ""),
            (folder / "schema.json", ""),
            (folder / HOLDOUT, ""),
        ],
        children=_children(result),
    )
    return tracker.log_run(log, keep_open=True)


def _register(tracker: Tracker, record: RunResult, tracked: Any, logged: dict[str, float]) -> Any:
    """The metrics of the analyses, then the bundle as a new model version."""
    from apprentice.track import register_bundle

    try:
        fresh = {k: v for k, v in _metrics(record).items() if k not in logged}
        tracker.log_metrics(tracked.run_id, fresh)
        head = record.headline
        description = f"{record.champion} for '{record.target}' ({record.task})"
        if head is not None:
            description += (
                f"; holdout {head[0]} {head[1]['value']:.4f} "
                f"[{head[1]['low']:.4f}, {head[1]['high']:.4f}]"
            )
        return register_bundle(
            tracker,
            name=record.name,
            run_id=tracked.run_id,
            source=f"{tracked.artifact_uri.rstrip('/')}/bundle",
            task=record.task,
            target=record.target,
            tags={
                "apprentice.run_id": record.run_id,
                "apprentice.champion": record.champion,
                "apprentice.metric": record.metric,
                **({"apprentice.score": f"{head[1]['value']:.6g}"} if head is not None else {}),
            },
            description=description,
        )
    except BaseException:
        tracker._fail(tracked.run_id)
        raise


def write_run_report(record: RunResult, folder: Path) -> dict[str, Any] | None:
    """Write the run's ``report.html`` and ``model_card.md``; their paths (``None``, with a
    warning in the record, when the report cannot be written)."""
    try:
        from apprentice.report import write_report
    except (ImportError, AttributeError):
        record.warnings.append("the report stage is not available in this installation")
        return None
    try:
        paths = write_report(record.to_dict(), folder)
    except Exception as exc:  # the model and its numbers stand; say what is missing
        message = getattr(exc, "message", None) or type(exc).__name__
        record.warnings.append(f"the report could not be written ({message})")
        return None
    html = getattr(paths, "html", None)
    card = getattr(paths, "model_card", None)
    return {"html": str(html) if html else None, "model_card": str(card) if card else None}


def _finish_tracking(tracker: Tracker, run_id: str, record: RunResult, folder: Path) -> None:
    """Attach the run record and the report to the MLflow run and close it."""
    from apprentice.track import TrackingError

    artifacts: list[tuple[Path, str]] = [(folder / RECORD, "")]
    for key in ("html", "model_card"):
        if record.report and record.report.get(key):
            artifacts.append((Path(record.report[key]), "report"))
    try:
        tracker.add_artifacts(run_id, artifacts)
        metrics = {
            f"time.{_metric_key(k)}": v
            for k, v in record.timings.items()
            if k in ("report_s", "register_s", "total_s", "after_training_s")
        }
        tracker.log_metrics(run_id, metrics)
        tracker.finish(run_id)
    except TrackingError as exc:
        record.warnings.append(f"the run record could not be attached to MLflow ({exc.message})")
        record.save()


def to_json(result: RunResult) -> str:
    return json.dumps(result.to_dict(), indent=2, default=_json_default, ensure_ascii=False)


__all__ = [
    "STAGES",
    "RunNotFoundError",
    "RunObserver",
    "RunResult",
    "default_name",
    "fingerprint",
    "holdout_positions",
    "list_runs",
    "load_run",
    "run",
    "runs_dir",
    "sensitive_frame",
    "write_run_report",
]
