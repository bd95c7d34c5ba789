"""``apprentice.train``: training as short steps sharing one frozen, validated
:class:`TrainOptions`, run by one small runner (:func:`run_steps`) under one budget.

The steps (:data:`STEPS`): check the inputs, type the target, split the holdout (a
:class:`Holdout` that ``run`` reuses), fit the cleaning, guard the features, search, write
the bundle, evaluate the holdout through it, attach the monitoring profile. The holdout is
split from the raw rows first; the cleaning recipe, the guards and the search only ever see
the training part. The champion's holdout numbers come from the written bundle itself (raw
holdout rows through ``bundle.predict_proba``), so they describe exactly the artifact that
ships. ``apprentice.train`` and ``apprentice.bundle.train`` are this module's :func:`train`.

The time budget counts from the command's start (:class:`~apprentice.learn.search.Clock`)
and is planned, each part logged:

* reading: a table far larger than the budget can use is sampled before any parsing
  (:func:`sample_positions`), the split keeps at most :func:`row_caps` rows;
* before the search, :func:`_reserve_after` holds back, by name (:attr:`TrainState.plan`),
  what the steps after it need: writing the bundle, the holdout through it, the bootstrap
  (timed, :func:`evaluation_seconds`), the profile and its importance (which then sizes
  itself to the time left: :func:`contribution_rows`), and the caller's own steps
  (``after_seconds``: ``run``'s explanations, fairness, registry and report);
* :func:`_check_budget`: one real learner must fit besides the constant baseline. Its cost is
  estimated, and timed on the data when the estimate does not fit comfortably; when only a
  part of the training rows fits, the search trains on that part (said so); when not even
  that fits, :class:`~apprentice.errors.BudgetError` names the budget needed and nothing is
  written;
* the search (:func:`apprentice.learn.search.search`) adds the refit of the champion, the
  baselines and the runner-up and the holdout predictions to the reserve from the fit and
  predict times it measures, and starts no candidate whose estimated cost does not fit.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.bundle.cleaning import as_text_frame, cleaner_class, recipe_json
from apprentice.bundle.io import MANIFEST, load_bundle, write_bundle
from apprentice.bundle.model import Bundle
from apprentice.errors import (
    ApprenticeError,
    ConfigError,
    EmptyInputError,
    FeatureError,
    TargetError,
)

if TYPE_CHECKING:
    from apprentice.evaluate import Calibration, Comparison, Interval
    from apprentice.learn.leakage import LeakageReport
    from apprentice.learn.search import Clock, FoldRunner, SearchResult

# learn and evaluate (scikit-learn, scipy) are imported inside ``train``, after its clock has
# started: their import time counts against the budget like everything else.

logger = logging.getLogger(__name__)
Progress = Callable[[str], None]
PARITY_TOLERANCE = 1e-6

#: search metric -> holdout metric name used for the paired tests
PAIRED_METRIC = {
    "roc_auc": "roc_auc",
    "pr_auc": "pr_auc",
    "log_loss": "log_loss",
    "brier": "brier",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "f1": "f1",
    "rmse": "rmse",
    "mae": "mae",
    "r2": "r2",
}


@dataclass
class TrainResult:
    """What :func:`train` returns.

    ``leaderboard`` is a DataFrame (it renders as HTML in Jupyter); ``metrics`` maps each
    holdout metric to an :class:`~apprentice.evaluate.Interval`; ``bundle`` is the loaded,
    verified artifact at ``path``.
    """

    bundle: Bundle
    path: Path
    task: str
    target: str
    metric: str
    classes: list[Any] | None
    leaderboard: pd.DataFrame
    metrics: dict[str, Interval]
    comparisons: list[Comparison]
    calibration: Calibration | None
    cv: dict[str, Any]
    threshold: float | None
    leakage: LeakageReport
    ledger: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    search: SearchResult | None = field(default=None, repr=False)
    #: where the search's folds were fitted (in-process, or a Dask cluster and its workers)
    compute: dict[str, Any] = field(default_factory=dict)
    #: the model is the constant baseline: the same prediction for every row, no feature used
    constant: bool = False
    #: the holdout split (``run`` reuses it instead of splitting again)
    holdout: Holdout | None = field(default=None, repr=False)
    #: positions of the holdout rows in the table as read
    holdout_index: np.ndarray | None = field(default=None, repr=False)
    #: the bundle's output on those rows (probabilities or values), as evaluated
    holdout_output: np.ndarray | None = field(default=None, repr=False)
    #: the target of those rows as evaluated (class indices or values)
    holdout_y: np.ndarray | None = field(default=None, repr=False)
    #: each step's planned end against its actual end (:func:`budget_account`), or ``None``
    budget: dict[str, Any] | None = None

    @property
    def champion(self) -> str:
        return str(self.bundle.manifest["model"]["name"])

    def to_dict(self) -> dict[str, Any]:
        from apprentice.evaluate import metrics_to_dict

        board = self.leaderboard.replace({np.nan: None}).to_dict(orient="records")
        return {
            "bundle": str(self.path),
            "task": self.task,
            "target": self.target,
            "metric": self.metric,
            "classes": self.classes,
            "champion": self.champion,
            "cv": self.cv,
            "metrics": metrics_to_dict(self.metrics),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "threshold": self.threshold,
            "leaderboard": board,
            "leakage": self.leakage.to_dict(),
            "ledger": self.ledger,
            "warnings": self.warnings,
            "timings": self.timings,
            "compute": self.compute,
            "constant": self.constant,
            "budget": self.budget,
        }

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{self.champion}</b> for <code>{self.target}</code> ({self.task}); "
            f"holdout: " + ", ".join(f"{k} {v}" for k, v in self.metrics.items()) + "</p>"
        )
        return head + self.leaderboard.to_html(index=False)


def command_started() -> float:
    """When this process started, on the ``time.monotonic()`` clock (Linux: from
    ``/proc/self/stat``; elsewhere: now): a command's budget counts from there, so the Python
    start and the imports are inside it like everything else."""
    now = time.monotonic()
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # starttime: clock ticks after boot
        import os

        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - age if 0 <= age < 3600 else now


def default_bundle_dir(source: str, target: str) -> Path:
    """Where a bundle goes when no --out is given: the workspace, by source, target and time."""
    from apprentice.config import get_settings

    stem = Path(source).name.split(".")[0] if source else "data"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{stem}-{target}")
    return get_settings().workspace / "bundles" / f"{safe}-{stamp}"


def no_table(result: Any) -> None:
    """A source with no column at all (an empty file, only whitespace) is an error that says
    why, before any column is looked for in it."""
    if result.table.shape[1] == 0:
        raise EmptyInputError(
            result.notes[0] if result.notes else f"{result.source}: no table found in it"
        )


def repeated_target(result: Any, target: str) -> str | None:
    """The warning when the source names the target column more than once: the first is the
    target, the others are features under a suffixed name (a copy of the target among the
    features would be a leak a reviewer wants named)."""
    originals = [str(c).strip() for c in getattr(result, "original_columns", [])]
    if originals.count(target) < 2 or len(originals) != result.table.shape[1]:
        return None
    others = [
        str(name)
        for name, original in zip(result.table.columns, originals, strict=True)
        if original == target and str(name) != target
    ]
    return (
        f"the file has {originals.count(target)} columns named '{target}': the first is the "
        f"target, the other(s) are read as {', '.join(repr(o) for o in others)} and used as "
        "features; pass --target with the suffixed name to predict another one"
    )


def _read(
    data: Any, budget: float | None = None, seed: int = 0, target: str | None = None
) -> tuple[pd.DataFrame, str, list[str], int]:
    """Raw rows (text cells when read from a file), the source name, read notes, and how
    many rows the source holds. Under a ``budget``, a file far larger than it can use is
    read in part (:func:`read_sample_rows`): the rows not drawn are never parsed."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True), "dataframe", [], len(data)
    from apprentice.read import ReadResult, read

    if isinstance(data, ReadResult):
        result = data
    else:
        sample = None if budget is None else read_sample_rows(budget)
        result = read(str(data), sample_rows=sample, seed=seed)
    no_table(result)
    notes = []
    repeated = None if target is None else repeated_target(result, target)
    if repeated is not None:
        notes.append(repeated)
    if result.rows_quarantined:
        notes.append(
            f"{result.rows_quarantined:,} malformed row(s) of the file were quarantined by the "
            "reader and are not used"
        )
    total = result.rows_sampled_from or len(result.table)
    return result.table.reset_index(drop=True), str(result.source), notes, total


def read_sample_rows(budget: float) -> Callable[[int], int]:
    """``read(sample_rows=...)`` for a ``budget``: the rows :func:`sample_positions` would
    keep of a table with that many columns (twice the budget's row caps)."""

    def rows(columns: int) -> int:
        return 2 * sum(row_caps(budget, columns))

    return rows


def _suggest(target: str, columns: Sequence[str]) -> str:
    folded = {c.casefold().strip(): c for c in columns}
    match = folded.get(target.casefold().strip())
    if match is not None:
        return f"; did you mean '{match}'?"
    shown = ", ".join(f"'{c}'" for c in list(columns)[:12])
    return f"; the columns are {shown}" + (" ..." if len(columns) > 12 else "")


def _fit_cleaning(
    raw_train: pd.DataFrame, raw_test: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, str | None, list[dict[str, Any]]]:
    """Typed training and holdout frames, the recipe JSON (or ``None``) and ledger records."""
    cls = cleaner_class()
    if cls is not None:
        cleaner = cls()
        text_train = as_text_frame(raw_train)
        typed_train = cleaner.fit_transform(text_train)
        typed_test = cleaner.transform(as_text_frame(raw_test))
        # types only (the clean stage's own ledger, with examples, is written by the workflow)
        recipe = getattr(cleaner, "recipe_", None)
        kinds = {str(c.name): str(c.kind) for c in getattr(recipe, "columns", [])}
        records: list[dict[str, Any]] = [
            {
                "action": "clean_recipe",
                "columns": len(kinds),
                "types": kinds,
                "reason": "the cleaning recipe learned on the training rows only",
            }
        ]
        return typed_train, typed_test, recipe_json(cleaner), records
    from apprentice.learn.typing import basic_types, numeric_columns

    numeric = numeric_columns(raw_train)
    return (
        basic_types(raw_train, numeric),
        basic_types(raw_test, numeric),
        None,
        [
            {
                "stage": "clean",
                "action": "basic_typing",
                "columns": numeric,
                "reason": "numbers parsed where nearly every cell is a number (no Cleaner)",
            }
        ],
    )


@dataclass(frozen=True)
class TrainOptions:
    """Every option of one training, validated once; the steps only read it."""

    target: str
    time_budget: float | None = 60.0
    metric: str | None = None
    split: str | None = None
    test_size: float = 0.25
    seed: int = 0
    max_trials: int | None = None
    out: Path | None = None
    task: str | None = None
    keep_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    #: why a dropped column is dropped, when the caller knows (else "dropped by the user")
    drop_reasons: tuple[tuple[str, str], ...] = ()
    n_jobs: int | None = None
    ensemble: bool = True
    families: tuple[str, ...] | None = None
    fast_predict: bool = True
    n_boot: int = 1000
    #: a binary model's decision threshold (``None``: tuned on out-of-fold predictions)
    threshold: float | None = None
    #: the holdout named by the caller: positions in the table as read (``retrain``: the newest
    #: labelled rows); ``split`` then only shapes the search's folds
    holdout_rows: tuple[int, ...] | None = None
    #: seconds the caller needs after training, inside the same budget (``run``: the
    #: explanations, fairness, registry and report): the planner holds them back too
    after_seconds: float = 0.0
    #: the clean stage's PII findings (a ``PIIReport``, columns named as the cleaner names
    #: them; ``run`` passes ``clean_file(...).pii``): the guard excludes by them instead of
    #: detecting again, so the report, the run record and the exclusions give one answer
    pii: Any = None

    def __post_init__(self) -> None:
        if self.time_budget is not None and self.time_budget <= 0:
            raise ConfigError("the time budget must be a positive number of seconds")
        if not (math.isfinite(self.after_seconds) and self.after_seconds >= 0):
            raise ConfigError("after_seconds must be zero or a positive number of seconds")
        if self.max_trials is not None and self.max_trials < 0:
            raise ConfigError("--max-trials must be zero or a positive whole number")
        if self.families is not None:
            from apprentice.learn.models import FAMILIES

            unknown = sorted(set(self.families) - set(FAMILIES))
            if unknown:
                raise ConfigError(
                    f"unknown model families {', '.join(unknown)}; choose among "
                    f"{', '.join(FAMILIES)}"
                )


@dataclass
class Holdout:
    """The rows held out from everything learned: positions in the prepared table (rows with
    a target), positions in the table as read, and how they were chosen.

    ``run``, ``compare`` and ``retrain`` reuse it instead of splitting again."""

    spec: Any
    train_idx: np.ndarray
    test_idx: np.ndarray
    #: positions of the holdout rows in the table as read
    positions: np.ndarray
    groups: np.ndarray | None = None
    times: np.ndarray | None = None
    #: the rows were named by the caller (``spec`` then only shapes the search's folds)
    given: bool = False

    @property
    def kind(self) -> str:
        """How the holdout was chosen: ``given``, or the split's kind."""
        return "given" if self.given else str(self.spec.kind)

    @property
    def cv_groups(self) -> np.ndarray | None:
        return self.groups[self.train_idx] if self.groups is not None else None

    @property
    def cv_times(self) -> np.ndarray | None:
        return self.times[self.train_idx] if self.times is not None else None


@dataclass
class TrainState:
    """What the steps hand on to each other (each step fills its part)."""

    options: TrainOptions
    clock: Clock
    say: Progress
    data: Any
    fold_runner: FoldRunner | None = None
    warnings: list[str] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""
    row_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: rows in the source (more than ``raw`` holds when only a part of a file was read)
    rows_total: int = 0
    info: Any = None
    holdout: Holdout | None = None
    features_raw: pd.DataFrame = field(default_factory=pd.DataFrame)
    typed_train: pd.DataFrame = field(default_factory=pd.DataFrame)
    typed_test: pd.DataFrame = field(default_factory=pd.DataFrame)
    recipe: str | None = None
    pii_report: Any = None
    excluded: dict[str, str] = field(default_factory=dict)
    leakage: Any = None
    feature_cols: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    search: Any = None
    out_path: Path | None = None
    bundle: Bundle | None = None
    shipped: np.ndarray = field(default_factory=lambda: np.zeros(0))
    metrics: dict[str, Any] = field(default_factory=dict)
    comparisons: list[Any] = field(default_factory=list)
    calibration: Any = None
    constant: bool = False
    #: the decision threshold the bundle predicts at, and how it was chosen
    cut: float | None = None
    cut_source: str | None = None
    #: the planner's reservations: seconds held back from the search for each later step
    plan: dict[str, float] = field(default_factory=dict)
    #: each step's end, in seconds since the command started
    ended: dict[str, float] = field(default_factory=dict)
    #: called once the plan holds a real learner, just before the search starts (``run``
    #: lets its tracking store create a new schema then: a refusal before it ends at once)
    before_search: Callable[[], None] | None = None

    @property
    def n_test(self) -> int:
        return len(self.holdout.test_idx) if self.holdout is not None else 0


Step = Callable[[TrainState], None]


def check_inputs(state: TrainState) -> None:
    """Read the rows, check the target and named columns, sample a table far too large."""
    opts = state.options
    raw, state.source, notes, state.rows_total = _read(
        state.data, opts.time_budget, opts.seed, opts.target
    )
    state.warnings.extend(notes)
    if state.rows_total > len(raw):
        state.ledger.append(
            {
                "stage": "read",
                "action": "sample_rows",
                "rows": len(raw),
                "rows_available": state.rows_total,
                "reason": f"the file has {state.rows_total:,} rows, more than "
                + _budget_words(opts.time_budget)
                + f" can use: a random {len(raw):,} of them were read (the others were not "
                "parsed)",
            }
        )
    columns = [str(c) for c in raw.columns]
    raw.columns = pd.Index(columns)
    if opts.target not in columns:
        raise TargetError(
            f"the target column '{opts.target}' is not in the table"
            + _suggest(opts.target, columns)
        )
    for name in list(opts.drop_columns) + list(opts.keep_columns):
        if name not in columns:
            raise ConfigError(f"column '{name}' is not in the table" + _suggest(name, columns))
    check_time_left(state.clock, rows=len(raw), features=len(columns))
    # far more rows than the budget can use: a random part of them, before any parsing
    state.row_positions = np.arange(len(raw))
    if opts.time_budget is not None:
        positions = sample_positions(
            len(raw), budget=opts.time_budget, columns=len(columns), seed=opts.seed
        )
        if len(positions) < len(raw):
            reason = (
                f"the table has {len(raw):,} rows, more than a {opts.time_budget:g} s budget "
                f"can use: training and holdout rows are drawn from a random "
                f"{len(positions):,} of them; give a larger --time-budget, or use --dask to "
                "train on every row"
            )
            state.warnings.append(reason)
            state.ledger.append(
                {
                    "stage": "read",
                    "action": "sample_rows",
                    "rows": len(positions),
                    "rows_available": len(raw),
                    "reason": reason,
                }
            )
            raw = raw.iloc[positions].reset_index(drop=True)
            state.row_positions = positions
    state.raw = raw


def prepare(state: TrainState) -> None:
    """Type the target (rows without one leave) and choose the selection metric."""
    from apprentice.evaluate.metrics import decision_threshold
    from apprentice.learn.task import prepare_target

    opts = state.options
    info = prepare_target(state.raw[opts.target], name=opts.target, task=opts.task)
    state.ledger.extend({"stage": "target", **r} for r in info.ledger)
    state.warnings.extend(info.warnings)
    merged = [r for r in info.ledger if r.get("action") == "merge_target_labels"]
    if merged:  # an assumption about the labels: said, not only written in the ledger
        shown = "; ".join(
            f"{r['from']!r} -> {r['to']!r} ({r['rows']:,} row(s))" for r in merged[:5]
        )
        more = f" and {len(merged) - 5} more" if len(merged) > 5 else ""
        state.warnings.append(
            f"labels of '{opts.target}' written differently were merged: {shown}{more}; "
            "if they are different classes, fix the labels in the file"
        )
    state.raw = state.raw.loc[info.kept].reset_index(drop=True)
    state.info = info
    # a bad --threshold (or one on a task without it) fails here, before anything is trained
    decision_threshold(info.task, tuned=None, requested=opts.threshold)
    classes = f", {info.n_classes} classes" if info.classes else ""
    state.say(f"target '{opts.target}': {info.task}{classes}")


def split_holdout(
    raw: pd.DataFrame, info: Any, options: TrainOptions, row_positions: np.ndarray | None = None
) -> Holdout:
    """The holdout split of the rows with a target (before anything is learned)."""
    from apprentice.learn.split import holdout_split, parse_split, parse_time, resolve_split

    spec = resolve_split(parse_split(options.split), info.task)
    groups = times = None
    if spec.kind in ("group", "time"):
        assert spec.column is not None
        if spec.column not in raw.columns or spec.column == options.target:
            others = [str(c) for c in raw.columns if c != options.target]
            raise ConfigError(
                f"the split column '{spec.column}' is not a feature column of the table"
                + _suggest(spec.column, others)
            )
        if spec.kind == "group":
            groups = raw[spec.column].astype(str).to_numpy()
        else:
            times = parse_time(raw[spec.column], spec.column)
    read_positions = np.flatnonzero(info.kept)
    if row_positions is not None:
        read_positions = row_positions[read_positions]
    if options.holdout_rows is not None:  # the caller's rows (those with a target)
        given = np.isin(read_positions, np.asarray(options.holdout_rows, dtype=np.int64))
        train_idx, test_idx = np.flatnonzero(~given), np.flatnonzero(given)
    else:
        train_idx, test_idx = holdout_split(
            len(raw),
            spec,
            y=info.y,
            task=info.task,
            test_size=options.test_size,
            seed=options.seed,
            groups=groups,
            times=times,
        )
    if (options.test_size > 0 and len(test_idx) < 5) or len(train_idx) < 15:
        raise TargetError(
            f"the split leaves {len(train_idx)} training and {len(test_idx)} holdout rows; add "
            "rows or change --test-size"
        )
    holdout = Holdout(spec, train_idx, test_idx, read_positions[test_idx], groups, times)
    holdout.given = options.holdout_rows is not None
    return holdout


def split_step(state: TrainState) -> None:
    """Split the holdout, cap the rows to the budget, set the feature columns apart."""
    opts = state.options
    holdout = split_holdout(state.raw, state.info, opts, state.row_positions)
    if opts.time_budget is not None:
        columns = len(state.raw.columns)
        train_idx, test_idx, capped = cap_rows(
            holdout.train_idx,
            holdout.test_idx,
            budget=opts.time_budget,
            columns=columns,
            seed=opts.seed,
        )
        if capped:
            state.warnings.append(capped["reason"])
            state.ledger.append({"stage": "split", **capped})
            read_positions = state.row_positions[np.flatnonzero(state.info.kept)]
            holdout.train_idx, holdout.test_idx = train_idx, test_idx
            holdout.positions = read_positions[test_idx]
    spec = holdout.spec
    drops = [opts.target] + [c for c in opts.drop_columns if c != opts.target]
    features_raw = state.raw.drop(columns=drops)
    if spec.kind == "group" and spec.column in features_raw.columns:
        features_raw = features_raw.drop(columns=[spec.column])
        state.ledger.append(_excluded(str(spec.column), "the group column of the split"))
    reasons = dict(opts.drop_reasons)
    for name in opts.drop_columns:
        state.ledger.append(_excluded(name, reasons.get(name, "dropped by the user")))
    state.features_raw = features_raw
    state.holdout = holdout
    state.say(
        f"split {holdout.kind if holdout.given else spec.describe()}: "
        f"{len(holdout.train_idx):,} training rows, "
        f"{len(holdout.test_idx):,} holdout"
    )


def _excluded(column: str, reason: str) -> dict[str, Any]:
    return {"stage": "guard", "action": "exclude_column", "column": column, "reason": reason}


def fit_cleaning(state: TrainState) -> None:
    """The cleaning recipe, learned on the training rows only, applied to both parts."""
    assert state.holdout is not None
    # a budget already spent (reading a large file on a busy machine) fails now, not after
    # cleaning and guarding
    check_time_left(
        state.clock, rows=len(state.holdout.train_idx), features=len(state.features_raw.columns)
    )
    raw_train = state.features_raw.iloc[state.holdout.train_idx].reset_index(drop=True)
    raw_test = state.features_raw.iloc[state.holdout.test_idx].reset_index(drop=True)
    state.typed_train, state.typed_test, state.recipe, records = _fit_cleaning(raw_train, raw_test)
    state.ledger.extend({"stage": "clean", **r} for r in records)


def guard_features(state: TrainState) -> None:
    """Exclude PII, identifiers, constants and near-perfect single features; count the
    holdout rows that copy training rows."""
    from apprentice.learn.features import infer_kind
    from apprentice.learn.leakage import LeakageReport, find_id_like, shared_duplicates

    opts, typed, holdout = state.options, state.typed_train, state.holdout
    assert holdout is not None
    kinds = {str(c): infer_kind(typed[c]) for c in typed.columns}
    excluded = _pii_exclusions(state)
    for column in list(typed.columns):
        if typed[column].nunique(dropna=True) <= 1:
            excluded.setdefault(str(column), "a single value in every training row (no signal)")
    leakage = LeakageReport(holdout_rows=len(holdout.test_idx))
    leakage.id_like = {
        c: r
        for c, r in find_id_like(typed, kinds, positions=holdout.train_idx).items()
        if c not in excluded and c not in opts.keep_columns
    }
    excluded.update(leakage.id_like)
    _near_perfect(state, leakage, kinds, excluded)
    for column, reason in excluded.items():
        state.ledger.append(_excluded(column, reason))
    raw_train = state.features_raw.iloc[holdout.train_idx].reset_index(drop=True)
    raw_test = state.features_raw.iloc[holdout.test_idx].reset_index(drop=True)
    leakage.shared_duplicates = shared_duplicates(raw_train, raw_test) if len(raw_test) else 0
    if leakage.shared_duplicates:
        state.warnings.append(
            f"{leakage.shared_duplicates:,} holdout row(s) are exact copies of training rows; "
            "holdout scores may be optimistic"
        )
    state.feature_cols = [c for c in typed.columns if str(c) not in excluded]
    if not state.feature_cols:
        raise FeatureError(
            f"every feature column was excluded ({len(excluded)}: identifiers, PII, constant "
            "or leaking columns, see the ledger); use --keep-column to keep one, or add "
            "feature columns"
        )
    state.excluded, state.leakage = excluded, leakage
    state.kinds = {c: kinds[c] for c in state.feature_cols}
    _forget_pii_values(state)


