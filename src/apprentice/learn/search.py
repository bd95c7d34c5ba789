"""The budgeted search: a portfolio of baselines and strong learners, Optuna on the strongest
family, a greedy ensemble over out-of-fold predictions, and the final refit.

The budget is hard. Every fit gets a deadline; LightGBM and the forests stop at it, the
other families are skipped when their estimated cost does not fit. Time for the final refit
(and for what the caller does afterwards, ``reserve_after``) is held back from the search.

Time left after the portfolio goes to what improves the model, in this order:

1. **k-fold bagging** of the champion, planned as soon as the portfolio has run and the
   bagged refit of the best candidates costs at most :data:`BAG_SHARE` of the time left: each
   boosted member is fitted once per cross-validation fold (early-stopped on that fold's
   validation rows) instead of once on all rows, and the fold models are averaged. Its cost is
   held back from the search like the plain refit's.
2. **Optuna** on the best family that may become the champion, until the time not held back
   is spent; with ``fast_predict`` the families that may not become the champion (forests,
   HistGradientBoosting, XGBoost, CatBoost: comparison only) run after the tuning, in a share
   of at most :data:`COMPARISON_SHARE` of the time the portfolio left, instead of before it.
3. The greedy ensemble over the out-of-fold predictions of the best candidates.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from apprentice.clock import Clock, minimum_budget
from apprentice.errors import BudgetError
from apprentice.learn.features import FeaturePipeline, infer_kind
from apprentice.learn.models import (
    BASELINE_FAMILIES,
    FAST_FAMILIES,
    INTERRUPTIBLE,
    FittedModel,
    ModelConfig,
    fit_model,
    portfolio,
    suggest,
)
from apprentice.learn.scoring import best_f1_threshold, resolve_metric, score, utility
from apprentice.learn.split import Fold, SplitSpec, choose_n_folds, cv_folds

Progress = Callable[[str], None]

#: Relative cost of a family's fit against ``lightgbm_default`` on the same fold.
COST_FACTOR = {
    "dummy": 0.0,
    "linear": 0.5,
    "lightgbm": 1.0,
    "hist_gradient_boosting": 1.5,
    "random_forest": 3.0,
    "extra_trees": 2.0,
    "xgboost": 1.5,
    "catboost": 3.0,
}
ENSEMBLE_ROUNDS = 25
ENSEMBLE_POOL = 8
DEFAULT_TRIALS_WITHOUT_BUDGET = 10
#: Families whose members are bagged (one model per fold, averaged); forests are bagged
#: already, linear models and the constant gain nothing from it.
BAGGABLE = frozenset({"lightgbm", "xgboost", "catboost", "hist_gradient_boosting"})
#: The bagged refit is planned when it costs at most this share of the time the portfolio left.
BAG_SHARE = 0.5
#: The most fold models in a bagged champion, and the most trees in all its members together
#: (single-row latency grows with the trees: about 0.1-0.25 microseconds each).
BAG_MAX_MODELS = 15
BAG_MAX_TREES = 1500
#: With ``fast_predict``: the comparison-only families get at most this share of the time the
#: eligible portfolio left (the rest goes to tuning and bagging).
COMPARISON_SHARE = 0.25


def available_threads(requested: int | None = None) -> int:
    """Threads for one fit: ``requested``, else the CPUs this process may use."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    if requested is None or requested <= 0:
        from apprentice.config import get_settings

        requested = get_settings().threads
    return max(1, min(int(requested), cpus))


@dataclass
class CandidateResult:
    """What cross-validation says about one candidate."""

    config: ModelConfig
    status: str = "pending"
    fold_scores: list[float] = field(default_factory=list)
    oof: np.ndarray | None = None
    fit_seconds: list[float] = field(default_factory=list)
    predict_seconds: float = 0.0
    predicted_rows: int = 0
    iterations: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def family(self) -> str:
        return self.config.family

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "truncated") and self.oof is not None

    @property
    def cv_mean(self) -> float:
        return float(np.mean(self.fold_scores)) if self.fold_scores else math.nan

    @property
    def cv_std(self) -> float:
        return float(np.std(self.fold_scores, ddof=1)) if len(self.fold_scores) > 1 else math.nan

    @property
    def mean_fit_seconds(self) -> float:
        return float(np.mean(self.fit_seconds)) if self.fit_seconds else math.nan

    def refit_iterations(self, n_folds_total: int) -> int | None:
        if self.family in ("dummy", "linear") or not self.iterations:
            return None
        mean = float(np.mean(self.iterations))
        if self.family in ("random_forest", "extra_trees"):
            return max(1, int(min(self.iterations)))
        return max(1, round(mean * 1.1))


