"""``apprentice.train``: read, clean, guard, split, search, bundle, evaluate, under one budget.

The holdout is split from the raw rows first; the cleaning recipe, the guards and the search
only ever see the training part. The champion's holdout numbers come from the written bundle
itself (raw holdout rows through ``bundle.predict_proba``), so they describe exactly the
artifact that ships.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.bundle.cleaning import as_text_frame, cleaner_class, recipe_json
from apprentice.bundle.io import MANIFEST, load_bundle, write_bundle
from apprentice.bundle.model import Bundle
from apprentice.errors import ApprenticeError, ConfigError, FeatureError, TargetError

if TYPE_CHECKING:
    from apprentice.evaluate import Calibration, Comparison, Interval
    from apprentice.learn.leakage import LeakageReport
    from apprentice.learn.search import Clock, FoldRunner, SearchResult

# learn and evaluate (scikit-learn, scipy) are imported inside ``train``, after its clock has
# started: their import time counts against the budget like everything else.

Progress = Callable[[str], None]
PARITY_TOLERANCE = 1e-6

#: search metric -> holdout metric name used for the paired tests
_PAIRED_METRIC = {
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
    #: positions of the holdout rows in the table as read (after rows without a target went)
    holdout_index: np.ndarray | None = field(default=None, repr=False)
    #: the bundle's output on those rows (probabilities or values), as evaluated
    holdout_output: np.ndarray | None = field(default=None, repr=False)

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
        }

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{self.champion}</b> for <code>{self.target}</code> ({self.task}); "
            f"holdout: " + ", ".join(f"{k} {v}" for k, v in self.metrics.items()) + "</p>"
        )
        return head + self.leaderboard.to_html(index=False)


def default_bundle_dir(source: str, target: str) -> Path:
    """Where a bundle goes when no --out is given: the workspace, by source, target and time."""
    from apprentice.config import get_settings

    stem = Path(source).name.split(".")[0] if source else "data"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in f"{stem}-{target}")
    return get_settings().workspace / "bundles" / f"{safe}-{stamp}"


def _read(data: Any) -> tuple[pd.DataFrame, str, list[str]]:
    """Raw rows (text cells when read from a file), the source name, and read notes."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=True), "dataframe", []
    from apprentice.read import ReadResult, read

    result = data if isinstance(data, ReadResult) else read(str(data))
    notes = []
    if result.rows_quarantined:
        notes.append(
            f"{result.rows_quarantined:,} malformed row(s) of the file were quarantined by the "
            "reader and are not used"
        )
    return result.table.reset_index(drop=True), str(result.source), notes


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
    drop_columns: Sequence[str] = (),
    n_jobs: int | None = None,
    ensemble: bool = True,
    families: Sequence[str] | None = None,
    fast_predict: bool = True,
    n_boot: int = 1000,
    progress: Progress | None = None,
    fold_runner: FoldRunner | None = None,
    started: float | None = None,
) -> TrainResult:
    """Train and evaluate a model for ``target`` and write its bundle.

    ``data`` is a file path (read with :func:`apprentice.read`), a ``ReadResult`` or a
    DataFrame. ``time_budget`` (seconds) bounds the whole call, the final refit included;
    ``None`` with ``max_trials`` gives a reproducible run. ``split`` is ``random``,
    ``stratified``, ``group:COL`` or ``time:COL``. ``keep_columns`` keeps columns the leakage
    guard would exclude; ``drop_columns`` are never features. ``families`` restricts the
    portfolio (the dummy baseline always runs); ``fast_predict`` keeps the champion to
    families with sub-millisecond single-row prediction (dummy, linear, LightGBM).
    ``fold_runner`` fits the search's cross-validation folds elsewhere (e.g.
    ``apprentice.scale.DaskFoldRunner`` on Dask workers); ``None`` fits them here.
    ``started`` (a ``time.monotonic()`` value) is when the command began: the budget counts
    from there, so reading and cleaning done before this call are inside it.

    The budget always holds one real learner besides the constant baseline; when even that
    cannot fit, :class:`~apprentice.errors.BudgetError` names the budget needed and nothing
    is written.
    """
    started = time.monotonic() if started is None else min(started, time.monotonic())
    from apprentice.evaluate import (
        calibration,
        holdout_metrics,
        metrics_to_dict,
        paired_test,
    )
    from apprentice.evaluate.metrics import estimate_seconds
    from apprentice.learn.features import infer_kind
    from apprentice.learn.leakage import (
        LeakageReport,
        find_id_like,
        find_near_perfect,
        shared_duplicates,
    )
    from apprentice.learn.scoring import resolve_metric
    from apprentice.learn.search import Clock, available_threads, search
    from apprentice.learn.split import holdout_split, parse_split, parse_time, resolve_split
    from apprentice.learn.task import prepare_target

    clock = Clock(time_budget, start=started)
    if time_budget is not None and time_budget <= 0:
        raise ConfigError("the time budget must be a positive number of seconds")
    if max_trials is not None and max_trials < 0:
        raise ConfigError("--max-trials must be zero or a positive whole number")
    if families is not None:
        from apprentice.learn.models import FAMILIES

        unknown = sorted(set(families) - set(FAMILIES))
        if unknown:
            raise ConfigError(
                f"unknown model families {', '.join(unknown)}; choose among {', '.join(FAMILIES)}"
            )
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    warnings: list[str] = []
    ledger: list[dict[str, Any]] = []

    # -- read
    t = time.monotonic()
    raw, source, notes = _read(data)
    warnings.extend(notes)
    columns = [str(c) for c in raw.columns]
    raw.columns = pd.Index(columns)
    if target not in columns:
        raise TargetError(
            f"the target column '{target}' is not in the table" + _suggest(target, columns)
        )
    for name in list(drop_columns) + list(keep_columns):
        if name not in columns:
            raise ConfigError(f"column '{name}' is not in the table" + _suggest(name, columns))
    # far more rows than the budget can use: a random part of them, before any parsing
    positions = np.arange(len(raw))
    if time_budget is not None:
        positions = sample_positions(len(raw), budget=time_budget, columns=len(columns), seed=seed)
        if len(positions) < len(raw):
            reason = (
                f"the table has {len(raw):,} rows, more than a {time_budget:g} s budget can "
                f"use: training and holdout rows are drawn from a random {len(positions):,} of "
                "them; give a larger --time-budget, or use --dask to train on every row"
            )
            warnings.append(reason)
            ledger.append(
                {
                    "stage": "read",
                    "action": "sample_rows",
                    "rows": len(positions),
                    "rows_available": len(raw),
                    "reason": reason,
                }
            )
            raw = raw.iloc[positions].reset_index(drop=True)
    timings["read_s"] = time.monotonic() - t

    # -- target
    info = prepare_target(raw[target], name=target, task=task)
    ledger.extend({"stage": "target", **r} for r in info.ledger)
    warnings.extend(info.warnings)
    raw = raw.loc[info.kept].reset_index(drop=True)
    y_all = info.y
    metric_name = resolve_metric(metric, info.task)
    say(f"target '{target}': {info.task}" + (f", {info.n_classes} classes" if info.classes else ""))

    # -- split (on raw rows, before anything is learned)
    spec = resolve_split(parse_split(split), info.task)
    groups_all = times_all = None
    if spec.kind in ("group", "time"):
        assert spec.column is not None
        if spec.column not in columns or spec.column == target:
            raise ConfigError(
                f"the split column '{spec.column}' is not a feature column of the table"
                + _suggest(spec.column, [c for c in columns if c != target])
            )
        if spec.kind == "group":
            groups_all = raw[spec.column].astype(str).to_numpy()
        else:
            times_all = parse_time(raw[spec.column], spec.column)
    train_idx, test_idx = holdout_split(
        len(raw),
        spec,
        y=y_all,
        task=info.task,
        test_size=test_size,
        seed=seed,
        groups=groups_all,
        times=times_all,
    )
    if (test_size > 0 and len(test_idx) < 5) or len(train_idx) < 15:
        raise TargetError(
            f"the split leaves {len(train_idx)} training and {len(test_idx)} holdout rows; add "
            "rows or change --test-size"
        )
    if time_budget is not None:
        train_idx, test_idx, capped = cap_rows(
            train_idx, test_idx, budget=time_budget, columns=len(columns), seed=seed
        )
        if capped:
            warnings.append(capped["reason"])
            ledger.append({"stage": "split", **capped})
    features_raw = raw.drop(columns=[target] + [c for c in drop_columns if c != target])
    if spec.kind == "group" and spec.column in features_raw.columns:
        features_raw = features_raw.drop(columns=[spec.column])
        ledger.append(
            {
                "stage": "guard",
                "action": "exclude_column",
                "column": spec.column,
                "reason": "the group column of the split",
            }
        )
    for name in drop_columns:
        ledger.append(
            {
                "stage": "guard",
                "action": "exclude_column",
                "column": name,
                "reason": "dropped by the user",
            }
        )
    raw_train = features_raw.iloc[train_idx].reset_index(drop=True)
    raw_test = features_raw.iloc[test_idx].reset_index(drop=True)
    y_train, y_test = y_all[train_idx], y_all[test_idx]
    say(f"split {spec.describe()}: {len(train_idx):,} training rows, {len(test_idx):,} holdout")

    # -- clean (fitted on the training part only)
    t = time.monotonic()
    typed_train, typed_test, recipe, clean_records = _fit_cleaning(raw_train, raw_test)
    ledger.extend({"stage": "clean", **r} for r in clean_records)
    timings["clean_s"] = time.monotonic() - t

    # -- guards: PII, identifiers, near-perfect single features, shared duplicates
    t = time.monotonic()
    kinds = {str(c): infer_kind(typed_train[c]) for c in typed_train.columns}
    excluded: dict[str, str] = {}
    pii_report: Any = None
    try:
        from apprentice.guard import detect_pii, protection_plan

        pii_report = detect_pii(typed_train, sample=5000, seed=seed)
        plan = protection_plan(pii_report)
        for column, reason in plan.excluded.items():
            if column not in keep_columns:
                excluded[column] = reason
    except ImportError:  # pragma: no cover - guard always ships with apprentice
        pass
    for column in list(typed_train.columns):
        if typed_train[column].nunique(dropna=True) <= 1:
            excluded.setdefault(str(column), "a single value in every training row (no signal)")
    leakage = LeakageReport(holdout_rows=len(test_idx))
    leakage.id_like = {
        c: r
        for c, r in find_id_like(typed_train, kinds, positions=train_idx).items()
        if c not in excluded and c not in keep_columns
    }
    excluded.update(leakage.id_like)
    candidates = typed_train.drop(columns=[c for c in excluded if c in typed_train.columns])
    leakage.near_perfect = find_near_perfect(candidates, y_train, info.task, kinds, seed=seed)
    leakage.kept = [c for c in leakage.near_perfect if c in keep_columns]
    for column, value in leakage.near_perfect.items():
        if column in keep_columns:
            warnings.append(
                f"column '{column}' predicts the target almost perfectly on its own "
                f"(score {value:.3f}) and was kept because you asked to"
            )
        else:
            excluded[column] = leakage.excluded[column]
            warnings.append(
                f"column '{column}' predicts the target almost perfectly on its own "
                f"(score {value:.3f}): excluded as a likely leak; use --keep-column "
                f"{column} if it will be known at prediction time"
            )
    for column, reason in excluded.items():
        ledger.append(
            {"stage": "guard", "action": "exclude_column", "column": column, "reason": reason}
        )
    leakage.shared_duplicates = shared_duplicates(raw_train, raw_test) if len(raw_test) else 0
    if leakage.shared_duplicates:
        warnings.append(
            f"{leakage.shared_duplicates:,} holdout row(s) are exact copies of training rows; "
            "holdout scores may be optimistic"
        )
    feature_cols = [c for c in typed_train.columns if str(c) not in excluded]
    if not feature_cols:
        raise FeatureError(
            f"every feature column was excluded ({len(excluded)}: identifiers, PII, constant "
            "or leaking columns, see the ledger); use --keep-column to keep one, or add "
            "feature columns"
        )
    X_train = typed_train[feature_cols]
    X_test = typed_test[[c for c in feature_cols if c in typed_test.columns]]
    timings["guard_s"] = time.monotonic() - t

    # -- search
    n_test = len(test_idx)
    classification = info.task != "regression"
    # after the search: clean the holdout through the bundle, bootstrap the metrics, write
    clean_per_row = timings["clean_s"] / max(len(train_idx), 1)
    n_metric = 7 if info.task == "binary" else 4 if classification else 3
    bootstrap = max(
        1.5 * estimate_seconds(info.task, n_test, info.n_classes, n_boot=n_boot),
        n_test * n_boot * n_metric * 5e-8,
    )
    reserve_after = 1.5 + n_test * 2 * clean_per_row + bootstrap
    _check_budget(
        clock, rows=len(train_idx), features=len(feature_cols), reserve_after=reserve_after
    )
    cv_groups = groups_all[train_idx] if groups_all is not None else None
    cv_times = times_all[train_idx] if times_all is not None else None
    result = search(
        X_train,
        y_train,
        task=info.task,
        n_classes=info.n_classes,
        metric=metric_name,
        clock=clock,
        max_trials=max_trials,
        seed=seed,
        n_threads=available_threads(n_jobs),
        split=spec,
        groups=cv_groups,
        times=cv_times,
        kinds={c: kinds[c] for c in feature_cols},
        ensemble=ensemble,
        families=tuple(families) if families is not None else None,
        fast_predict=fast_predict,
        reserve_after=reserve_after,
        predict_rows=n_test,
        progress=say,
        fold_runner=fold_runner,
    )
    warnings.extend(result.warnings)
    timings.update(result.timings)
    constant = all(model.config.family == "dummy" for model, _ in result.final.members)
    if constant and not result.baseline_only:
        warnings.append(
            "the constant baseline scored best on cross-validation: no learner found signal "
            "in the features, so the model predicts the same value for every row and uses no "
            "feature"
        )

    # -- bundle
    t = time.monotonic()
    out_path = Path(out) if out is not None else default_bundle_dir(source, target)
    schema = _schema(typed_train[feature_cols], pii_report)
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
        "classes": info.classes,
        "threshold": result.threshold,
        "metric": metric_name,
        "input_columns": [str(c) for c in features_raw.columns],
        "feature_columns": feature_cols,
        "excluded_columns": excluded,
        "schema": schema,
        "split": {
            "kind": spec.kind,
            "column": spec.column,
            "test_size": test_size,
            "seed": seed,
            "train_rows": len(train_idx),
            "holdout_rows": n_test,
        },
        "source": source if source != "dataframe" else None,
    }
    write_bundle(out_path, export=result.final.export(), recipe_json=recipe, manifest=manifest)
    bundle = load_bundle(out_path)
    timings["bundle_s"] = time.monotonic() - t

    # -- evaluate on the holdout, through the bundle
    t = time.monotonic()
    if n_test == 0:
        warnings.append(
            "no holdout (test size 0): the numbers are cross-validation estimates; evaluate "
            "the bundle on data of your own"
        )
    parity = 0.0
    shipped = np.zeros((0, info.n_classes)) if classification else np.zeros(0)
    if n_test:
        shipped = bundle._output(raw.iloc[test_idx].reset_index(drop=True))
        # the shipped artifact against the trained model, on up to 1,000 holdout rows
        check = np.arange(min(n_test, 1000))
        in_memory = result.final.predict(X_test.iloc[check])
        parity = float(np.nanmax(np.abs(np.asarray(shipped)[check] - np.asarray(in_memory))))
    if not parity <= PARITY_TOLERANCE:
        warnings.append(
            f"the bundle's predictions differ from the trained model's by up to {parity:.2g} "
            "on the holdout; please report this"
        )
    metrics = (
        holdout_metrics(
            info.task, y_test, shipped, threshold=result.threshold, n_boot=n_boot, seed=seed
        )
        if n_test
        else {}
    )
    comparisons: list[Comparison] = []
    paired_metric = _PAIRED_METRIC[metric_name]
    if info.task == "multiclass" and paired_metric == "f1":
        paired_metric = "f1_macro"
    for role, other_name in (("baseline", result.baseline), ("runner-up", result.runner_up)):
        if other_name is None or other_name == result.champion or n_test == 0:
            continue
        other = result.models.get(other_name)
        if other is None:
            warnings.append(
                f"no time was left to refit the {role} ({other_name}) for a paired test"
            )
            continue
        comparisons.append(
            paired_test(
                info.task,
                paired_metric,
                y_test,
                shipped,
                other.predict(X_test),
                name_a=result.champion,
                name_b=other_name,
                role=role,
                n_boot=n_boot,
                seed=seed,
                threshold=result.threshold,
            )
        )
    calib = calibration(y_test, shipped) if classification and n_test else None
    timings["evaluate_s"] = time.monotonic() - t
    if n_test:
        # the reference profile the monitor compares live data with (holdout rows, kept apart
        # from training, carry the calibration that label-free performance estimation needs)
        t = time.monotonic()
        from apprentice.bundle.profile import attach_profile, build_profile

        try:
            profile = build_profile(
                bundle, raw.iloc[test_idx].reset_index(drop=True), train_features=X_train, seed=seed
            )
            attach_profile(out_path, profile, bundle=bundle)
        except (ValueError, TypeError, ApprenticeError) as exc:
            warnings.append(f"no reference profile for monitoring ({type(exc).__name__})")
        timings["profile_s"] = time.monotonic() - t
    timings["total_s"] = clock.elapsed()
    cv = {
        "metric": metric_name,
        "mean": float(np.mean(result.champion_cv)) if result.champion_cv else math.nan,
        "std": float(np.std(result.champion_cv, ddof=1)) if len(result.champion_cv) > 1 else None,
        "folds": len(result.champion_cv),
    }
    leaderboard = result.leaderboard
    extra = {
        "metrics": metrics_to_dict(metrics),
        "cv": cv,
        "comparisons": [c.to_dict() for c in comparisons],
        "calibration": calib.to_dict() if calib else None,
        "leaderboard": leaderboard.replace({np.nan: None}).to_dict(orient="records"),
        "leakage": leakage.to_dict(),
        "ledger": ledger,
        "warnings": warnings,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "parity_max_abs_diff": parity,
        "time_budget": time_budget,
        "max_trials": max_trials,
        "compute": result.compute,
        "constant": constant,
    }
    from apprentice.bundle.io import json_safe

    extra = json_safe(extra)
    _update_manifest(out_path, extra)
    bundle.manifest.update(extra)
    bundle.metrics = extra["metrics"]
    return TrainResult(
        bundle=bundle,
        path=out_path,
        task=info.task,
        target=target,
        metric=metric_name,
        classes=info.classes,
        leaderboard=leaderboard,
        metrics=metrics,
        comparisons=comparisons,
        calibration=calib,
        cv=cv,
        threshold=result.threshold,
        leakage=leakage,
        ledger=ledger,
        warnings=warnings,
        timings=timings,
        search=result,
        compute=dict(result.compute),
        constant=constant,
        holdout_index=positions[np.flatnonzero(info.kept)[test_idx]],
        holdout_output=np.asarray(shipped),
    )