def _forget_pii_values(state: TrainState) -> None:
    """No PII value reaches the bundle, whatever the column became.

    A column flagged as personal data that is not a feature keeps no value in the bundle: its
    recipe entry becomes plain text (a phone column typed as a category had every number in
    ``recipe.json``, the run folder and the MLflow artifacts). A column flagged with low
    confidence stays a feature, but its PII values do not: in the training and holdout frames
    a cell that is one becomes missing (an embedded one a ``[kind]`` mark) before anything is
    learned (in the raw rows too), and the recipe loses them from its categories and markers;
    so the encoders, the feature specs and the drift profile never see them."""
    report = state.pii_report
    if state.recipe is None or report is None:
        return
    from apprentice.clean.recipe import forget_values
    from apprentice.guard.protect import forget_pii_cells, scrub_recipe_values

    flagged = {str(c) for c in getattr(report, "pii_columns", {}) or {}}
    gone = sorted(c for c in flagged if c not in state.feature_cols)
    if gone:
        state.recipe = forget_values(state.recipe, gone)
        state.ledger.append(
            {
                "stage": "guard",
                "action": "forget_pii_values",
                "columns": gone,
                "reason": "personal data that is not a feature: no value of it is kept in "
                "the bundle's cleaning recipe",
            }
        )
    low = sorted(
        str(c)
        for c in getattr(report, "flagged_columns", set()) or set()
        if str(c) in {str(f) for f in state.feature_cols}
    )
    if not low:
        return
    state.typed_train, changed = forget_pii_cells(state.typed_train, low)
    state.typed_test, _ = forget_pii_cells(state.typed_test, low)
    # the raw rows too: the holdout goes through the bundle and into the drift profile
    state.raw, _ = forget_pii_cells(state.raw, low)
    state.features_raw, _ = forget_pii_cells(state.features_raw, low)
    state.recipe = scrub_recipe_values(state.recipe, low)
    state.ledger.append(
        {
            "stage": "guard",
            "action": "forget_pii_cells",
            "columns": low,
            "cells": changed,
            "reason": "a feature with a few PII values (low confidence): those cells are "
            "treated as missing (embedded ones replaced by their kind) and no such value is "
            "kept in the bundle",
        }
    )


def _pii_exclusions(state: TrainState) -> dict[str, str]:
    """Feature columns that are personal data, with the reason. One detection: the clean
    stage's findings when the caller has them (:attr:`TrainOptions.pii`, restricted to the
    feature columns), else one scan of the training rows here; the bundle's schema and the
    PII values forgotten follow the same report."""
    from apprentice.guard import PIIReport, detect_pii, protection_plan

    given = state.options.pii
    features = {str(c) for c in state.typed_train.columns}
    if given is not None:
        state.pii_report = PIIReport(
            findings=[f for f in given.findings if str(f.column) in features],
            rows_scanned=given.rows_scanned,
            rows_total=given.rows_total,
            columns_scanned=[c for c in given.columns_scanned if str(c) in features],
        )
        logger.info(
            "PII: the clean stage's findings (%d columns)", len(state.pii_report.pii_columns)
        )
    else:
        state.pii_report = detect_pii(state.typed_train, sample=5000, seed=state.options.seed)
    plan = protection_plan(state.pii_report)
    return {
        column: reason
        for column, reason in plan.excluded.items()
        if column not in state.options.keep_columns
    }


def _near_perfect(
    state: TrainState, leakage: Any, kinds: dict[str, str], excluded: dict[str, str]
) -> None:
    from apprentice.learn.leakage import find_near_perfect

    opts = state.options
    assert state.holdout is not None
    candidates = state.typed_train.drop(
        columns=[c for c in excluded if c in state.typed_train.columns]
    )
    y_train = state.info.y[state.holdout.train_idx]
    leakage.near_perfect = find_near_perfect(
        candidates, y_train, state.info.task, kinds, seed=opts.seed
    )
    leakage.kept = [c for c in leakage.near_perfect if c in opts.keep_columns]
    for column, value in leakage.near_perfect.items():
        if column in opts.keep_columns:
            state.warnings.append(
                f"column '{column}' predicts the target almost perfectly on its own "
                f"(score {value:.3f}) and was kept because you asked to"
            )
        else:
            excluded[column] = leakage.excluded[column]
            state.warnings.append(
                f"column '{column}' predicts the target almost perfectly on its own "
                f"(score {value:.3f}): excluded as a likely leak; use --keep-column "
                f"{column} if it will be known at prediction time"
            )
    _review_leakage(state, leakage, kinds, excluded)


#: the least budget left before the search for which the leakage review runs
REVIEW_MIN_SECONDS = 10.0


def _review_leakage(
    state: TrainState, leakage: Any, kinds: dict[str, str], excluded: dict[str, str]
) -> None:
    """The reviewer's checks (drop-column, single column against the full model, one class
    marked out) on the columns still in: findings are warned about and recorded, not
    excluded. A sampled, cheap check (4,000 training rows, 2,000 under a budget of less than a
    minute; at most a tenth of the time left for its drop-column refits)."""
    from apprentice.learn.leak_review import LeakReview, review_leakage
    from apprentice.learn.models import thread_limit

    assert state.holdout is not None
    columns = [c for c in state.typed_train.columns if c not in excluded]
    remaining = state.clock.remaining()
    if remaining < REVIEW_MIN_SECONDS:
        review = LeakReview(metric="R2" if state.info.task == "regression" else "ROC AUC")
        review.note = (
            f"not run: {max(remaining, 0):.0f} s of the budget were left before the search "
            f"(the review needs about {REVIEW_MIN_SECONDS:.0f} s); give a larger --time-budget"
        )
        leakage.review = review
        state.warnings.append(f"leakage review {review.note}")
        return
    # one thread: small cheap fits, where OpenMP threads on a busy machine cost 7x the time
    with thread_limit(1):
        review = review_leakage(
            state.typed_train[columns],
            state.info.y[state.holdout.train_idx],
            state.info.task,
            kinds,
            seed=state.options.seed,
            max_rows=2000 if remaining < 60 else 4000,
            seconds=None if math.isinf(remaining) else max(1.0, 0.1 * remaining),
            class_names=[str(c) for c in state.info.classes] if state.info.classes else None,
        )
    leakage.review = review
    for finding in review.findings:
        state.warnings.append(f"possible target leak ({finding.severity}): {finding.message}")


def evaluation_seconds(task: str, n_test: int, n_classes: int, n_boot: int) -> float:
    """Seconds the holdout metrics and paired tests will take: the least of three timed
    estimates (one scheduler hiccup during an estimate's short timing runs once made it 30
    times the others, and a budget of 60 s was refused as too small), and never less than a
    per-replicate floor."""
    from apprentice.evaluate.metrics import estimate_seconds

    timed = min(estimate_seconds(task, n_test, n_classes, n_boot=n_boot) for _ in range(3))
    n_metric = 7 if task == "binary" else 4 if task != "regression" else 3
    return max(1.5 * timed, n_test * n_boot * n_metric * 5e-8)


