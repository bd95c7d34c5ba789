"""The budgeted search: portfolio, reproducibility, budget, ensemble, leaderboard."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from apprentice.learn.scoring import best_f1_threshold, resolve_metric, score
from apprentice.learn.search import greedy_ensemble, search
from apprentice.learn.task import prepare_target
from tests.learn._data import needs_tables, typed_table

FAST = ("linear", "lightgbm")


def _table(name: str, target: str, rows: int | None = None) -> tuple[pd.DataFrame, object]:
    frame = typed_table(name, rows=rows)
    info = prepare_target(frame.pop(target).astype(str), name=target)
    return frame.loc[info.kept].reset_index(drop=True), info


@needs_tables
def test_max_trials_is_reproducible() -> None:
    X, info = _table("blood_transfusion.csv", "Class")
    runs = [
        search(
            X,
            info.y,
            task=info.task,
            n_classes=info.n_classes,
            time_budget=None,
            max_trials=2,
            families=FAST,
            n_threads=1,
            seed=3,
        )
        for _ in range(2)
    ]
    a, b = (r.leaderboard.set_index("model")["cv_roc_auc"] for r in runs)
    pd.testing.assert_series_equal(a, b)
    assert runs[0].champion == runs[1].champion
    trials = [m for m in a.index if "_trial_" in m]
    assert len(trials) == 2


@needs_tables
def test_leaderboard_has_every_candidate_with_spread_and_times() -> None:
    X, info = _table("blood_transfusion.csv", "Class", rows=400)
    result = search(
        X,
        info.y,
        task=info.task,
        n_classes=info.n_classes,
        time_budget=None,
        max_trials=0,
        n_threads=1,
        metric="log_loss",
    )
    board = result.leaderboard
    assert {
        "rank",
        "model",
        "family",
        "cv_log_loss",
        "cv_std",
        "fit_s",
        "predict_ms_per_1k",
        "status",
    } <= set(board.columns)
    families = set(board["family"])
    assert {
        "dummy",
        "linear",
        "lightgbm",
        "hist_gradient_boosting",
        "random_forest",
        "extra_trees",
    } <= families
    assert board.iloc[0]["champion"]
    assert (
        board["cv_log_loss"].iloc[0] <= board.loc[board["model"] == "dummy", "cv_log_loss"].iloc[0]
    )
    assert "<table" in board._repr_html_()
    assert result.final.predict(X.head(3)).shape == (3, 2)
    slow = board[board["family"].isin(["random_forest", "extra_trees"])]
    assert slow["note"].str.contains("slow single-row").all()


@needs_tables
def test_budget_is_hard() -> None:
    X, info = _table("adult.csv", "income", rows=6000)
    budget = 4.0
    start = time.monotonic()
    result = search(
        X, info.y, task=info.task, n_classes=info.n_classes, time_budget=budget, n_threads=1
    )
    elapsed = time.monotonic() - start
    assert elapsed <= budget * 1.05 + 5
    assert result.final.predict(X.head(2)).shape == (2, 2)


@needs_tables
def test_tiny_budget_still_fits_one_real_learner_never_the_baseline_alone() -> None:
    X, info = _table("blood_transfusion.csv", "Class")
    result = search(
        X, info.y, task=info.task, n_classes=info.n_classes, time_budget=1e-3, n_threads=1
    )
    assert result.champion == "linear" and not result.baseline_only
    statuses = dict(zip(result.leaderboard["model"], result.leaderboard["status"], strict=True))
    assert statuses["lightgbm_default"] in ("skipped", "timeout")


def test_greedy_ensemble_prefers_complementary_members() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    noise_a, noise_b = rng.normal(size=400), rng.normal(size=400)
    a = 1 / (1 + np.exp(-(2 * (y - 0.5) * 2 + noise_a)))
    b = 1 / (1 + np.exp(-(2 * (y - 0.5) * 2 + noise_b)))
    bad = rng.random(400)
    oofs = [np.column_stack([1 - p, p]) for p in (a, b, bad)]
    weights = greedy_ensemble(oofs, y, "roc_auc", np.ones(400, bool), 2)
    assert weights[2] < 0.2 and weights[0] > 0 and weights[1] > 0
    blend = sum(w * o for w, o in zip(weights, oofs, strict=True))
    assert score("roc_auc", y, blend) > max(
        score("roc_auc", y, oofs[0]), score("roc_auc", y, oofs[1])
    )


def test_metrics_resolve_and_threshold() -> None:
    assert resolve_metric(None, "binary") == "roc_auc"
    assert resolve_metric("AUC", "binary") == "roc_auc"
    with pytest.raises(Exception, match="does not apply"):
        resolve_metric("rmse", "binary")
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.1, 0.6, 0.55, 0.8, 0.9])
    t = best_f1_threshold(y, p)
    assert 0.1 < t < 0.55


@needs_tables
def test_the_linear_baseline_is_refitted_within_the_budgets_margin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the linear baseline's refit no longer fits the budget itself but fits its margin
    (the hard deadline, 1.05 x budget + 3 s), it is still refitted for its paired test."""
    import importlib

    search_module = importlib.import_module("apprentice.learn.search")
    X, info = _table("adult.csv", "income", rows=3000)
    budget = 100.0
    start = time.monotonic()
    real_estimate = search_module._Search.refit_estimate
    real_refit_all = search_module._refit_all
    refitting = []

    def estimate(self: object, result: object) -> float:
        if refitting and getattr(result, "family", "") == "linear":
            # past what the budget itself leaves, inside its margin
            left = start + budget - time.monotonic()
            return (left + 4.0) / 1.2
        return float(real_estimate(self, result))

    def refit_all(*args: object, **kwargs: object) -> object:
        refitting.append(True)
        return real_refit_all(*args, **kwargs)

    monkeypatch.setattr(search_module._Search, "refit_estimate", estimate)
    monkeypatch.setattr(search_module, "_refit_all", refit_all)
    result = search(
        X,
        info.y,
        task=info.task,
        n_classes=info.n_classes,
        time_budget=budget,
        clock=search_module.Clock(budget, start=start),
        n_threads=1,
        families=FAST,
        max_trials=0,
        ensemble=False,
    )
    assert result.champion.startswith("lightgbm")
    assert result.baselines["linear"] in result.models
    assert time.monotonic() - start < budget
