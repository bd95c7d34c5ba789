"""The budget planner: the minimum budget is the cost of the cheapest real learner on the data
(never a noisy or pessimistic guess), the steps after the search are reserved by name, and the
explanations size themselves to the time left (issue 14, point 1 and 2).

Made-for-purpose tables; the clock is set, never measured: no test here asserts wall time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.config import Settings
from apprentice.errors import BudgetError
from apprentice.workflows import run as run_module
from apprentice.workflows import train as train_module
from apprentice.workflows.run import _after_training_seconds, _budget_part, run
from apprentice.workflows.train import (
    TrainOptions,
    contribution_rows,
    evaluation_seconds,
    measured_floor_seconds,
    sample_positions,
    train,
)


def _wide(rows: int = 3000, columns: int = 40, seed: int = 5) -> pd.DataFrame:
    """Many rows x many columns: the generous first estimate of a linear fit is large."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        rng.normal(size=(rows, columns)), columns=[f"x{i}" for i in range(columns)]
    )
    frame["y"] = frame["x0"] * 2 - frame["x1"] + rng.normal(scale=0.5, size=rows)
    return frame


# -- the minimum budget is what the cheapest real learner costs on this data --------------------


def test_a_budget_the_timed_learner_fits_is_never_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def timed(X: pd.DataFrame, y: np.ndarray, **_: object) -> float:
        calls.append(len(X))
        return 0.5  # what timing the linear model on this table says

    monkeypatch.setattr(train_module, "measured_floor_seconds", timed)
    # the generous estimate for 2,250 rows x 40 features is about 1.5 s; the planner is
    # told that far more than that is already gone, less than twice the need is left
    monkeypatch.setattr(train_module, "floor_seconds", lambda rows, features: 30.0)
    result = train(
        _wide(),
        target="y",
        out=tmp_path / "b",
        time_budget=120,
        started=time.monotonic() - 60,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
        n_boot=100,
    )
    assert calls == [2250]  # timed on the training rows, once
    assert result.champion == "linear" and not result.constant


def test_a_budget_the_timed_learner_cannot_fit_names_the_minimum_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_module, "measured_floor_seconds", lambda X, y, **_: 5000.0)
    monkeypatch.setattr(train_module, "floor_seconds", lambda rows, features: 30.0)
    out = tmp_path / "b"
    with pytest.raises(BudgetError) as caught:
        train(
            _wide(),
            target="y",
            out=out,
            time_budget=40,
            max_trials=0,
            families=("linear",),
            n_jobs=1,
            n_boot=100,
        )
    message = str(caught.value)
    # the minimum covers what was spent, the timed learner's 5000 s and the steps after it
    assert caught.value.minimum >= 5005 and caught.value.minimum % 5 == 0
    assert f"--time-budget {caught.value.minimum} or more" in message
    assert "nothing was written" in message
    assert not out.exists()


def test_when_part_of_the_rows_fits_the_search_trains_on_that_part_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # all 2,250 training rows would take 120 s; about 90 s are left: a part of them fits
    monkeypatch.setattr(train_module, "measured_floor_seconds", lambda X, y, **_: 120.0)
    monkeypatch.setattr(train_module, "floor_seconds", lambda rows, features: 60.0)
    result = train(
        _wide(),
        target="y",
        out=tmp_path / "b",
        time_budget=100,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
        n_boot=100,
    )
    sampled = [r for r in result.ledger if r.get("action") == "sample_rows"]
    assert len(sampled) == 1 and sampled[0]["train_rows_available"] == 2250
    kept = sampled[0]["train_rows"]
    assert 1000 <= kept < 2250
    assert result.bundle.manifest["split"]["train_rows"] == kept
    assert result.bundle.manifest["split"]["holdout_rows"] == 750  # the holdout stays whole
    assert any(f"a random {kept:,} of them" in w for w in result.warnings)
    assert result.champion == "linear" and not result.constant


def test_the_cheapest_learner_is_timed_on_the_rows_it_will_fit() -> None:
    frame = _wide(rows=600, columns=5)
    X, y = frame.drop(columns=["y"]), frame["y"].to_numpy()
    kinds = dict.fromkeys(X.columns, "numeric")
    seconds = measured_floor_seconds(
        X, y, task="regression", n_classes=0, kinds=kinds, seed=0, n_threads=1
    )
    assert seconds is not None and 0.2 < seconds < 60
    assert (
        measured_floor_seconds(
            X.iloc[:0], y[:0], task="regression", n_classes=0, kinds=kinds, seed=0, n_threads=1
        )
        is None
    )


def test_one_hiccup_in_the_evaluation_estimate_does_not_inflate_the_reserve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import apprentice.evaluate.metrics as metrics

    estimates = iter([33.0, 0.8, 1.0])  # one timing run was preempted: 33 s instead of ~1 s
    monkeypatch.setattr(metrics, "estimate_seconds", lambda *a, **k: next(estimates))
    assert evaluation_seconds("multiclass", 1_000, 7, 1000) == pytest.approx(1.2)


# -- the planner's reservations ----------------------------------------------------------------


def test_the_plan_reserves_every_step_after_the_search_and_the_callers_share(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, float] = {}
    original = train_module._reserve_after

    def spy(state: train_module.TrainState) -> float:
        total = original(state)
        seen.update(state.plan, total=total)
        return total

    monkeypatch.setattr(train_module, "_reserve_after", spy)
    train(
        _wide(rows=400, columns=3),
        target="y",
        out=tmp_path / "b",
        time_budget=60,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
        n_boot=100,
        after_seconds=7.5,
    )
    for step in ("bundle_s", "clean_holdout_s", "metrics_s", "profile_s", "importance_s"):
        assert seen[step] >= 0
    assert seen["after_training_s"] == 7.5
    assert seen["importance_s"] == pytest.approx(1.8)  # 3% of 60 s
    parts = [v for k, v in seen.items() if k != "total"]
    assert seen["total"] == pytest.approx(sum(parts))


def test_a_negative_after_seconds_is_refused() -> None:
    from apprentice.errors import ConfigError

    with pytest.raises(ConfigError, match="after_seconds"):
        TrainOptions(target="y", after_seconds=-1.0)


def test_run_reserves_its_explanations_fairness_registry_and_report() -> None:
    assert _after_training_seconds(None, []) == 0.0
    plain, with_fairness = _after_training_seconds(15, []), _after_training_seconds(15, ["sex"])
    assert plain > run_module.CLOSING_SECONDS and with_fairness > plain
    assert _after_training_seconds(600, []) == _after_training_seconds(6000, [])  # capped
    # on a busy machine the fixed steps take longer; the explanations' share does not grow
    busy = _after_training_seconds(15, [], started=time.monotonic() - 1e6)
    stretch = train_module.MAX_BUSY_FACTOR - 1
    assert busy == pytest.approx(plain + stretch * (run_module.CLOSING_SECONDS + 1.0))


# -- the explanations get the rows the time left affords ---------------------------------------


def _frame(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"a": np.arange(rows, dtype=float)})


def test_a_cheap_model_explains_every_row_it_may() -> None:
    assert contribution_rows(lambda f: None, _frame(5000), seconds=5.0, most=1000) == 1000
    assert contribution_rows(lambda f: None, _frame(300), seconds=5.0, most=1000) == 300


def test_a_costly_model_explains_only_what_the_time_left_affords() -> None:
    def costly(frame: pd.DataFrame) -> None:
        time.sleep(0.01 * len(frame))  # 10 ms a row, at least

    rows = contribution_rows(costly, _frame(5000), seconds=0.5, most=1000)
    assert 20 <= rows <= 50  # never more than the time allows; the floor of 20 rows costs < 1 s


def test_with_no_time_left_a_very_costly_model_explains_only_its_probe() -> None:
    def very_costly(frame: pd.DataFrame) -> None:
        time.sleep(0.1 * len(frame))

    assert contribution_rows(very_costly, _frame(100), seconds=-3.0, most=1000, least=20) == 8