def _reserve_after(state: TrainState) -> float:
    """Seconds the steps after the search need, each planned (:attr:`TrainState.plan`, logged):
    write and load the bundle, clean the holdout through it (twice: the evaluation and the
    profile), bootstrap the metrics and paired tests, profile the training features, the
    profile's importance (it sizes itself to its share: :func:`contribution_rows`), and what
    the caller does afterwards (``after_seconds``). The refit and the holdout predictions are
    reserved by the search itself from the fit and predict times it measures."""
    assert state.holdout is not None
    opts, info, n_test = state.options, state.info, state.n_test
    n_train, columns = len(state.holdout.train_idx), max(len(state.feature_cols), 1)
    clean_per_row = state.timings["clean_s"] / max(n_train, 1)
    budget = opts.time_budget or 60.0
    # the parts given in seconds of an idle core take longer on a busy machine; the timed
    # parts (cleaning, bootstrap) already include it, the caller's its own
    slow = busy_factor(state.clock)
    state.plan = {
        "bundle_s": (0.5 + 2e-6 * n_train * columns) * slow,
        "clean_holdout_s": 2 * n_test * clean_per_row,
        "metrics_s": evaluation_seconds(info.task, n_test, info.n_classes, opts.n_boot),
        "profile_s": (0.3 + 1e-6 * n_train * columns) * slow,
        "importance_s": min(0.03 * budget, 3.0) if n_test else 0.0,
        "after_training_s": opts.after_seconds,
    }
    logger.info(
        "time plan: %.1f s held back from the search for %s (machine %.1fx slower than idle)",
        sum(state.plan.values()),
        ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in state.plan.items()),
        slow,
    )
    return sum(state.plan.values())


#: the most a busy machine stretches the planned seconds of an idle core
MAX_BUSY_FACTOR = 2.5


def busy_factor(clock: Clock) -> float:
    """How much slower than an idle core this command has run so far: its wall time over the
    CPU time this process used (1 on an idle core, 2 when it got half of one), between 1
    and :data:`MAX_BUSY_FACTOR`. The CPU time counts from the process's start, so a clock
    started later (a library call) gives 1 or close to it."""
    cpu = time.process_time()
    if clock.budget is None or cpu <= 0.5:
        return 1.0
    return min(max(clock.elapsed() / cpu, 1.0), MAX_BUSY_FACTOR)


def search_models(state: TrainState) -> None:
    """The budgeted search over the portfolio, and the refit of the champion."""
    from apprentice.learn.scoring import resolve_metric
    from apprentice.learn.search import available_threads, search

    opts, holdout = state.options, state.holdout
    assert holdout is not None
    reserve_after = _reserve_after(state)
    _check_budget(state, reserve_after=reserve_after)
    if state.before_search is not None:
        state.before_search()
    result = search(
        state.typed_train[state.feature_cols],
        state.info.y[holdout.train_idx],
        task=state.info.task,
        n_classes=state.info.n_classes,
        metric=resolve_metric(opts.metric, state.info.task),
        clock=state.clock,
        max_trials=opts.max_trials,
        seed=opts.seed,
        n_threads=available_threads(opts.n_jobs),
        split=holdout.spec,
        groups=holdout.cv_groups,
        times=holdout.cv_times,
        kinds=state.kinds,
        ensemble=opts.ensemble,
        families=opts.families,
        fast_predict=opts.fast_predict,
        reserve_after=reserve_after,
        predict_rows=state.n_test,
        progress=state.say,
        fold_runner=state.fold_runner,
    )
    state.warnings.extend(result.warnings)
    state.timings.update(result.timings)
    state.constant = all(m.config.family == "dummy" for m, _ in result.final.members)
    if state.constant and not result.baseline_only:
        state.warnings.append(
            "the constant baseline scored best on cross-validation: no learner found signal "
            "in the features, so the model predicts the same value for every row and uses no "
            "feature"
        )
    state.search = result


def write_bundle_step(state: TrainState) -> None:
    """Write the champion's bundle (recipe, features, members, schema) and load it back."""
    opts, holdout = state.options, state.holdout
    assert holdout is not None
    result = state.search
    from apprentice.evaluate.metrics import decision_threshold

    state.cut, state.cut_source = decision_threshold(
        state.info.task, tuned=result.threshold, requested=opts.threshold
    )
    out_path = opts.out if opts.out is not None else default_bundle_dir(state.source, opts.target)
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": opts.target,
        "classes": state.info.classes,
        "decision_threshold": state.cut,
        "decision_threshold_source": state.cut_source,
        "metric": result.metric,
        "input_columns": [str(c) for c in state.features_raw.columns],
        "feature_columns": state.feature_cols,
        "excluded_columns": state.excluded,
        "schema": _schema(state.typed_train[state.feature_cols], state.pii_report),
        "split": {
            "kind": holdout.kind,
            "column": holdout.spec.column,
            "test_size": _test_size(holdout, opts.test_size),
            "seed": opts.seed,
            "train_rows": len(holdout.train_idx),
            "holdout_rows": state.n_test,
        },
        "source": state.source if state.source != "dataframe" else None,
    }
    state.out_path = Path(out_path)
    write_bundle(
        state.out_path,
        export=result.final.export(),
        recipe_json=state.recipe,
        manifest=manifest,
    )
    state.bundle = load_bundle(state.out_path)


def _test_size(holdout: Holdout, asked: float) -> float:
    """The share of rows held out: as asked, or as given by the caller's rows."""
    if not holdout.given:
        return asked
    return round(len(holdout.test_idx) / max(1, len(holdout.test_idx) + len(holdout.train_idx)), 4)


def evaluate_holdout(state: TrainState) -> None:
    """The raw holdout rows through the written bundle: metrics with intervals, the paired
    tests against the baseline and the runner-up, calibration."""
    from apprentice.evaluate import calibration, holdout_metrics

    opts, holdout, info = state.options, state.holdout, state.info
    assert holdout is not None and state.bundle is not None
    if state.n_test == 0:
        state.warnings.append(
            "no holdout (test size 0): the numbers are cross-validation estimates; evaluate "
            "the bundle on data of your own"
        )
        state.shipped = np.zeros((0, info.n_classes)) if info.task != "regression" else np.zeros(0)
        return
    state.shipped = np.asarray(state.bundle._output(_raw_holdout(state)))
    _check_parity(state)
    y_test = info.y[holdout.test_idx]
    state.metrics = holdout_metrics(
        info.task,
        y_test,
        state.shipped,
        threshold=state.cut,
        n_boot=opts.n_boot,
        seed=opts.seed,
    )
    state.comparisons = _paired_tests(state, y_test)
    if info.task != "regression":
        state.calibration = calibration(y_test, state.shipped)


def _raw_holdout(state: TrainState) -> pd.DataFrame:
    assert state.holdout is not None
    return state.raw.iloc[state.holdout.test_idx].reset_index(drop=True)


def _holdout_features(state: TrainState) -> pd.DataFrame:
    columns = [c for c in state.feature_cols if c in state.typed_test.columns]
    return state.typed_test[columns]


def _check_parity(state: TrainState) -> None:
    """The shipped artifact against the trained model, on up to 1,000 holdout rows."""
    check = np.arange(min(state.n_test, 1000))
    in_memory = state.search.final.predict(_holdout_features(state).iloc[check])
    parity = float(np.nanmax(np.abs(state.shipped[check] - np.asarray(in_memory))))
    state.timings["parity"] = parity
    if not parity <= PARITY_TOLERANCE:
        state.warnings.append(
            f"the bundle's predictions differ from the trained model's by up to {parity:.2g} "
            "on the holdout; please report this"
        )


def _paired_tests(state: TrainState, y_test: np.ndarray) -> list[Comparison]:
    """The champion against the constant and the linear baseline and the runner-up, once
    each, never against itself (:func:`~apprentice.evaluate.compare.comparison_plan`)."""
    from apprentice.evaluate import paired_test
    from apprentice.evaluate.compare import comparison_plan

    result, task = state.search, state.info.task
    paired_metric = PAIRED_METRIC[result.metric]
    if task == "multiclass" and paired_metric == "f1":
        paired_metric = "f1_macro"
    comparisons: list[Comparison] = []
    paired, missing = comparison_plan(
        result.champion, result.members, result.baselines, result.runner_up
    )
    state.warnings.extend(missing)
    for role, other_name, weight in paired:
        other = result.models.get(other_name)
        if other is None:
            state.warnings.append(
                f"no time was left to refit the {role} ({other_name}) for a paired test"
            )
            continue
        comparisons.append(
            paired_test(
                task,
                paired_metric,
                y_test,
                state.shipped,
                other.predict(_holdout_features(state)),
                name_a=result.champion,
                name_b=other_name,
                role=role,
                n_boot=state.options.n_boot,
                seed=state.options.seed,
                threshold=state.cut,
                weight=weight,
            )
        )
    return comparisons


