"""The budget holds from the command's start, always leaves room for one real learner, and a
constant model is never silent (issue 14, points 1 and 2).

The tables are made for the purpose: pure noise (where the constant baseline truly wins) and
a table whose budget is spent before training starts. No test here measures wall time.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import train
from apprentice.cli import main
from apprentice.config import Settings
from apprentice.errors import BudgetError
from apprentice.learn.search import Clock, minimum_budget, search
from apprentice.workflows.run import run
from apprentice.workflows.train import cap_rows, row_caps, sample_positions

#: the reproducible mode: no clock involved
EXACT = {"time_budget": None, "max_trials": 0, "n_jobs": 1, "n_boot": 200}


def _noise(rows: int = 400, seed: int = 7) -> pd.DataFrame:
    """Features and a target drawn independently: nothing to learn."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "colour": rng.choice(["red", "green", "blue"], size=rows),
            "y": rng.normal(size=rows),
        }
    )


def _signal(rows: int = 600, seed: int = 3) -> pd.DataFrame:
    """A target that two features predict well."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows)})
    frame["y"] = 3 * frame["a"] - 2 * frame["b"] + rng.normal(scale=0.3, size=rows)
    return frame


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = 0
    try:
        main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


# -- the budget counts from the command's start ------------------------------------------------


def test_a_budget_spent_before_training_fails_naming_the_budget_needed(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    with pytest.raises(BudgetError) as caught:
        train(_signal(), target="y", out=out, time_budget=5, started=time.monotonic() - 30)
    message = str(caught.value)
    assert "cannot fit one real learner" in message
    assert f"--time-budget {caught.value.minimum}" in message
    assert caught.value.minimum >= 35 and caught.value.minimum % 5 == 0
    assert "\n" not in message
    assert not out.exists()  # nothing written


def test_the_same_budget_from_now_trains_a_real_learner(tmp_path: Path) -> None:
    result = train(
        _signal(),
        target="y",
        out=tmp_path / "b",
        time_budget=20,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
    )
    assert result.champion == "linear" and not result.constant
    assert result.metrics["r2"].value > 0.9


_REFUSE_AFTER_READ = """
import sys, time
import pandas as pd
from apprentice.errors import BudgetError
from apprentice.workflows.run import _check_spent
frame = pd.DataFrame({"a": ["1"] * 50, "y": ["2"] * 50})
_check_spent(15.0, time.monotonic() - 8.0, frame)  # 7 s left: not spent, nothing said
try:
    _check_spent(15.0, time.monotonic() - 14.5, frame)  # 0.5 s left: less than a bundle needs
except BudgetError as exc:
    print("refused", exc.minimum)