def test_a_model_that_cannot_be_explained_gets_no_rows() -> None:
    from apprentice.errors import BundleError

    def refuses(frame: pd.DataFrame) -> None:
        raise BundleError("no contribution method")

    assert contribution_rows(refuses, _frame(100), seconds=5.0, most=1000) == 0


# -- run on a huge table: clean and guard on the part training draws from -----------------------


def test_run_cleans_the_part_of_a_huge_table_that_training_uses() -> None:
    from apprentice.read import ReadResult

    rows, text = 150_000, np.arange(150_000).astype(str)
    table = pd.DataFrame({f"c{i}": text for i in range(9)} | {"y": text})
    raw = ReadResult(table=table, source="dataframe", format="dataframe")
    part = _budget_part(raw, 15, seed=0)
    expected = sample_positions(rows, budget=15, columns=10, seed=0)
    assert 20_000 <= len(part.table) <= len(expected) < rows
    drawn = part.table["c0"].astype(int).to_numpy()
    assert set(drawn) <= set(expected) and np.all(np.diff(drawn) > 0)  # rows training uses
    assert len(raw.table) == rows  # the table as read is untouched
    assert _budget_part(raw, None, seed=0) is raw
    small = ReadResult(table=table.iloc[:1000], source="dataframe", format="dataframe")
    assert _budget_part(small, 15, seed=0) is small
    # not far too large, but more rows than 15 s can clean before training: a part of them
    medium = ReadResult(table=table.iloc[:30_000], source="dataframe", format="dataframe")
    assert len(_budget_part(medium, 15, seed=0).table) == 20_000
    assert _budget_part(medium, 60, seed=0) is medium  # 60 s clean them all


def test_run_with_a_budget_that_cannot_fit_registers_nothing(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    with pytest.raises(BudgetError, match="--time-budget"):
        run(_wide(rows=400, columns=3), target="y", time_budget=0.5, settings=settings)
    runs = settings.workspace / "runs"
    assert not runs.exists() or not any(runs.iterdir())
    from apprentice.track import Tracker
    from apprentice.track.registry import list_models

    tracker = Tracker(None, settings=settings)
    tracker.open()
    assert list_models(tracker) == []


# -- the budget counts from the process's start -------------------------------------------------


def test_the_command_clock_starts_with_the_process() -> None:
    import subprocess
    import sys

    code = (
        "import time; time.sleep(1.0)\n"
        "from apprentice.workflows.train import command_started\n"
        "print(time.monotonic() - command_started())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert float(done.stdout) >= 0.9  # the second slept before the call counts
    from apprentice.workflows.train import command_started

    assert command_started() <= time.monotonic()


def test_a_busy_machine_stretches_the_planned_seconds_within_bounds() -> None:
    from apprentice.learn.search import Clock
    from apprentice.workflows.train import MAX_BUSY_FACTOR, busy_factor

    # a command that has waited far longer than it computed: the machine is busy
    assert busy_factor(Clock(60, start=time.monotonic() - 1e6)) == MAX_BUSY_FACTOR
    assert busy_factor(Clock(60)) == 1.0  # a clock started now: nothing to say yet
    assert busy_factor(Clock(None, start=time.monotonic() - 1e6)) == 1.0  # no budget


def test_a_run_whose_budget_is_spent_while_reading_stops_before_cleaning(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    stages: list[str] = []

    class Seen(run_module.RunObserver):
        def stage_started(self, stage: str, *, budget: float | None = None) -> None:
            stages.append(stage)

    with pytest.raises(BudgetError, match="cannot fit one real learner") as caught:
        run(
            _wide(rows=400, columns=3),
            target="y",
            time_budget=5,
            track=False,
            settings=settings,
            observer=Seen(),
            started=time.monotonic() - 60,
        )
    assert stages == ["read"]  # nothing cleaned, trained or written
    assert caught.value.minimum >= 65
    runs = settings.workspace / "runs"
    assert not runs.exists() or not any(runs.iterdir())