def attach_profile_step(state: TrainState) -> None:
    """The reference profile the monitor compares live data with (the holdout rows, kept
    apart from training, carry the calibration that label-free estimation needs)."""
    if state.n_test == 0:
        return
    from apprentice.monitor.profile import attach_profile, build_profile

    assert state.bundle is not None and state.out_path is not None and state.holdout is not None
    holdout = _raw_holdout(state)
    rows = PROFILE_IMPORTANCE_ROWS
    deadline = state.clock.deadline
    if deadline is not None:
        # the importance gets what is left to the end of training less the rest of the
        # profile, at least its planned share; it sizes itself by timing a few rows
        rest = state.plan.get("profile_s", 0.0) + state.plan.get("clean_holdout_s", 0.0) / 2
        left = deadline - state.options.after_seconds - time.monotonic() - rest
        seconds = max(left, state.plan.get("importance_s", 0.0))
        rows = contribution_rows(
            state.bundle.contributions,
            holdout.drop(columns=[state.options.target]),
            seconds=seconds,
            most=rows,
        )
        logger.info("profile: importance on %d rows (%.1f s for it)", rows, seconds)
    try:
        profile = build_profile(
            state.bundle,
            holdout,
            train_features=state.typed_train[state.feature_cols],
            seed=state.options.seed,
            importance_rows=rows,
        )
        attach_profile(state.out_path, profile, bundle=state.bundle)
    except (ValueError, TypeError, ApprenticeError) as exc:
        state.warnings.append(f"no reference profile for monitoring ({type(exc).__name__})")


#: reference rows the monitoring profile's feature importance is computed on, at most
PROFILE_IMPORTANCE_ROWS = 1000


def contribution_rows(
    explain: Callable[[pd.DataFrame], object],
    frame: pd.DataFrame,
    *,
    seconds: float,
    most: int,
    least: int = 20,
) -> int:
    """How many of ``frame``'s rows ``explain`` (e.g. ``bundle.contributions``) can process
    in ``seconds``, at most ``most``: timed on a few rows first, because the cost per row
    grows with the model (an ensemble of thousands of deep trees took 90 ms a row, a linear
    model a few microseconds). At least ``least`` rows when they take under a second; ``0``
    when the model cannot be explained at all."""
    n = min(len(frame), most)
    probe = min(n, 8)
    if probe == 0:
        return 0
    begun = time.perf_counter()
    try:
        explain(frame.iloc[:probe].reset_index(drop=True))
    except (ApprenticeError, ValueError, TypeError):
        return 0
    per_row = max((time.perf_counter() - begun) / probe, 1e-6)
    floor = least if per_row * least <= 1.0 else probe
    return min(n, max(int(max(seconds, 0.0) / per_row), floor))


#: the steps of a training, in order, with the name their seconds are recorded under
STEPS: tuple[tuple[str, Step], ...] = (
    ("read", check_inputs),
    ("target", prepare),
    ("split", split_step),
    ("clean", fit_cleaning),
    ("guard", guard_features),
    ("train", search_models),
    ("bundle", write_bundle_step),
    ("evaluate", evaluate_holdout),
    ("profile", attach_profile_step),
)


def run_steps(state: TrainState, steps: Sequence[tuple[str, Step]] = STEPS) -> TrainState:
    """Run ``steps`` in order: each one's seconds in ``state.timings``, a log line at each
    boundary; on a failure the bundle folder the steps created is removed."""
    existed = state.options.out is not None and Path(state.options.out).exists()
    try:
        for name, step in steps:
            begun = time.monotonic()
            logger.info("train step %s starts at %.1f s", name, state.clock.elapsed())
            step(state)
            state.timings[f"{name}_s"] = time.monotonic() - begun
            state.ended[name] = state.clock.elapsed()
            planned = planned_ends(state).get(name)
            logger.info(
                "train step %s done in %.3f s, at %.1f s%s",
                name,
                state.timings[f"{name}_s"],
                state.ended[name],
                "" if planned is None else f" (planned by {planned:.1f} s)",
            )
    except BaseException:
        if state.out_path is not None and not existed:
            shutil.rmtree(state.out_path, ignore_errors=True)
        raise
    state.timings["total_s"] = state.clock.elapsed()
    return state


#: the steps the planner gives an end, and the plan entries each one spends
PLANNED_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bundle", ("bundle_s",)),
    ("evaluate", ("metrics_s",)),
    ("profile", ("profile_s", "importance_s")),
)


def planned_ends(state: TrainState) -> dict[str, float]:
    """When each planned step should end, in seconds since the command started: the search
    (with its refit) by the budget less everything held back after it, then each later step
    by its own reservation (cleaning the holdout counts half in the evaluation, half in the
    profile); the caller's steps (``after_training``) end with the budget. Empty before the
    plan is made or without a budget."""
    budget = state.options.time_budget
    if budget is None or not state.plan:
        return {}
    held = {k: v for k, v in state.plan.items() if k != "floor_s"}
    end = budget - sum(held.values())
    ends = {"train": end}
    half_clean = held.get("clean_holdout_s", 0.0) / 2
    for step, entries in PLANNED_STEPS:
        end += sum(held.get(e, 0.0) for e in entries) + (half_clean if step != "bundle" else 0.0)
        ends[step] = end
    ends["after_training"] = budget
    return ends


def budget_account(state: TrainState) -> dict[str, Any] | None:
    """The plan against what happened: for each step its planned end (``None``: not planned,
    the steps before the search are bounded by the row caps), its actual end and how far
    past its plan it ran; what the planner held back (``held_s``). ``None`` without a
    budget."""
    budget = state.options.time_budget
    if budget is None:
        return None
    ends = planned_ends(state)
    steps = []
    for name, ended in state.ended.items():
        planned = ends.get(name)
        steps.append(
            {
                "step": name,
                "planned_end_s": None if planned is None else round(planned, 2),
                "ended_s": round(ended, 2),
                "over_s": None if planned is None else round(max(0.0, ended - planned), 2),
            }
        )
    return {
        "budget_s": budget,
        "limit_s": round(1.05 * budget + 5.0, 2),
        "held_s": {k: round(v, 2) for k, v in state.plan.items()},
        "steps": steps,
    }


def _finish(state: TrainState) -> TrainResult:
    """The manifest's training account, and what :func:`train` returns."""
    from apprentice.bundle.io import json_safe
    from apprentice.evaluate import metrics_to_dict

    result, info = state.search, state.info
    assert state.bundle is not None and state.out_path is not None and state.holdout is not None
    cv = {
        "metric": result.metric,
        "mean": float(np.mean(result.champion_cv)) if result.champion_cv else math.nan,
        "std": float(np.std(result.champion_cv, ddof=1)) if len(result.champion_cv) > 1 else None,
        "folds": len(result.champion_cv),
    }
    timings = {k: v for k, v in state.timings.items() if k != "parity"}
    rows = _rows_used(state)
    extra = json_safe(
        {
            "metrics": metrics_to_dict(state.metrics),
            "cv": cv,
            "comparisons": [c.to_dict() for c in state.comparisons],
            "calibration": state.calibration.to_dict() if state.calibration else None,
            "leaderboard": result.leaderboard.replace({np.nan: None}).to_dict(orient="records"),
            "leakage": state.leakage.to_dict(),
            "ledger": state.ledger,
            "warnings": state.warnings,
            "timings": {k: round(v, 3) for k, v in timings.items()},
            "parity_max_abs_diff": state.timings.get("parity", 0.0),
            "time_budget": state.options.time_budget,
            "max_trials": state.options.max_trials,
            "compute": result.compute,
            "constant": state.constant,
            "rows": rows,
            "budget": budget_account(state),
        }
    )
    _update_manifest(state.out_path, extra)
    state.bundle.manifest.update(extra)
    state.bundle.metrics = extra["metrics"]
    return TrainResult(
        bundle=state.bundle,
        path=state.out_path,
        task=info.task,
        target=state.options.target,
        metric=result.metric,
        classes=info.classes,
        leaderboard=result.leaderboard,
        metrics=state.metrics,
        comparisons=state.comparisons,
        calibration=state.calibration,
        cv=cv,
        threshold=state.cut,
        leakage=state.leakage,
        ledger=state.ledger,
        warnings=state.warnings,
        timings=timings,
        search=result,
        compute=dict(result.compute),
        constant=state.constant,
        holdout=state.holdout,
        holdout_index=state.holdout.positions,
        holdout_output=state.shipped,
        holdout_y=state.info.y[state.holdout.test_idx],
        budget=budget_account(state),
    )


def _budget_words(budget: float | None) -> str:
    return "the time budget" if budget is None else f"the {budget:g} s time budget"


def _rows_used(state: TrainState) -> dict[str, Any]:
    """How many of the source's rows were trained and evaluated on; when the budget made it
    a part, the first warning says so in one sentence ("trained on N of M rows")."""
    assert state.holdout is not None
    total = max(state.rows_total, len(state.raw))
    n_train, n_test = len(state.holdout.train_idx), len(state.holdout.test_idx)
    sampled = any(r.get("action") == "sample_rows" for r in state.ledger)
    if sampled:
        sentence = (
            f"trained on {n_train:,} of {total:,} rows, evaluated on {n_test:,} other rows "
            f"(sampled because of {_budget_words(state.options.time_budget)}; the ledger "
            "says where); give a larger --time-budget, or use --dask, to train on every row"
        )
        if sentence not in state.warnings:
            state.warnings.insert(0, sentence)
    return {"source": total, "train": n_train, "holdout": n_test, "sampled": sampled}


def train(
    data: Any,
    *,
    target: str,
    time_budget: float | None = 60.0,
    metric: str | None = None,
    split: str | None = None,
    test_size: float = 0.25,
    seed: int = 0,
    max_trials: int | None = None,
    out: str | Path | None = None,
    task: str | None = None,
    keep_columns: Sequence[str] = (),
    drop_columns: Sequence[str] | Mapping[str, str] = (),
    n_jobs: int | None = None,
    ensemble: bool = True,
    families: Sequence[str] | None = None,
    fast_predict: bool = True,
    n_boot: int = 1000,
    progress: Progress | None = None,
    fold_runner: FoldRunner | None = None,
    started: float | None = None,
    threshold: float | None = None,
    holdout_rows: Sequence[int] | None = None,
    after_seconds: float = 0.0,
    pii: Any = None,
    before_search: Callable[[], None] | None = None,
) -> TrainResult:
    """Train and evaluate a model for ``target`` and write its bundle.

    ``data`` is a file path (read with :func:`apprentice.read`), a ``ReadResult`` or a
    DataFrame. ``time_budget`` (seconds) bounds the whole call, the final refit included;
    ``None`` with ``max_trials`` gives a reproducible run. ``split`` is ``random``,
    ``stratified``, ``group:COL`` or ``time:COL``. ``keep_columns`` keeps columns the leakage
    guard would exclude; ``drop_columns`` are never features (a mapping gives each one's
    reason for the ledger). ``families`` restricts the
    portfolio (the dummy baseline always runs); ``fast_predict`` keeps the champion to
    families with sub-millisecond single-row prediction (dummy, linear, LightGBM).
    ``fold_runner`` fits the search's cross-validation folds elsewhere (e.g.
    ``apprentice.scale.DaskFoldRunner`` on Dask workers); ``None`` fits them here.
    ``started`` (a ``time.monotonic()`` value) is when the command began: the budget counts
    from there, so reading and cleaning done before this call are inside it.
    ``threshold`` sets a binary model's decision threshold (default: tuned on out-of-fold
    predictions); the bundle predicts at it and every label metric is computed at it.
    ``holdout_rows`` (positions in the table as read) names the holdout instead of ``split``
    and ``test_size`` (``retrain`` holds out the newest labelled rows).
    ``after_seconds``: what the caller will do after this call inside the same budget (the
    search holds it back, like the evaluation and profile that follow it here).
    ``pii``: the clean stage's PII findings (``clean_file(...).pii``) to exclude by, instead
    of a second detection here (:attr:`TrainOptions.pii`).
    ``before_search`` is called once the budget's plan holds a real learner, just before the
    search starts (not at all when the budget is refused).

    The budget always holds one real learner besides the constant baseline; when even that
    cannot fit, :class:`~apprentice.errors.BudgetError` names the budget needed and nothing
    is written. The work itself is :data:`STEPS`, run by :func:`run_steps`.
    """
    started = time.monotonic() if started is None else min(started, time.monotonic())
    options = TrainOptions(
        target=target,
        time_budget=time_budget,
        metric=metric,
        split=split,
        test_size=test_size,
        seed=seed,
        max_trials=max_trials,
        out=Path(out) if out is not None else None,
        task=task,
        keep_columns=tuple(keep_columns),
        drop_columns=tuple(drop_columns),
        drop_reasons=tuple(drop_columns.items()) if isinstance(drop_columns, Mapping) else (),
        n_jobs=n_jobs,
        ensemble=ensemble,
        families=tuple(families) if families is not None else None,
        fast_predict=fast_predict,
        n_boot=n_boot,
        threshold=threshold,
        holdout_rows=tuple(int(r) for r in holdout_rows) if holdout_rows is not None else None,
        after_seconds=after_seconds,
        pii=pii,
    )
    return train_with(
        data,
        options,
        progress=progress,
        fold_runner=fold_runner,
        started=started,
        before_search=before_search,
    )


def train_with(
    data: Any,
    options: TrainOptions,
    *,
    progress: Progress | None = None,
    fold_runner: FoldRunner | None = None,
    started: float | None = None,
    before_search: Callable[[], None] | None = None,
) -> TrainResult:
    """:func:`train` with its options already validated."""
    from apprentice.clock import Clock

    state = TrainState(
        options=options,
        clock=Clock(options.time_budget, start=started),
        say=progress or (lambda _msg: None),
        data=data,
        fold_runner=fold_runner,
        before_search=before_search,
    )
    return _finish(run_steps(state))


#: the most holdout rows a budgeted training evaluates on
HOLDOUT_CAP = 25_000
#: the fewest training rows a budget too tight for all of them may train on instead
MIN_SUBSAMPLE_ROWS = 1_000

#: cells (rows x columns) the budget affords per second: reading and cleaning them must leave
#: most of the budget to the search (about 250,000 cells/s are cleaned on an idle core)
CELLS_PER_BUDGET_SECOND = 25_000


def row_caps(budget: float, columns: int) -> tuple[int, int]:
    """The most training and holdout rows a budget can clean, search and evaluate."""
    cap_train = max(10_000, int(budget * CELLS_PER_BUDGET_SECOND / max(columns, 1)))
    # the holdout's metrics are bootstrapped and every holdout row goes through the bundle
    # (twice): beyond 25,000 rows the intervals hardly narrow and the cost keeps growing
    return cap_train, max(5_000, min(cap_train // 3, HOLDOUT_CAP))


def sample_positions(rows: int, *, budget: float, columns: int, seed: int) -> np.ndarray:
    """Positions of a random part of a table far larger than the budget can use (twice the
    row caps: the split and :func:`cap_rows` decide the rest); all rows otherwise."""
    cap_train, cap_test = row_caps(budget, columns)
    most = 2 * (cap_train + cap_test)
    if rows <= most:
        return np.arange(rows)
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(rows)[:most])


def cap_rows(
    train_idx: np.ndarray, test_idx: np.ndarray, *, budget: float, columns: int, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Random subsets of the training and holdout rows that the budget can clean, search and
    evaluate (unchanged when it can): the positions kept, in order, and a ledger record."""
    cap_train, cap_test = row_caps(budget, columns)
    if len(train_idx) <= cap_train and len(test_idx) <= cap_test:
        return train_idx, test_idx, {}
    rng = np.random.default_rng(seed)
    kept_train = np.sort(rng.permutation(train_idx)[:cap_train])
    kept_test = np.sort(rng.permutation(test_idx)[:cap_test])
    reason = (
        f"the {budget:g} s budget trains on a random {len(kept_train):,} of the "
        f"{len(train_idx):,} training rows and evaluates on {len(kept_test):,} of the "
        f"{len(test_idx):,} holdout rows; give a larger --time-budget, or use --dask to train "
        "on every row"
    )
    return (
        kept_train,
        kept_test,
        {
            "action": "sample_rows",
            "train_rows": len(kept_train),
            "train_rows_available": len(train_idx),
            "holdout_rows": len(kept_test),
            "holdout_rows_available": len(test_idx),
            "reason": reason,
        },
    )


#: seconds per training cell (rows x feature columns) of one linear fit, generously (one core)
_LINEAR_CELL_SECONDS = 2e-6
#: rows the cheapest real learner is timed on when the budget is tight
FLOOR_PROBE_ROWS = 2000


def floor_seconds(rows: int, features: int) -> float:
    """A generous first estimate of the one real learner the plan guarantees (the linear
    model) at its smallest: one cross-validation fold, its refit and its feature pipelines.
    When the budget is tight, :func:`measured_floor_seconds` replaces it."""
    return 1.0 + 3 * rows * max(features, 1) * _LINEAR_CELL_SECONDS


def measured_floor_seconds(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    task: str,
    n_classes: int,
    kinds: dict[str, str],
    seed: int,
    n_threads: int,
) -> float | None:
    """The cost of the cheapest real learner the search guarantees (the linear model) on all
    of ``X``: its feature pipeline and fit timed on two random parts of the rows (a quarter
    of :data:`FLOOR_PROBE_ROWS`, then all of them: a fixed cost and a cost per row), scaled
    to the rows, twice (one cross-validation fold and the refit). ``None`` when the timing
    fit fails (the first estimate stands then)."""
    from apprentice.learn.features import FeaturePipeline
    from apprentice.learn.models import fit_model, portfolio

    rows = len(X)
    if rows == 0:
        return None
    config = next(c for c in portfolio(task, rows, n_classes) if c.family == "linear")
    order = np.random.default_rng(seed).permutation(rows)
    target_type = {"binary": "binary", "multiclass": "multiclass"}.get(task, "continuous")

    def timed(n: int) -> float:
        chosen = np.sort(order[:n])
        begun = time.perf_counter()
        pipe = FeaturePipeline(
            view=config.view, kinds=kinds, target_type=target_type, random_state=seed
        )
        matrix = pipe.fit_transform(X.iloc[chosen], y[chosen])
        fit_model(
            config,
            task=task,
            n_classes=n_classes,
            X=matrix,
            y=y[chosen],
            categorical=list(pipe.categorical_indices_),
            n_threads=n_threads,
            seed=seed,
        )
        return time.perf_counter() - begun

    large = min(rows, FLOOR_PROBE_ROWS)
    small = max(large // 4, 1)
    try:
        first, second = timed(small), timed(large)
    except (ValueError, TypeError, ApprenticeError) as exc:
        logger.info("the cheapest learner could not be timed (%s)", type(exc).__name__)
        return None
    per_row = max(second - first, 0.0) / max(large - small, 1)
    one_fit = max(second, second + per_row * (rows - large))
    return 0.2 + 2 * one_fit


def _check_budget(state: TrainState, *, reserve_after: float) -> None:
    """Refuse to start a search that cannot fit one real learner besides the baseline.

    The learner's cost is first estimated generously; only when that estimate does not fit
    comfortably is the learner timed on the data (:func:`measured_floor_seconds`), so that a
    budget that fits it is never refused."""
    from apprentice.learn.search import available_threads

    clock = state.clock
    if clock.budget is None:
        return
    assert state.holdout is not None
    rows, features = len(state.holdout.train_idx), len(state.feature_cols)
    floor = floor_seconds(rows, features)
    if clock.remaining() >= 2 * (floor + reserve_after):
        state.plan["floor_s"] = floor
        return
    measured = measured_floor_seconds(
        state.typed_train[state.feature_cols],
        state.info.y[state.holdout.train_idx],
        task=state.info.task,
        n_classes=state.info.n_classes,
        kinds=state.kinds,
        seed=state.options.seed,
        n_threads=available_threads(state.options.n_jobs),
    )
    floor = floor if measured is None else measured
    state.plan["floor_s"] = floor
    needed = floor + reserve_after
    logger.info(
        "tight budget: %.1f s left, the cheapest learner needs %.1f s (%s) and the steps "
        "after the search %.1f s",
        clock.remaining(),
        floor,
        "timed" if measured is not None else "estimated",
        reserve_after,
    )
    if clock.remaining() >= needed:
        return
    # fewer training rows, when a part of them fits (with a margin: the fixed costs do not
    # shrink with the rows)
    keep = int(rows * (clock.remaining() - reserve_after) / floor * 0.8)
    if min(rows, MIN_SUBSAMPLE_ROWS) <= keep < rows:
        _subsample_training(state, keep)
        state.plan["floor_s"] = floor * keep / rows
        return
    _refuse(clock, needed, rows, features)


def _subsample_training(state: TrainState, keep: int) -> None:
    """Train on a random ``keep`` of the training rows (the holdout stays whole): the time
    left cannot fit the cheapest learner on all of them."""
    assert state.holdout is not None
    holdout = state.holdout
    available = len(holdout.train_idx)
    chosen = np.sort(np.random.default_rng(state.options.seed).permutation(available)[:keep])
    holdout.train_idx = holdout.train_idx[chosen]
    state.typed_train = state.typed_train.iloc[chosen].reset_index(drop=True)
    reason = (
        f"the time left of the {state.options.time_budget:g} s budget cannot fit a linear "
        f"model on all {available:,} training rows: the search trains on a random {keep:,} "
        "of them; give a larger --time-budget to train on every row"
    )
    logger.info(reason)
    state.warnings.append(reason)
    state.ledger.append(
        {
            "stage": "train",
            "action": "sample_rows",
            "train_rows": keep,
            "train_rows_available": available,
            "reason": reason,
        }
    )


def check_time_left(clock: Clock, *, rows: int, features: int) -> None:
    """Fail at once when the budget is already spent before training (the work so far was
    not sampled down enough, or the machine is busy): the minimum names what was spent and
    a first estimate of the cheapest learner with its evaluation. "Spent" is less time left
    than the least a bundle still needs (the cheapest learner on the fewest rows the planner
    would train on, and a second for the bundle and its evaluation): the planner would refuse
    it later anyway, after the cleaning and the guards, beyond the budget."""
    if clock.budget is None:
        return
    least = floor_seconds(min(rows, MIN_SUBSAMPLE_ROWS), features) + 1.0
    if clock.remaining() > least:
        return
    rows = min(rows, row_caps(clock.budget, features)[0])  # what training would use of them
    _refuse(clock, floor_seconds(rows, features) + 2.0, rows, features)


def _refuse(clock: Clock, needed: float, rows: int, features: int) -> None:
    from apprentice.clock import minimum_budget
    from apprentice.errors import BudgetError

    minimum = minimum_budget(clock.elapsed() + needed)
    raise BudgetError(
        f"the time budget of {clock.budget:g} s cannot fit one real learner: the "
        f"{clock.elapsed():.1f} s since the command started (loading apprentice, reading, "
        "cleaning and checking the table, the leakage review) are spent and a linear model on "
        f"{rows:,} rows x {features} features with its holdout evaluation needs about "
        f"{needed:.0f} s more; give --time-budget {minimum} or more (nothing was written)",
        minimum=minimum,
    )


def _schema(frame: pd.DataFrame, pii: Any) -> dict[str, Any]:
    """The guard stage's schema contract of the feature columns (values of PII left out)."""
    try:
        from apprentice.guard import infer_schema

        return dict(infer_schema(frame, pii=pii).to_dict())
    except Exception:  # the contract is informative; never fail a training run over it
        return {"columns": [{"name": str(c), "dtype": str(frame[c].dtype)} for c in frame.columns]}


def _update_manifest(path: Path, extra: dict[str, Any]) -> None:
    import json

    from apprentice.bundle.io import json_safe
    from apprentice.bundle.sign import sign_bundle

    manifest_path = path / MANIFEST
    document = json.loads(manifest_path.read_text(encoding="utf-8"))
    document.update(extra)
    manifest_path.write_text(
        json.dumps(json_safe(document), ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
    sign_bundle(path)  # the manifest changed: sign it again
