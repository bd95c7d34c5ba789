"""The plan against what happened (issue 14, point 1): under a budget, ``train`` and ``run``
record each step's planned end beside its actual end (their ``--json``, the bundle manifest,
``run.json``), so an overrun names the step that ran past its plan. No test measures wall
time: the arithmetic of the plan is checked exactly, and the records for their structure.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import train
from apprentice.config import Settings
from apprentice.learn.search import Clock
from apprentice.workflows.run import RunResult, run
from apprentice.workflows.train import STEPS, TrainOptions, TrainState, planned_ends

QUICK = {"max_trials": 0, "families": ("linear",), "n_jobs": 1, "n_boot": 100}


def _signal(rows: int = 300, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["y"] = 2 * frame["a"] - frame["b"] + rng.normal(scale=0.3, size=rows)
    return frame


def _state(budget: float | None, plan: dict[str, float]) -> TrainState:
    state = TrainState(
        options=TrainOptions(target="y", time_budget=budget),
        clock=Clock(budget),
        say=lambda _m: None,
        data=None,
    )
    state.plan = dict(plan)
    return state


def test_each_planned_step_ends_by_the_budget_less_what_follows_it() -> None:
    plan = {
        "bundle_s": 1.0,
        "clean_holdout_s": 2.0,
        "metrics_s": 3.0,
        "profile_s": 0.5,
        "importance_s": 1.5,
        "after_training_s": 10.0,
        "floor_s": 4.0,  # the guaranteed learner's cost: inside the search, not held back
    }
    ends = planned_ends(_state(60.0, plan))
    assert ends == pytest.approx(
        {
            "train": 60 - 18.0,
            "bundle": 43.0,
            "evaluate": 47.0,  # the metrics and half of the holdout cleaning
            "profile": 50.0,  # the profile, its importance and the other half
            "after_training": 60.0,
        }
    )


def test_no_plan_without_a_budget_or_before_the_planner_ran() -> None:
    assert planned_ends(_state(None, {"bundle_s": 1.0})) == {}
    assert planned_ends(_state(60.0, {})) == {}


def test_train_records_every_step_against_its_plan(tmp_path: Path) -> None:
    result = train(_signal(), target="y", out=tmp_path / "b", time_budget=60, **QUICK)
    account = result.budget
    assert account is not None
    assert account["budget_s"] == 60 and account["limit_s"] == pytest.approx(68.0)
    steps = account["steps"]
    assert [s["step"] for s in steps] == [name for name, _ in STEPS]
    ended = [s["ended_s"] for s in steps]
    assert ended == sorted(ended)
    by_name = {s["step"]: s for s in steps}
    for name in ("read", "target", "split", "clean", "guard"):  # bounded by the row caps
        assert by_name[name]["planned_end_s"] is None and by_name[name]["over_s"] is None
    planned = [by_name[n]["planned_end_s"] for n in ("train", "bundle", "evaluate", "profile")]
    assert planned == sorted(planned) and planned[-1] <= 60
    for name in ("train", "bundle", "evaluate", "profile"):
        step = by_name[name]
        assert step["over_s"] == pytest.approx(
            max(0.0, step["ended_s"] - step["planned_end_s"]), abs=0.011
        )
    held = account["held_s"]
    assert {"bundle_s", "metrics_s", "profile_s", "importance_s"} <= set(held)
    assert result.to_dict()["budget"] == account
    assert result.bundle.manifest["budget"] == account


def test_train_without_a_budget_has_no_account(tmp_path: Path) -> None:
    result = train(_signal(), target="y", out=tmp_path / "b", time_budget=None, **QUICK)
    assert result.budget is None and result.to_dict()["budget"] is None


def test_run_records_its_own_stages_and_training_steps_against_the_plan(
    tmp_path: Path,
) -> None:
    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    record = run(_signal(), target="y", time_budget=60, track=False, settings=settings, **QUICK)
    account = record.budget
    assert account is not None and account["budget_s"] == 60
    names = [s["step"] for s in account["steps"]]
    assert names[:3] == ["read", "clean", "guard"]
    assert [n for n in names if n.startswith("train.")] == [f"train.{n}" for n, _ in STEPS]
    assert {"evaluate", "explain", "report"} <= set(names)
    total = account["steps"][-1]
    assert total["step"] == "total" and total["planned_end_s"] == 60
    assert total["ended_s"] == pytest.approx(record.timings["total_s"], abs=0.5)
    again = RunResult.load(record.path)  # kept in run.json
    assert again.budget == account


def test_the_champion_refit_stops_at_its_planned_end_not_in_the_budgets_margin() -> None:
    """The refit's deadline is the budget's end less what the caller holds back after it:
    a refit allowed into the margin (1.05 x budget + 4 s less the steps after it) pushed
    every later step past its plan, and the process past the limit."""
    from apprentice.learn.search import _Refitter, _Search
    from apprentice.learn.split import SplitSpec, cv_folds

    frame = _signal(rows=120)
    X, y = frame[["a", "b"]], frame["y"].to_numpy()
    folds = cv_folds(SplitSpec("random"), y=y, task="regression", n_folds=2, seed=0)
    clock = Clock(60.0)
    search = _Search(
        X,
        y,
        task="regression",
        n_classes=0,
        metric="rmse",
        clock=clock,
        folds=folds,
        kinds={"a": "numeric", "b": "numeric"},
        seed=0,
        n_threads=1,
        reserve_after=12.5,
        progress=None,
    )
    assert clock.deadline is not None
    assert _Refitter(search).deadline == pytest.approx(clock.deadline - 12.5)
    late = Clock(60.0, start=clock.start - 59.0)  # 1 s left, 12.5 s held back: a short stop
    search.clock = late
    refitter_deadline = _Refitter(search).deadline
    assert refitter_deadline is not None and refitter_deadline > late.start + 59.0


# -- a refused run does not wait for a store that is still importing MLflow (it waited for the
# opening to finish: the process ended 22-25 s after the refusal on a busy core)


def _held_before_writing(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[threading.Event, list[bool]]:
    """Hold every background opening just before its first write to the store, until the
    gate opens (the list says, for each opening, whether the gate released it: ``False``
    when it waited out its 60 s, as it would when the caller waited for it)."""
    from apprentice.track import Tracker

    gate = threading.Event()
    released: list[bool] = []
    original = Tracker._begin_writing

    def held(self: Tracker) -> None:
        released.append(gate.wait(60))
        original(self)

    monkeypatch.setattr(Tracker, "_begin_writing", held)
    return gate, released


def test_a_failed_run_does_not_wait_for_an_opening_that_has_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.track import Tracker, TrackingError
    from apprentice.workflows.run import _settle

    gate, _ = _held_before_writing(monkeypatch)
    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    tracker = Tracker(None, settings=settings)
    assert tracker.new_store
    tracker.open(background=True)
    _settle(tracker)  # returns at once: the thread is still before its first write
    opening = tracker._opening
    assert opening is not None and opening.is_alive()
    gate.set()
    opening.join(60)
    assert not (settings.workspace / "mlflow.db").exists()  # it stopped: nothing half made
    with pytest.raises(TrackingError, match="cancelled"):
        tracker.wait()
    again = Tracker(None, settings=settings)  # a later run creates the store whole
    assert again.new_store
    again.open()
    assert (settings.workspace / "mlflow.db").exists()


def test_a_refused_run_returns_without_waiting_for_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.errors import BudgetError
    from apprentice.workflows import train as train_module

    gate, released = _held_before_writing(monkeypatch)

    def refuse(state: object, *, reserve_after: float) -> None:
        raise BudgetError("the plan cannot fit one real learner; give --time-budget 30", minimum=30)

    monkeypatch.setattr(train_module, "_check_budget", refuse)
    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    try:
        with pytest.raises(BudgetError, match="--time-budget 30"):
            run(_signal(), target="y", time_budget=60, settings=settings, **QUICK)
    finally:
        gate.set()  # only now: a run that waited for the opening outlived its 60 s hold
    for _ in range(600):  # the opening's thread reaches the gate
        if released:
            break
        time.sleep(0.1)
    assert released == [True]
    assert not (settings.workspace / "mlflow.db").exists()  # cancelled before writing
    runs = settings.workspace / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_a_held_opening_of_a_new_store_writes_nothing_until_allowed(tmp_path: Path) -> None:
    from apprentice.track import Tracker, TrackingError

    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    tracker = Tracker(None, settings=settings)
    tracker.hold_writes()
    tracker.open(background=True)
    opening = tracker._opening
    assert opening is not None
    opening.join(1.0)  # held: it cannot end before it is allowed (or cancelled)
    assert opening.is_alive() and not tracker._writing
    assert tracker.cancel()  # nothing written: no need to wait
    opening.join(60)
    assert not (settings.workspace / "mlflow.db").exists()
    with pytest.raises(TrackingError, match="cancelled"):
        tracker.wait()


def test_a_run_on_a_new_store_creates_it_once_training_will_run_and_registers(
    tmp_path: Path,
) -> None:
    from apprentice.track import Tracker
    from apprentice.track.registry import list_models

    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    record = run(_signal(), target="y", name="signal", time_budget=60, settings=settings, **QUICK)
    assert record.model is not None and record.model["version"] == 1
    assert [m.name for m in list_models(Tracker(None, settings=settings))] == ["signal"]