heavy = sorted(m for m in ("sklearn", "scipy", "lightgbm") if m in sys.modules)
print("heavy", ",".join(heavy) or "none")
"""


def test_a_spent_budget_is_refused_before_the_learning_libraries_load() -> None:
    """On a busy machine importing scikit-learn alone takes seconds: ``run`` refuses a budget
    spent by reading without loading it, and refuses when less is left than a bundle needs
    (not only when nothing is left), so the refusal comes inside the contract."""
    import os
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run(
        [sys.executable, "-c", _REFUSE_AFTER_READ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = done.stdout.split("\n")
    assert "refused 20" in lines
    assert "heavy none" in lines


def test_minimum_budget_rounds_up_to_five_seconds() -> None:
    assert [minimum_budget(s) for s in (0.0, 0.4, 5.0, 5.1, 31.0)] == [5, 5, 5, 10, 35]


def test_cli_train_with_a_budget_too_small_exits_non_zero_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "signal.csv"
    _signal().to_csv(source, index=False)
    out = tmp_path / "bundle"
    code, err = _cli(
        ["train", str(source), "--target", "y", "--time-budget", "0.05", "--out", str(out)],
        capsys,
    )
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert any("--time-budget" in line and "real learner" in line for line in lines), err
    assert "Traceback" not in err
    assert not out.exists()
    assert source.read_text(encoding="utf-8").count("\n") == 601  # the input untouched


def test_run_with_a_budget_too_small_leaves_no_run_and_registers_nothing(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    with pytest.raises(BudgetError, match="--time-budget"):
        run(_signal(), target="y", time_budget=0.05, track=False, settings=settings)
    runs = settings.workspace / "runs"
    assert not runs.exists() or not any(runs.iterdir())


# -- the planner keeps one real learner --------------------------------------------------------


def test_the_first_real_learner_runs_even_when_the_search_share_is_spent() -> None:
    frame = _signal()
    clock = Clock(10.0, start=time.monotonic() - 9.9)  # 0.1 s of the search's share left
    result = search(
        frame[["a", "b"]],
        frame["y"].to_numpy(),
        task="regression",
        clock=clock,
        families=("linear", "lightgbm"),
        n_threads=1,
        ensemble=False,
    )
    statuses = dict(zip(result.leaderboard["model"], result.leaderboard["status"], strict=True))
    assert statuses["linear"] == "ok"
    assert result.champion == "linear" and not result.baseline_only
    assert statuses["lightgbm_default"] in ("skipped", "timeout")  # the rest respects the budget


def test_no_time_even_for_an_interruptible_learner_is_an_error_not_a_constant_model() -> None:
    frame = _signal()
    clock = Clock(2.0, start=time.monotonic() - 60)  # past the hard deadline
    with pytest.raises(BudgetError, match="before one real learner"):
        search(
            frame[["a", "b"]],
            frame["y"].to_numpy(),
            task="regression",
            clock=clock,
            families=("lightgbm",),
            n_threads=1,
        )


# -- large inputs: a random part of the rows, said so -----------------------------------------


def test_rows_beyond_what_the_budget_can_clean_are_sampled_and_recorded() -> None:
    train_idx, test_idx = np.arange(0, 300_000), np.arange(300_000, 400_000)
    kept_train, kept_test, record = cap_rows(train_idx, test_idx, budget=15, columns=10, seed=0)
    assert len(kept_train) == 37_500 and len(kept_test) == 12_500
    assert set(kept_train) <= set(train_idx) and set(kept_test) <= set(test_idx)
    assert np.all(np.diff(kept_train) > 0)  # in table order, no repeats
    assert record["train_rows_available"] == 300_000 and "--dask" in record["reason"]
    same_train, same_test, none = cap_rows(
        np.arange(1000), np.arange(1000, 1300), budget=15, columns=10, seed=0
    )
    assert none == {} and len(same_train) == 1000 and len(same_test) == 300


def test_a_table_far_larger_than_the_budget_is_sampled_before_parsing() -> None:
    cap_train, cap_test = row_caps(15, 10)
    kept = sample_positions(1_000_000, budget=15, columns=10, seed=0)
    assert len(kept) == 2 * (cap_train + cap_test)
    assert np.all(np.diff(kept) > 0) and kept[0] >= 0 and kept[-1] < 1_000_000
    assert np.array_equal(kept, sample_positions(1_000_000, budget=15, columns=10, seed=0))
    assert len(sample_positions(1_000, budget=15, columns=10, seed=0)) == 1_000
    # a larger budget or fewer columns afford more rows
    assert row_caps(60, 10)[0] > cap_train and row_caps(15, 5)[0] > cap_train


# -- a constant model is never silent ----------------------------------------------------------


@pytest.fixture(scope="module")
def noise_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("noise") / "noise.csv"
    _noise().to_csv(path, index=False)
    return path


def test_when_the_constant_baseline_wins_training_says_so(tmp_path: Path) -> None:
    result = train(_noise(), target="y", out=tmp_path / "b", families=("linear",), **EXACT)
    assert result.champion == "dummy" and result.constant
    assert any("constant baseline scored best" in w for w in result.warnings)
    assert result.bundle.manifest["constant"] is True
    assert result.to_dict()["constant"] is True
    predictions = result.bundle.predict(_noise().drop(columns=["y"]))
    assert np.ptp(predictions) == 0.0  # it really is constant


def test_a_real_champion_is_not_called_constant(tmp_path: Path) -> None:
    result = train(_signal(), target="y", out=tmp_path / "b", families=("linear",), **EXACT)
    assert result.champion == "linear" and not result.constant
    assert not any("constant baseline" in w for w in result.warnings)


def test_run_records_a_constant_model_and_lists_no_importance(noise_file: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(noise_file.parent)
        settings = Settings(workspace=noise_file.parent / "ws", tracking_uri=None)
        record = run(
            noise_file,
            target="y",
            track=False,
            report=False,
            families=("linear",),
            settings=settings,
            **EXACT,  # type: ignore[arg-type]
        )
    assert record.constant_model and record.champion == "dummy"
    assert record.explain is None  # no importance list for a model that uses no feature
    summary = "\n".join(record.summary_lines())
    assert "constant baseline" in summary and "uses no feature" in summary
    assert record.to_dict()["constant_model"] is True
    assert record.timings["to_bundle_s"] > 0


def test_cli_train_exits_3_for_a_constant_model(
    noise_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    argv = ["train", str(noise_file), "--target", "y", "--max-trials", "0"]
    code, err = _cli([*argv, "--families", "linear", "--jobs", "1", "--out", str(out)], capsys)
    assert code == 3
    assert "constant baseline" in err
    assert (out / "manifest.json").is_file()  # the bundle is still written: it is the result


def test_a_failed_run_lets_a_new_store_finish_opening(tmp_path: Path) -> None:
    """A refusal must not end the process while the store's background thread is creating a
    new SQLite schema (that left a store no later run could open): the failure path waits."""
    from apprentice.track import Tracker
    from apprentice.workflows.run import _settle

    settings = Settings(workspace=tmp_path / "ws", tracking_uri=None)
    tracker = Tracker(None, settings=settings)
    assert tracker.new_store
    tracker.open(background=True)
    opening = tracker._opening
    assert opening is not None
    while not tracker._writing and opening.is_alive():  # until it begins writing the store
        time.sleep(0.01)
    _settle(tracker)
    assert not opening.is_alive()
    # the store is whole: a second tracker opens it and sees no model yet
    again = Tracker(None, settings=settings)
    assert not again.new_store
    again.open()
    _settle(None)  # no tracker (tracking off): nothing to wait for