#: cells (rows x columns) the budget affords per second: reading and cleaning them must leave
#: most of the budget to the search (about 250,000 cells/s are cleaned on an idle core)
CELLS_PER_BUDGET_SECOND = 25_000


def row_caps(budget: float, columns: int) -> tuple[int, int]:
    """The most training and holdout rows a budget can clean, search and evaluate."""
    cap_train = max(10_000, int(budget * CELLS_PER_BUDGET_SECOND / max(columns, 1)))
    return cap_train, max(5_000, cap_train // 3)


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


def floor_seconds(rows: int, features: int) -> float:
    """A generous estimate of the one real learner the plan guarantees (the linear model):
    its cross-validation folds, its refit and its feature pipelines."""
    return 1.0 + 8 * rows * max(features, 1) * _LINEAR_CELL_SECONDS


def _check_budget(clock: Clock, *, rows: int, features: int, reserve_after: float) -> None:
    """Refuse to start a search that cannot fit one real learner besides the baseline."""
    if clock.budget is None:
        return
    from apprentice.errors import BudgetError
    from apprentice.learn.search import minimum_budget

    needed = floor_seconds(rows, features) + reserve_after
    if clock.remaining() >= needed:
        return
    minimum = minimum_budget(clock.elapsed() + needed)
    raise BudgetError(
        f"the time budget of {clock.budget:g} s cannot fit one real learner: reading, cleaning "
        f"and checking the table took {clock.elapsed():.1f} s and a linear model on "
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

    manifest_path = path / MANIFEST
    document = json.loads(manifest_path.read_text(encoding="utf-8"))
    document.update(extra)
    manifest_path.write_text(
        json.dumps(json_safe(document), ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