@dataclass
class FinalModel:
    """A model refitted on the whole training part: pipelines by view, weighted members."""

    name: str
    task: str
    n_classes: int
    pipelines: dict[str, FeaturePipeline]
    members: list[tuple[FittedModel, float]]
    fit_seconds: float = 0.0

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` or regression values ``(n,)``."""
        matrices = {view: pipe.transform(X) for view, pipe in self.pipelines.items()}
        total: np.ndarray | None = None
        for model, weight in self.members:
            pred = model.predict(matrices[model.config.view]) * weight
            total = pred if total is None else total + pred
        assert total is not None
        return total

    def export(self) -> dict[str, Any]:
        """Plain data for the bundle: feature specs by view and member models."""
        return {
            "name": self.name,
            "task": self.task,
            "n_classes": self.n_classes,
            "features": {view: pipe.to_spec() for view, pipe in self.pipelines.items()},
            "members": [
                {"weight": float(w), "view": m.config.view, **m.export()} for m, w in self.members
            ],
        }


@dataclass
class SearchResult:
    """Everything the search learned: the leaderboard, the champion and the refitted models."""

    task: str
    metric: str
    n_classes: int
    candidates: list[CandidateResult]
    leaderboard: pd.DataFrame
    champion: str
    members: list[tuple[str, float]]
    champion_cv: list[float]
    champion_oof: np.ndarray | None
    oof_mask: np.ndarray
    y: np.ndarray
    folds: list[Fold]
    threshold: float | None
    models: dict[str, FinalModel]
    #: the constant baseline's candidate name (the dummy model), or None if it did not run
    baseline: str | None
    runner_up: str | None
    kinds: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    baseline_only: bool = False
    #: where the folds were fitted (the fold runner's description)
    compute: dict[str, Any] = field(default_factory=dict)
    #: the named baselines, each with a fixed meaning: ``"constant"`` (the dummy model) and
    #: ``"linear"`` (the best linear model) -> candidate name; absent when it did not run
    baselines: dict[str, str] = field(default_factory=dict)
    #: the champion's members refitted as k-fold bags -> number of fold models averaged
    bagged: dict[str, int] = field(default_factory=dict)

    @property
    def final(self) -> FinalModel:
        return self.models[self.champion]


# --------------------------------------------------------------------------- fold runners


@dataclass(frozen=True)
class FoldData:
    """What every fold fit needs: the training frame, its labels and the folds."""

    X: pd.DataFrame
    y: np.ndarray
    folds: list[Fold]
    kinds: dict[str, str]
    task: str
    n_classes: int
    metric: str
    seed: int
    n_threads: int


@dataclass
class FoldOutcome:
    """One fold of one candidate: its validation predictions and what the fit took.

    ``status`` is ``ok``, ``failed`` (``error`` says why) or ``timeout`` (not run: the time
    was up). ``where`` names the process that fitted it (``in-process``, or a worker's address
    and process id)."""

    fold: int
    status: str = "ok"
    pred: np.ndarray | None = None
    score: float = math.nan
    fit_seconds: float = 0.0
    iterations: int = 0
    truncated: bool = False
    predict_seconds: float = 0.0
    pipeline_seconds: float = 0.0
    error: str = ""
    where: str = "in-process"


class FoldRunner(Protocol):
    """Fits a candidate's cross-validation folds: one after the other here, or elsewhere.

    :meth:`start` is called once per search with its data, :meth:`run` once or more per
    candidate, :meth:`finish` at the end. ``seconds_left`` is the time left to the search's
    deadline in seconds (``None``: no limit); it is relative because clocks differ between
    machines. :meth:`run` returns one outcome per fold it ran, in fold order, and stops at
    the first failed or timed-out fold."""

    #: how many folds run at the same time (time estimates divide by it)
    parallelism: int

    def start(self, data: FoldData) -> None: ...

    def run(
        self, config: ModelConfig, folds: Sequence[int], seconds_left: float | None
    ) -> list[FoldOutcome]: ...

    def finish(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


def fold_share(family: str, seconds_left: float, rounds_left: int) -> float:
    """Seconds for one fold of an interruptible family: a fair share of what is left."""
    share = seconds_left / max(rounds_left, 1)
    if family in ("random_forest", "extra_trees"):
        share *= 0.3
    return max(share, 0.05)


def fit_fold(
    data: FoldData,
    config: ModelConfig,
    i: int,
    matrices: tuple[Any, Any, list[int]],
    *,
    deadline: float | None,
    n_threads: int,
) -> FoldOutcome:
    """Fit ``config`` on fold ``i`` (its matrices given) and predict its validation rows."""
    tr, va = data.folds[i]
    Xtr, Xva, cats = matrices
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fit_model(
            config,
            task=data.task,
            n_classes=data.n_classes,
            X=Xtr,
            y=data.y[tr],
            X_val=Xva,
            y_val=data.y[va],
            categorical=cats,
            n_threads=n_threads,
            deadline=deadline,
            seed=data.seed,
        )
        start = time.perf_counter()
        pred = model.predict(Xva)
    predict_seconds = time.perf_counter() - start
    return FoldOutcome(
        fold=i,
        pred=pred,
        score=score(data.metric, data.y[va], pred, data.n_classes),
        fit_seconds=model.fit_seconds,
        iterations=model.n_iterations,
        truncated=model.truncated,
        predict_seconds=predict_seconds,
    )


def fold_matrices(data: FoldData, view: str, i: int) -> tuple[Any, Any, list[int], float]:
    """The feature pipeline for ``view`` fitted on fold ``i``'s training rows: the training
    and validation matrices, the categorical columns and the seconds it took."""
    tr, va = data.folds[i]
    start = time.perf_counter()
    pipe = FeaturePipeline(
        view=view,
        kinds=data.kinds,
        target_type=_target_type(data.task),
        random_state=data.seed,
    )
    Xtr = pipe.fit_transform(data.X.iloc[tr], data.y[tr])
    Xva = pipe.transform(data.X.iloc[va])
    seconds = time.perf_counter() - start
    return Xtr, Xva, list(pipe.categorical_indices_), seconds


class InProcessFoldRunner:
    """The default: folds one after the other in this process, pipelines cached per fold."""

    parallelism = 1

    def __init__(self) -> None:
        self.data: FoldData | None = None
        self.cache: dict[tuple[str, int], tuple[Any, Any, list[int], float]] = {}

    def start(self, data: FoldData) -> None:
        self.data = data
        self.cache = {}

    def finish(self) -> None:
        self.cache = {}

    def describe(self) -> dict[str, Any]:
        threads = self.data.n_threads if self.data is not None else 1
        return {"runner": "in-process", "workers": 1, "threads": threads}

    def run(
        self, config: ModelConfig, folds: Sequence[int], seconds_left: float | None
    ) -> list[FoldOutcome]:
        data = self.data
        assert data is not None, "start() first"
        deadline = None if seconds_left is None else time.monotonic() + seconds_left
        out: list[FoldOutcome] = []
        for j, i in enumerate(folds):
            fit_deadline = deadline
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                out.append(FoldOutcome(fold=i, status="timeout"))
                return out
            if deadline is not None and config.family in INTERRUPTIBLE:
                fit_deadline = now + fold_share(config.family, deadline - now, len(folds) - j)
            try:
                key = (config.view, i)
                if key not in self.cache:
                    self.cache[key] = fold_matrices(data, config.view, i)
                Xtr, Xva, cats, seconds = self.cache[key]
                outcome = fit_fold(
                    data,
                    config,
                    i,
                    (Xtr, Xva, cats),
                    deadline=fit_deadline,
                    n_threads=data.n_threads,
                )
            except Exception as exc:  # a candidate failing must not end the search
                out.append(
                    FoldOutcome(
                        fold=i, status="failed", error=f"{type(exc).__name__}: {str(exc)[:120]}"
                    )
                )
                return out
            outcome.pipeline_seconds = seconds
            out.append(outcome)
        return out


class _Search:
    def __init__(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        *,
        task: str,
        n_classes: int,
        metric: str,
        clock: Clock,
        folds: list[Fold],
        kinds: dict[str, str],
        seed: int,
        n_threads: int,
        reserve_after: float,
        progress: Progress | None,
        predict_rows: int = 0,
        runner: FoldRunner | None = None,
    ) -> None:
        self.X = X
        self.y = y
        self.task = task
        self.n_classes = n_classes
        self.metric = metric
        self.clock = clock
        self.all_folds = folds
        self.active = len(folds)
        self.kinds = kinds
        self.seed = seed
        self.threads = n_threads
        self.reserve_after = reserve_after
        self.predict_rows = predict_rows
        self.progress = progress
        self.runner: FoldRunner = runner if runner is not None else InProcessFoldRunner()
        self.results: list[CandidateResult] = []
        self.unit_cost: float | None = None  # seconds of lightgbm_default per fold
        self.pipeline_seconds: dict[str, float] = {}
        self.warnings: list[str] = []
        #: the champion is refitted as k-fold bags (decided by :meth:`plan_bagging`); asked
        #: for by the caller (no cap on the trees then)
        self.bag = False
        self.bag_forced = False
        #: seconds the tuning leaves for the comparison-only candidates after it (part of
        #: :meth:`search_deadline` while it is set)
        self.hold_back = 0.0
        #: candidates eligible as champion (set by :func:`search`)
        self.eligible: Callable[[str], bool] = lambda family: True

    # -- time

    @property
    def folds(self) -> list[Fold]:
        return self.all_folds[: self.active]

    def refit_estimate(self, result: CandidateResult) -> float:
        if not result.fit_seconds:
            return 0.0
        n = len(self.y)
        n_fold = float(np.mean([len(tr) for tr, _ in self.folds]))
        scale = n / max(n_fold, 1)
        per_fit = result.mean_fit_seconds * scale * 1.15
        return per_fit + self.pipeline_seconds.get(result.config.view, 0.0) * scale

    def reserve(self) -> float:
        """Seconds held back for the refit and for the caller's predictions afterwards.

        The best baseline is always in the reserve: the paired test against it is part of
        every result, so its refit must not be what the budget runs out on."""
        everything = self._ranked()
        ranked = [r for r in everything if r.family != "dummy"][:3]
        for family in BASELINE_FAMILIES:  # both named baselines are refitted for their tests
            baseline = next((r for r in everything if r.family == family), None)
            if baseline is not None and baseline not in ranked:
                ranked.append(baseline)
        refit = 1.2 * sum(self.refit_estimate(r) for r in ranked)
        if self.bag:
            refit += self.bag_estimate()
        per_row = max(
            (r.predict_seconds / r.predicted_rows for r in ranked if r.predicted_rows), default=0.0
        )
        if self.bag:  # a bagged member predicts once per fold model
            per_row *= len(self.folds)
        return self.reserve_after + refit + 3.0 * per_row * self.predict_rows + 0.5

    def bag_candidates(self) -> list[CandidateResult]:
        """The candidates a bagged champion is expected to be made of: the two best that
        may become the champion, of the families that are bagged (the refit bags more members
        when their time is left)."""
        ranked = [r for r in self._ranked() if self.eligible(r.family)]
        return [r for r in ranked if r.family in BAGGABLE][:2]

    def bag_estimate(self) -> float:
        """Seconds the bagged refit of :meth:`bag_candidates` is expected to take: one fit
        per fold, as long as their cross-validation took (the pipeline is fitted once)."""
        return 1.2 * sum(float(np.sum(r.fit_seconds)) for r in self.bag_candidates())

    def plan_bagging(self, enabled: bool | None) -> None:
        """Decide once, after the portfolio, whether the champion is refitted as k-fold bags:
        always with ``enabled=True``, never with ``False``, and with ``None`` when there is a
        budget and the bagged refit costs at most :data:`BAG_SHARE` of the time left."""
        if enabled is False or len(self.folds) < 2 or not self.bag_candidates():
            return
        self.bag_forced = enabled is True
        if enabled is None:
            if self.clock.budget is None:
                return
            if self.bag_estimate() > BAG_SHARE * max(self.time_left(), 0.0):
                return
        self.bag = True

    def search_deadline(self) -> float | None:
        """When the candidates being fitted must stop: the budget's deadline less the refit's
        reserve and what is held back for the comparison-only candidates (while tuning)."""
        deadline = self.clock.deadline
        return None if deadline is None else deadline - self.reserve() - self.hold_back

    def floor_deadline(self) -> float | None:
        """The latest the one real learner the plan guarantees may run: the hard deadline
        less what the caller does afterwards and the learner's own refit (its folds' share)."""
        hard = self.clock.hard_deadline
        if hard is None:
            return None
        return hard - self.reserve_after - (hard - time.monotonic()) / (self.active + 2)

    def time_left(self) -> float:
        deadline = self.search_deadline()
        return math.inf if deadline is None else deadline - time.monotonic()

    def estimate(self, config: ModelConfig) -> float | None:
        """Seconds a full cross-validation of ``config`` is expected to take."""
        same = [r for r in self.results if r.family == config.family and r.fit_seconds]
        k = len(self.folds)
        if self.runner.parallelism > 1:  # folds side by side: the waves of them count
            k = math.ceil(k / self.runner.parallelism)
        if same:
            return float(np.median([r.mean_fit_seconds for r in same])) * k * 1.1
        if self.unit_cost is None:
            return None
        return self.unit_cost * COST_FACTOR[config.family] * k

    # -- evaluation

    def evaluate(self, config: ModelConfig, *, must_run: bool = False) -> CandidateResult:
        result = CandidateResult(config)
        self.results.append(result)
        est = self.estimate(config)
        left = self.time_left()
        if not must_run and est is not None and config.family not in INTERRUPTIBLE and est > left:
            result.status = "skipped"
            result.note = f"needs about {est:.1f} s, {max(left, 0):.1f} s left"
            self._say(result)
            return result
        if not must_run and left <= 0:
            result.status = "skipped"
            result.note = "no time left"
            self._say(result)
            return result
        self._run(result, must_run=must_run)
        self._say(result)
        return result

    def _run(self, result: CandidateResult, *, must_run: bool) -> None:
        config = result.config
        n = len(self.y)
        oof = np.full((n, self.n_classes), np.nan) if self.n_classes else np.full(n, np.nan)
        truncated = False
        pending = list(range(self.active))
        while pending:
            probe = config.name == "lightgbm_default" and pending[0] == 0 and self.unit_cost is None
            batch = pending[:1] if probe else pending
            pending = pending[len(batch) :]
            if must_run:  # guaranteed to run: the baseline to its end, a learner to the floor
                deadline = None if config.family == "dummy" else self.floor_deadline()
            else:
                deadline = self.search_deadline()
            left = None if deadline is None else deadline - time.monotonic()
            if probe and left is not None:
                left /= self.active  # the probe fold gets its share of the candidate's time
            for outcome in self.runner.run(config, batch, left):
                i = outcome.fold
                if outcome.status == "timeout" and must_run and result.fold_scores:
                    # the guaranteed learner keeps the folds it could fit; so does everyone
                    self._use_folds(len(result.fold_scores))
                    pending = []
                    break
                if outcome.status == "timeout":
                    result.status = "timeout"
                    result.note = f"stopped by the budget after {i} of {len(self.folds)} folds"
                    return
                if outcome.status != "ok" or outcome.pred is None:
                    result.status = "failed"
                    result.note = outcome.error
                    return
                view = config.view
                self.pipeline_seconds[view] = max(
                    self.pipeline_seconds.get(view, 0.0), outcome.pipeline_seconds
                )
                va = self.all_folds[i][1]
                result.predict_seconds += outcome.predict_seconds
                result.predicted_rows += len(va)
                result.fit_seconds.append(outcome.fit_seconds)
                result.iterations.append(outcome.iterations)
                truncated = truncated or outcome.truncated
                oof[va] = outcome.pred
                result.fold_scores.append(outcome.score)
            if probe:
                self.unit_cost = result.fit_seconds[0]
                self._adapt_folds()
                pending = [i for i in pending if i < self.active]
        result.oof = oof
        result.status = "truncated" if truncated else "ok"
        if truncated:
            result.note = "stopped adding rounds or trees at the budget"

    def _adapt_folds(self) -> None:
        """Use fewer folds when the probe says the portfolio would not fit the budget."""
        if self.clock.budget is None or self.unit_cost is None or len(self.all_folds) == 1:
            return
        left = self.time_left()
        per_fold_portfolio = self.unit_cost * 6.0
        # folds fitted side by side (on a cluster) cost a wave each, not a fold each
        affordable = int(0.7 * left / max(per_fold_portfolio, 1e-9)) * self.runner.parallelism
        self._use_folds(max(1, min(len(self.all_folds), affordable)))

    def _use_folds(self, k: int) -> None:
        """Score every candidate on the first ``k`` folds only (fewer than now)."""
        if k >= self.active:
            return
        self.active = k
        if k < len(self.all_folds):
            self.warnings.append(
                f"the budget allows {k} of {len(self.all_folds)} cross-validation folds; "
                "scores use those folds"
            )
        for r in self.results:
            if r.fold_scores:
                del r.fold_scores[k:]
                del r.fit_seconds[k:]
                del r.iterations[k:]

    def oof_mask(self) -> np.ndarray:
        mask = np.zeros(len(self.y), dtype=bool)
        for _, va in self.folds:
            mask[va] = True
        return mask

    def _ranked(self) -> list[CandidateResult]:
        ok = [r for r in self.results if r.ok and r.fold_scores]
        return sorted(ok, key=lambda r: -utility(self.metric, r.cv_mean))

    def _say(self, result: CandidateResult) -> None:
        if self.progress is None:
            return
        if result.ok:
            spread = "" if math.isnan(result.cv_std) else f" ± {result.cv_std:.4f}"
            self.progress(
                f"{result.name}: {self.metric} {result.cv_mean:.4f}{spread} "
                f"({sum(result.fit_seconds):.1f} s)"
            )
        else:
            self.progress(f"{result.name}: {result.status} ({result.note})")


def _target_type(task: str) -> str:
    return {"binary": "binary", "multiclass": "multiclass"}.get(task, "continuous")


# --------------------------------------------------------------------------- optuna


def _suggest(trial: Any, family: str, task: str, n: int) -> dict[str, Any]:
    if family == "lightgbm":
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.01, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 256, log=True),
            "min_child_samples": trial.suggest_int(
                "min_child_samples", 2, max(3, min(200, n // 10)), log=True
            ),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
            "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
            "bagging_freq": 1,
            "lambda_l1": trial.suggest_float("lambda_l1", 1e-8, 10.0, log=True),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-8, 10.0, log=True),
        }
    if family == "hist_gradient_boosting":
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 7, 128, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 100, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-8, 10.0, log=True),
        }
    if family in ("random_forest", "extra_trees"):
        return {
            "n_estimators": 300,
            "max_features": trial.suggest_float("max_features", 0.1, 1.0),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 20, log=True),
        }
    if family == "linear":
        if task == "regression":
            return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}
        return {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}
    return suggest(trial, family, task, n)


def _tune(search: _Search, family: str, max_trials: int | None) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=search.seed, n_startup_trials=5)
    greater = utility(search.metric, 1.0) > 0
    study = optuna.create_study(direction="maximize" if greater else "minimize", sampler=sampler)
    limit = (
        max_trials
        if max_trials is not None
        else (DEFAULT_TRIALS_WITHOUT_BUDGET if search.clock.budget is None else 10_000)
    )
    trial_no = 0
    while trial_no < limit:
        config_probe = ModelConfig(f"{family}_tuned", family)
        est = search.estimate(config_probe)
        left = search.time_left()
        if search.clock.budget is not None and (left <= 0 or (est is not None and est > left)):
            break
        trial = study.ask()
        params = _suggest(trial, family, search.task, len(search.y))
        trial_no += 1
        result = search.evaluate(
            ModelConfig(f"{family}_trial_{trial_no}", family, params),
            must_run=search.clock.budget is None,
        )
        if result.ok and not math.isnan(result.cv_mean):
            study.tell(trial, result.cv_mean)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            if result.status in ("skipped", "timeout"):
                break


# --------------------------------------------------------------------------- ensemble


def greedy_ensemble(
    oofs: list[np.ndarray],
    y: np.ndarray,
    metric: str,
    mask: np.ndarray,
    n_classes: int,
    rounds: int = ENSEMBLE_ROUNDS,
) -> np.ndarray:
    """Caruana et al. ensemble selection with replacement: weights over ``oofs``."""
    preds = [o[mask] for o in oofs]
    target = y[mask]
    counts = np.zeros(len(preds))
    current: np.ndarray | None = None
    for step in range(rounds):
        best_j, best_u = -1, -math.inf
        for j, p in enumerate(preds):
            blend = p if current is None else (current * step + p) / (step + 1)
            u = utility(metric, score(metric, target, blend, n_classes))
            if u > best_u:
                best_j, best_u = j, u
        counts[best_j] += 1
        p = preds[best_j]
        current = p if current is None else (current * step + p) / (step + 1)
    return counts / counts.sum()


# --------------------------------------------------------------------------- main


def search(
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    task: str,
    n_classes: int = 0,
    metric: str | None = None,
    time_budget: float | None = 60.0,
    clock: Clock | None = None,
    max_trials: int | None = None,
    seed: int = 0,
    n_threads: int | None = None,
    folds: list[Fold] | None = None,
    split: SplitSpec | None = None,
    groups: np.ndarray | None = None,
    times: np.ndarray | None = None,
    kinds: dict[str, str] | None = None,
    ensemble: bool = True,
    families: tuple[str, ...] | None = None,
    reserve_after: float = 0.0,
    refit_extra: bool = True,
    fast_predict: bool = True,
    predict_rows: int = 0,
    progress: Progress | None = None,
    fold_runner: FoldRunner | None = None,
    bagging: bool | None = None,
) -> SearchResult:
    """Search the portfolio under the budget and refit the champion on all of ``X``.

    ``X`` is a typed frame of feature columns, ``y`` class indices or values. With
    ``time_budget=None`` the search is bounded by ``max_trials`` only and is reproducible.
    ``clock`` lets a caller count time it spent before the search. ``refit_extra`` also
    refits the best baseline and the runner-up (for paired tests) when time allows.
    ``fast_predict`` keeps the champion (and ensemble members) to families whose single-row
    prediction is fast (dummy, linear, LightGBM); the others are still trained and ranked.
    ``predict_rows`` rows the caller will predict after the search (its holdout): their
    prediction time, measured on the folds, is held back from the search too.
    ``bagging``: refit the champion's boosted members as k-fold bags (one model per fold,
    averaged): ``None`` when the budget allows it (never without a budget), ``True`` always,
    ``False`` never.
    ``fold_runner`` fits the cross-validation folds (default: one after the other in this
    process; ``apprentice.scale.DaskFoldRunner`` fits them on Dask workers). The final refit
    always runs here.
    """
    metric = resolve_metric(metric, task)
    clock = clock or Clock(time_budget)
    threads = available_threads(n_threads)
    kinds = _kinds(X, kinds)
    if folds is None:
        spec, k = split or SplitSpec("auto"), choose_n_folds(len(y))
        folds = cv_folds(spec, y=y, task=task, n_folds=k, seed=seed, groups=groups, times=times)
    s = _Search(
        X,
        y,
        task=task,
        n_classes=n_classes if task != "regression" else 0,
        metric=metric,
        clock=clock,
        folds=folds,
        kinds=kinds,
        seed=seed,
        n_threads=threads,
        reserve_after=reserve_after,
        progress=progress,
        predict_rows=predict_rows,
        runner=fold_runner,
    )
    started = time.monotonic()
    configs, fast_predict = _portfolio(task, len(y), n_classes, families, fast_predict)
    eligible = _eligibility(families, fast_predict)
    s.eligible = eligible
    data = FoldData(X, y, folds, kinds, task, s.n_classes, metric, seed, threads)
    baseline_only = _explore_with(s, data, configs, fast_predict, max_trials, bagging)
    search_seconds = time.monotonic() - started

    all_ranked = s._ranked()
    mask = s.oof_mask()
    best, champion, members, champion_cv, champion_oof = _champion(
        s, [r for r in all_ranked if eligible(r.family)], mask, ensemble and not baseline_only
    )
    threshold = _threshold(task, y, mask, champion_oof)

    baselines, runner_up = _comparators(all_ranked, champion, best)
    refit_start = time.monotonic()
    refitter = _Refitter(s)
    models = _refit_all(
        s, refitter, champion, members, (*baselines.values(), runner_up) * refit_extra
    )
    refit_seconds = time.monotonic() - refit_start
    _note_bags(s.results, champion, refitter.bagged)

    if fast_predict:
        _mark_slow(s.results)
    return SearchResult(
        task=task,
        metric=metric,
        n_classes=s.n_classes,
        candidates=s.results,
        leaderboard=make_leaderboard(s.results, metric, champion),
        champion=champion,
        members=members,
        champion_cv=champion_cv,
        champion_oof=champion_oof,
        oof_mask=mask,
        y=y,
        folds=s.folds,
        threshold=threshold,
        models=models,
        baseline=baselines.get("constant"),
        baselines=baselines,
        runner_up=runner_up,
        kinds=kinds,
        warnings=s.warnings,
        timings={"search_s": search_seconds, "refit_s": refit_seconds},
        baseline_only=baseline_only,
        compute=s.runner.describe(),
        bagged=dict(refitter.bagged),
    )


def _explore_with(
    s: _Search,
    data: FoldData,
    configs: list[ModelConfig],
    fast_predict: bool,
    max_trials: int | None,
    bagging: bool | None,
) -> bool:
    """:func:`_explore` with the fold runner started on ``data`` and always finished."""
    s.runner.start(data)
    try:
        return _explore(s, configs, fast_predict, max_trials, s.eligible, bagging)
    finally:
        s.runner.finish()


def _threshold(task: str, y: np.ndarray, mask: np.ndarray, oof: np.ndarray | None) -> float | None:
    """A binary champion's decision threshold: the one maximising F1 out of fold."""
    if task != "binary" or oof is None:
        return None
    return best_f1_threshold(y[mask] == 1, oof[mask, 1])


def _champion(
    s: _Search, ranked: list[CandidateResult], mask: np.ndarray, ensemble: bool
) -> tuple[CandidateResult, str, list[tuple[str, float]], Any, np.ndarray | None]:
    """The best single candidate, and the champion: that candidate, or the ensemble when it
    beats it on CV (its members, fold scores and out-of-fold predictions)."""
    best = ranked[0]
    champion, members, champion_cv, champion_oof = best.name, [(best.name, 1.0)], None, best.oof
    if ensemble and len(ranked) > 1:
        blended = _ensemble(s, ranked, best, mask)
        if blended is not None:
            champion, members, champion_cv, champion_oof = blended
    cv = list(best.fold_scores) if champion_cv is None else champion_cv
    return best, champion, members, cv, champion_oof


def _note_bags(results: list[CandidateResult], champion: str, bagged: dict[str, int]) -> None:
    """The champion's leaderboard note says which members were bagged, with how many models."""
    if not bagged:
        return
    for r in results:
        if r.name == champion:
            bags = ", ".join(f"{n} ×{k}" for n, k in bagged.items())
            r.note = "; ".join(x for x in (r.note, f"bagged: {bags} fold models") if x)


def _kinds(X: pd.DataFrame, given: dict[str, str] | None) -> dict[str, str]:
    """The column kinds: those given, the others inferred."""
    kinds = dict(given or {})
    for name in X.columns:
        kinds.setdefault(str(name), infer_kind(X[name]))
    return kinds


def _portfolio(
    task: str, rows: int, n_classes: int, families: Sequence[str] | None, fast_predict: bool
) -> tuple[list[ModelConfig], bool]:
    """The candidates (the baselines always: they are what every champion is compared with),
    and whether the champion is kept to the fast families (not when the caller chose slow
    families only)."""
    configs = portfolio(task, rows, n_classes)
    if families is not None:
        configs = [c for c in configs if c.family in families or c.family in BASELINE_FAMILIES]
        if not (set(families) & (FAST_FAMILIES - {"dummy"})):
            fast_predict = False
    return configs, fast_predict


def _eligibility(families: Sequence[str] | None, fast_predict: bool) -> Callable[[str], bool]:
    """Which families may become the champion: a baseline the caller did not choose runs for
    comparison only, and with ``fast_predict`` only the fast families."""
    chosen = None if families is None else frozenset({*families, "dummy", "ensemble"})

    def eligible(family: str) -> bool:
        if chosen is not None and family not in chosen:
            return False
        return not fast_predict or family in FAST_FAMILIES

    return eligible


def _explore(
    s: _Search,
    configs: list[ModelConfig],
    fast_predict: bool,
    max_trials: int | None,
    eligible: Callable[[str], bool],
    bagging: bool | None = None,
) -> bool:
    """The portfolio, the bagging plan, then Optuna on the best real family that may become
    the champion (``eligible``), then (with ``fast_predict`` and a budget) the comparison-only
    families; ``True`` when only the constant baseline could be fitted (errors, never time: a
    plan that cannot fit one real learner raises :class:`~apprentice.errors.BudgetError`)."""

    later: list[ModelConfig] = []
    if fast_predict:
        # candidates that may become the champion first; the slow ones are for comparison
        # and, under a budget, run after the tuning in a bounded share of the time
        later = [c for c in configs if c.family not in FAST_FAMILIES]
        configs = [c for c in configs if c.family in FAST_FAMILIES]
        if s.clock.budget is None:
            configs, later = configs + later, []
    baseline_only = False
    # the plan always holds one real learner (the cheapest eligible one) besides the
    # constant baseline: it runs whatever the search's share of the budget says
    floor = next((c.name for c in configs if c.family != "dummy" and eligible(c.family)), None)
    for config in configs:
        s.evaluate(config, must_run=config.family == "dummy" or config.name == floor)
    s.plan_bagging(bagging)
    if later:
        estimates = [s.estimate(c) for c in later]
        wanted = sum(e for e in estimates if e is not None)
        s.hold_back = min(wanted, COMPARISON_SHARE * max(s.time_left(), 0.0))
    tune_family = next(
        (r.family for r in s._ranked() if eligible(r.family) and r.family != "dummy"), None
    )
    if tune_family is not None and max_trials != 0:
        _tune(s, tune_family, max_trials)
    s.hold_back = 0.0
    for config in later:
        s.evaluate(config)
    ranked = [r for r in s._ranked() if eligible(r.family)]
    if len([r for r in ranked if r.family != "dummy"]) == 0 and len(configs) > 1:
        baseline_only = True
        timed_out = [r for r in s.results if r.status in ("skipped", "timeout")]
        if floor is not None and any(r.name == floor for r in timed_out):
            minimum = minimum_budget(s.clock.elapsed() * 2)
            raise BudgetError(
                f"the time budget of {s.clock.budget:g} s ran out before one real learner "
                f"({floor}) could be fitted; give --time-budget {minimum} or more",
                minimum=minimum,
            )
        s.warnings.append(
            "no learner could be fitted (see the leaderboard notes): the model is the "
            "constant baseline alone, it uses no feature"
        )
    return baseline_only


def _comparators(
    all_ranked: list[CandidateResult], champion: str, best: CandidateResult
) -> tuple[dict[str, str], str | None]:
    """The named baselines, each with a fixed meaning (``constant``: the dummy model,
    ``linear``: the best linear model), and the runner-up the champion is compared with."""
    baselines: dict[str, str] = {}
    for role, family in (("constant", "dummy"), ("linear", "linear")):
        best_of = next((r for r in all_ranked if r.family == family), None)
        if best_of is not None:
            baselines[role] = best_of.name
    if champion == "ensemble":
        return baselines, best.name
    singles = [r.name for r in all_ranked if r.family != "ensemble"]
    return baselines, next((n for n in singles if n != champion), None)


def _refit_all(
    s: _Search,
    refitter: _Refitter,
    champion: str,
    members: list[tuple[str, float]],
    extras: Sequence[str | None],
) -> dict[str, FinalModel]:
    """The champion refitted on every training row (boosting rounds and trees stop where the
    caller's remaining work would overrun; as k-fold bags when the search planned it), then
    the ``extras`` (baseline, runner-up) when their refit fits the time left."""
    models = {champion: refitter.refit(champion, members, hard=True, bag=s.bag)}
    for extra in extras:
        if extra is None or extra in models:
            continue
        r = refitter.by_name[extra]
        # the named baselines' paired tests are part of every result: their refit may use
        # the budget's margin (the hard deadline), the runner-up's only the budget itself
        deadline = s.clock.hard_deadline if r.family in BASELINE_FAMILIES else s.clock.deadline
        left = (deadline - time.monotonic()) if deadline else math.inf
        cost = 0.0 if extra in refitter.done else s.refit_estimate(r) * 1.2
        # the constant baseline costs nothing to refit, and without it the champion is
        # compared with nothing: it always runs
        if r.family == "dummy" or cost + s.reserve_after < left:
            models[extra] = refitter.refit(extra, [(extra, 1.0)], hard=False)
    refitter.matrices.clear()
    return models


def _mark_slow(results: list[CandidateResult]) -> None:
    for r in results:
        if r.family not in FAST_FAMILIES and r.family != "ensemble" and r.ok:
            r.note = "; ".join(
                x for x in (r.note, "not a champion candidate: slow single-row prediction") if x
            )


def _ensemble(
    s: _Search, ranked: list[CandidateResult], best: CandidateResult, mask: np.ndarray
) -> tuple[str, list[tuple[str, float]], list[float], np.ndarray] | None:
    """The greedy ensemble over a pool whose refits fit the time left; it is the champion
    (returned) only when it beats ``best`` on CV. Its leaderboard row is added either way."""
    clock, metric, y = s.clock, s.metric, s.y
    budget_left = (clock.deadline - time.monotonic()) if clock.deadline else math.inf
    pool: list[CandidateResult] = []
    spent = 0.0
    best_of_family: dict[str, CandidateResult] = {}
    for r in ranked:
        best_of_family.setdefault(r.family, r)
    for r in list(best_of_family.values()) + ranked[:3]:
        if r.family == "dummy" or r in pool:
            continue
        cost = s.refit_estimate(r)
        if spent + cost > max(0.0, budget_left - s.reserve_after) * 0.8:
            continue
        pool.append(r)
        spent += cost
        if len(pool) >= ENSEMBLE_POOL:
            break
    if len(pool) <= 1:
        return None
    weights = greedy_ensemble(
        [r.oof for r in pool if r.oof is not None], y, metric, mask, s.n_classes
    )
    chosen = [(r, w) for r, w in zip(pool, weights, strict=True) if w > 0]
    if len(chosen) <= 1:
        return None
    blend = np.sum([r.oof * w for r, w in chosen if r.oof is not None], axis=0)
    fold_scores = [score(metric, y[va], blend[va], s.n_classes) for _, va in s.folds]
    kept = utility(metric, float(np.mean(fold_scores))) > utility(metric, best.cv_mean) + 1e-9
    note = (
        "kept: beats the best single model on CV"
        if kept
        else "not kept: does not beat the best single model on CV"
    )
    s.results.append(
        CandidateResult(
            ModelConfig("ensemble", "ensemble"),
            status="ok" if kept else "not kept",
            fold_scores=fold_scores,
            note=", ".join(f"{r.name}×{w:.2f}" for r, w in chosen) + f"; {note}",
        )
    )
    if not kept:
        return None
    members = [(r.name, float(w)) for r, w in chosen]
    return "ensemble", members, fold_scores, np.asarray(blend)


class _Refitter:
    """Refits candidates on all the training rows: one pipeline per view, each candidate at
    most once; the champion's fit stops where the caller's remaining work would overrun its
    plan: at the budget's deadline less what the caller holds back (its planned end), not in
    the budget's margin, which the steps after it would then overrun."""

    def __init__(self, s: _Search) -> None:
        self.s = s
        self.by_name = {r.name: r for r in s.results}
        self.pipes: dict[str, FeaturePipeline] = {}
        self.matrices: dict[str, Any] = {}
        self.done: dict[str, FittedModel] = {}
        #: members refitted as k-fold bags -> their fold models (averaged)
        self.bags: dict[str, list[FittedModel]] = {}
        self.bagged: dict[str, int] = {}
        end = s.clock.deadline
        now = time.monotonic()
        self.deadline = None if end is None else max(now + 0.5, end - s.reserve_after)

    def pipeline(self, view: str) -> FeaturePipeline:
        if view not in self.pipes:
            s = self.s
            pipe = FeaturePipeline(
                view=view, kinds=s.kinds, target_type=_target_type(s.task), random_state=s.seed
            )
            self.matrices[view] = pipe.fit_transform(s.X, s.y)
            self.pipes[view] = pipe
        return self.pipes[view]

    def bag_plan(self, weights: list[tuple[str, float]]) -> set[str]:
        """The members to bag: the heaviest boosted ones, as many as keep the fold models
        within :data:`BAG_MAX_MODELS` and all the trees within :data:`BAG_MAX_TREES` (unless
        the caller asked for bagging) and the expected cost (one fit per fold, as long as
        their cross-validation took) within the time left to the refit's deadline."""
        s = self.s
        k = len(s.folds)
        left = math.inf if self.deadline is None else self.deadline - time.monotonic()
        per_round = s.n_classes if s.task == "multiclass" else 1

        def trees(r: CandidateResult) -> float:
            return float(np.mean(r.iterations)) * per_round if r.iterations else 0.0

        # the members refitted plainly still need their time, and their trees count
        plain = sum(s.refit_estimate(self.by_name[m]) for m, _ in weights)
        total_trees = sum(1.1 * trees(self.by_name[m]) for m, _ in weights)
        chosen: set[str] = set()
        models = 0
        cost = 0.0
        for member, _w in sorted(weights, key=lambda mw: -mw[1]):
            r = self.by_name[member]
            if r.family not in BAGGABLE or not r.fit_seconds:
                continue
            extra = 1.3 * float(np.sum(r.fit_seconds)) * k / len(r.fit_seconds)
            extra -= s.refit_estimate(r)
            more_trees = (k - 1.1) * trees(r)
            too_many = models + k > BAG_MAX_MODELS or total_trees + more_trees > BAG_MAX_TREES
            if (too_many and not s.bag_forced) or plain + cost + extra > 0.7 * left:
                continue
            chosen.add(member)
            models += k
            cost += extra
            total_trees += more_trees
        return chosen

    def bag(self, member: str) -> list[FittedModel]:
        """``member`` fitted once per fold on the full pipeline's matrix, each early-stopped
        on its fold's validation rows."""
        s = self.s
        r = self.by_name[member]
        pipe = self.pipeline(r.config.view)
        matrix = self.matrices[r.config.view]
        models = []
        for tr, va in s.folds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                models.append(
                    fit_model(
                        r.config,
                        task=s.task,
                        n_classes=s.n_classes,
                        X=matrix[tr],
                        y=s.y[tr],
                        X_val=matrix[va],
                        y_val=s.y[va],
                        categorical=list(pipe.categorical_indices_),
                        n_threads=s.threads,
                        deadline=self.deadline,
                        seed=s.seed,
                    )
                )
        return models

    def refit(
        self, name: str, weights: list[tuple[str, float]], hard: bool, bag: bool = False
    ) -> FinalModel:
        s = self.s
        fitted: list[tuple[FittedModel, float]] = []
        t0 = time.perf_counter()
        to_bag = self.bag_plan(weights) if bag else set()
        for member, weight in weights:
            r = self.by_name[member]
            pipe = self.pipeline(r.config.view)
            if member in to_bag and member not in self.bags:
                self.bags[member] = self.bag(member)
                self.bagged[member] = len(self.bags[member])
            if member in self.bags:
                share = weight / len(self.bags[member])
                fitted.extend((model, share) for model in self.bags[member])
                continue
            if member not in self.done:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self.done[member] = fit_model(
                        r.config,
                        task=s.task,
                        n_classes=s.n_classes,
                        X=self.matrices[r.config.view],
                        y=s.y,
                        categorical=list(pipe.categorical_indices_),
                        n_threads=s.threads,
                        deadline=self.deadline if hard else None,
                        seed=s.seed,
                        iterations=r.refit_iterations(len(s.all_folds)),
                    )
            fitted.append((self.done[member], weight))
        views = {m.config.view for m, _ in fitted}
        pipes = {v: self.pipes[v] for v in views}
        return FinalModel(name, s.task, s.n_classes, pipes, fitted, time.perf_counter() - t0)


def make_leaderboard(results: list[CandidateResult], metric: str, champion: str) -> pd.DataFrame:
    """One row per candidate, best first: CV mean and spread, fit and predict time, status."""
    rows = []
    for r in results:
        rows.append(
            {
                "model": r.name,
                "family": r.family,
                f"cv_{metric}": r.cv_mean,
                "cv_std": r.cv_std,
                "folds": len(r.fold_scores),
                "fit_s": round(float(np.sum(r.fit_seconds)), 4) if r.fit_seconds else math.nan,
                "predict_ms_per_1k": (
                    round(1000 * 1000 * r.predict_seconds / r.predicted_rows, 3)
                    if r.predicted_rows
                    else math.nan
                ),
                "status": r.status,
                "champion": r.name == champion,
                "note": r.note,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    key = frame[f"cv_{metric}"] * (1 if utility(metric, 1.0) > 0 else -1)
    frame["_usable"] = frame["status"].isin(["ok", "truncated", "not kept"]) & key.notna()
    frame["_key"] = key.fillna(-math.inf)
    frame = frame.sort_values(["_usable", "_key"], ascending=[False, False], kind="stable")
    frame = frame.drop(columns=["_usable", "_key"]).reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame
