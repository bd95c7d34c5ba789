"""Training as short steps in ``workflows/train.py``: the public names, the steps' order and
size, the validated options, and the holdout that ``run`` reuses."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import apprentice
import apprentice.bundle
from apprentice.errors import ConfigError
from apprentice.workflows import train as steps
from apprentice.workflows.train import STEPS, TrainOptions, run_steps, split_holdout

SRC = Path(steps.__file__).resolve().parents[1]


def test_train_keeps_its_public_names() -> None:
    assert apprentice.train is steps.train
    assert apprentice.bundle.train is steps.train
    assert apprentice.bundle.TrainResult is steps.TrainResult


def test_the_steps_in_order_each_short() -> None:
    names = [name for name, _ in STEPS]
    assert names == [
        "read",
        "target",
        "split",
        "clean",
        "guard",
        "train",
        "bundle",
        "evaluate",
        "profile",
    ]
    for _, step in STEPS:
        lines = len(inspect.getsource(step).splitlines())
        assert lines <= 60, (step.__name__, lines)


def test_no_function_over_120_lines_in_the_training_packages() -> None:
    long = []
    for package in ("workflows", "learn", "bundle"):
        for path in (SRC / package).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    size = (node.end_lineno or node.lineno) - node.lineno + 1
                    if size > 120:
                        long.append(f"{path.name}:{node.name} ({size})")
    assert not long


def test_bundle_holds_no_training_code() -> None:
    for path in (SRC / "bundle").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "apprentice.learn.search" not in text, path
        assert "def train(" not in text, path


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_budget": 0}, "positive number of seconds"),
        ({"max_trials": -1}, "--max-trials"),
        ({"families": ("lightgbm", "prophet")}, "unknown model families prophet"),
    ],
)
def test_options_are_validated_once_and_frozen(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainOptions(target="y", **options)  # type: ignore[arg-type]
    frozen = TrainOptions(target="y")
    with pytest.raises(AttributeError):
        frozen.seed = 1  # type: ignore[misc]


def test_split_holdout_maps_back_to_the_rows_as_read() -> None:
    from apprentice.learn.task import prepare_target

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "y": rng.normal(size=200).astype(object)})
    frame.loc[::10, "y"] = None  # rows without a target leave before the split
    info = prepare_target(frame["y"], name="y", task=None)
    kept = frame.loc[info.kept].reset_index(drop=True)
    holdout = split_holdout(kept, info, TrainOptions(target="y", seed=3))
    assert len(holdout.test_idx) + len(holdout.train_idx) == len(kept)
    assert not set(holdout.train_idx) & set(holdout.test_idx)
    # positions are rows of the table as read: their targets are the holdout's targets
    original = frame["y"].to_numpy()[holdout.positions].astype(float)
    np.testing.assert_array_equal(original, info.y[holdout.test_idx])


def test_a_holdout_given_by_row_positions() -> None:
    """``retrain`` names its decision holdout: exactly those rows (among those with a target)
    are held out, the folds still follow the split, and the manifest says ``given``."""
    from apprentice.learn.task import prepare_target

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=120), "y": rng.integers(0, 2, 120).astype(object)})
    frame.loc[[3, 100], "y"] = None  # row 100 is asked for but has no target
    info = prepare_target(frame["y"], name="y", task=None)
    kept = frame.loc[info.kept].reset_index(drop=True)
    asked = tuple(range(90, 120))
    holdout = split_holdout(kept, info, TrainOptions(target="y", holdout_rows=asked))
    assert holdout.given and holdout.kind == "given" and holdout.spec.kind == "stratified"
    assert list(holdout.positions) == [r for r in asked if r != 100]
    assert len(holdout.train_idx) == 120 - 2 - 29


def test_a_failing_step_removes_the_bundle_folder_it_created(tmp_path: Path) -> None:
    from apprentice.learn.search import Clock

    out = tmp_path / "bundle"
    state = steps.TrainState(
        options=TrainOptions(target="y", out=out), clock=Clock(None), say=print, data=None
    )

    def write(state: steps.TrainState) -> None:
        out.mkdir()
        (out / "manifest.json").write_text("{}", encoding="utf-8")
        state.out_path = out

    def fail(state: steps.TrainState) -> None:
        raise MemoryError("out of memory")

    with pytest.raises(MemoryError):
        run_steps(state, [("bundle", write), ("evaluate", fail)])
    assert not out.exists()
    assert "bundle_s" in state.timings and "evaluate_s" not in state.timings
