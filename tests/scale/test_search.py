"""The model search with its folds fitted on a real LocalCluster of two worker processes."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.learn.models import ModelConfig
from apprentice.learn.search import FoldData, InProcessFoldRunner, search
from apprentice.learn.split import SplitSpec, cv_folds
from tests.learn._data import needs_tables, typed_table

pytestmark = needs_tables


@pytest.fixture(scope="module")
def adult() -> tuple[pd.DataFrame, np.ndarray]:
    frame = typed_table("adult.csv", rows=600, seed=3)
    y = frame.pop("income").astype(str).str.contains(">50K").to_numpy().astype(int)
    return frame, y


def test_cluster_search_gives_the_in_process_results(
    dask_client: Any, adult: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from apprentice.scale import DaskFoldRunner

    X, y = adult
    options: dict[str, Any] = {
        "task": "binary",
        "n_classes": 2,
        "time_budget": None,
        "max_trials": 1,
        "n_threads": 1,
        "families": ("linear", "lightgbm"),
        "folds": cv_folds(SplitSpec("auto"), y=y, task="binary", n_folds=3, seed=0),
    }
    here = search(X, y, **options)
    runner = DaskFoldRunner(dask_client)
    there = search(X, y, fold_runner=runner, **options)

    assert [c.name for c in there.candidates] == [c.name for c in here.candidates]
    assert [c.status for c in there.candidates] == [c.status for c in here.candidates]
    assert any(c.name.startswith("lightgbm_trial") for c in there.candidates)
    for a, b in zip(here.candidates, there.candidates, strict=True):
        np.testing.assert_allclose(b.fold_scores, a.fold_scores, rtol=1e-9, err_msg=a.name)
        if a.oof is not None:
            assert b.oof is not None
            np.testing.assert_allclose(b.oof, a.oof, rtol=1e-9, err_msg=a.name)
    assert there.champion == here.champion
    np.testing.assert_allclose(there.final.predict(X), here.final.predict(X), rtol=1e-9)

    # every fold fit ran on a worker process, and both workers took part
    folds = len(here.folds)
    fitted = sum(len(c.fold_scores) for c in here.candidates if c.family != "ensemble")
    assert folds == 3
    assert len(runner.tasks) == fitted >= folds * 5
    places = {t["where"] for t in runner.tasks}
    assert len(places) == 2, places
    assert all(f"pid {os.getpid()}" not in p and p.startswith("tcp://") for p in places)
    assert there.compute["runner"] == "dask"
    assert there.compute["workers"] == 2
    assert there.compute["worker_processes_used"] == 2
    assert here.compute["runner"] == "in-process"


def test_a_failing_fold_fails_its_candidate_not_the_search(
    dask_client: Any, adult: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from apprentice.scale import DaskFoldRunner

    X, y = adult
    folds = [(np.arange(0, 300), np.arange(300, 600)), (np.arange(300, 600), np.arange(300))]
    data = FoldData(X, y, folds, {}, "binary", 2, "roc_auc", 0, 1)
    runner = DaskFoldRunner(dask_client)
    runner.start(data)
    try:
        bad = ModelConfig("bad", "linear", {"C": "not a number"})
        outcomes = runner.run(bad, [0, 1], None)
        good = runner.run(ModelConfig("linear", "linear"), [0, 1], None)
    finally:
        runner.finish()
    assert outcomes[0].status == "failed" and outcomes[0].error
    assert len(outcomes) == 1  # the first failure ends the candidate, as in-process
    assert [o.status for o in good] == ["ok", "ok"]
    local = InProcessFoldRunner()
    local.start(data)
    expected = local.run(ModelConfig("linear", "linear"), [0, 1], None)
    for a, b in zip(expected, good, strict=True):
        assert b.score == pytest.approx(a.score, rel=1e-9)
        np.testing.assert_allclose(b.pred, a.pred, rtol=1e-9)


def test_no_time_left_runs_nothing(
    dask_client: Any, adult: tuple[pd.DataFrame, np.ndarray]
) -> None:
    from apprentice.scale import DaskFoldRunner

    X, y = adult
    folds = [(np.arange(0, 300), np.arange(300, 600))]
    runner = DaskFoldRunner(dask_client)
    runner.start(FoldData(X, y, folds, {}, "binary", 2, "roc_auc", 0, 1))
    try:
        outcomes = runner.run(ModelConfig("lightgbm_default", "lightgbm"), [0], 0.0)
    finally:
        runner.finish()
    assert [o.status for o in outcomes] == ["timeout"]
    assert runner.tasks == []


def test_the_budget_holds_on_the_cluster(dask_client: Any) -> None:
    from apprentice.scale import DaskFoldRunner

    frame = typed_table("adult.csv", rows=6000, seed=4)
    y = frame.pop("income").astype(str).str.contains(">50K").to_numpy().astype(int)
    runner = DaskFoldRunner(dask_client)
    budget = 4.0
    start = time.monotonic()
    result = search(frame, y, task="binary", n_classes=2, time_budget=budget, fold_runner=runner)
    elapsed = time.monotonic() - start
    assert elapsed <= budget * 1.05 + 5, (elapsed, result.timings)
    assert result.final.predict(frame.head(2)).shape == (2, 2)
    assert result.compute["fold_tasks"] > 0
