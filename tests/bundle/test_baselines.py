"""Baselines with fixed meanings, on a table made for it (a linear signal): the constant and
the linear model are always trained, each compared with the champion once, in its role."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from apprentice.bundle import train

QUICK = {"time_budget": None, "max_trials": 0, "n_jobs": 1, "n_boot": 200}


def _linear_table(path: Path, n: int = 400, seed: int = 5) -> Path:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    logit = 1.5 * x[:, 0] - 1.0 * x[:, 1]
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    frame = pd.DataFrame(np.round(x, 3), columns=["a", "b", "c"])
    frame["label"] = np.where(y, "pos", "neg")
    frame.to_csv(path, index=False)
    return path


def test_both_baselines_are_compared_once_each(tmp_path: Path) -> None:
    data = _linear_table(tmp_path / "t.csv")
    result = train(
        data, target="label", out=tmp_path / "b", families=("linear", "lightgbm"), **QUICK
    )
    roles = [c.role for c in result.comparisons]
    against = [c.b for c in result.comparisons]
    assert len(set(against)) == len(against) and result.champion not in against
    assert roles[0] == "constant baseline" and against[0] == "dummy"
    assert result.comparisons[0].better  # a real signal beats the constant model
    if result.champion != "linear":
        assert roles[1] == "linear baseline" and against[1] == "linear"
    for c in result.comparisons:
        assert c.wording.startswith(("no evidence that", f"{result.champion} beats"))
        assert "(95% CI " in c.wording


def test_the_linear_baseline_runs_even_when_families_leave_it_out(tmp_path: Path) -> None:
    data = _linear_table(tmp_path / "t.csv", n=300)
    result = train(data, target="label", out=tmp_path / "b", families=("lightgbm",), **QUICK)
    board = result.leaderboard.set_index("model")
    assert board.loc["linear", "status"] == "ok"  # trained, as a baseline
    assert board.loc["dummy", "status"] == "ok"
    assert result.champion.startswith(("lightgbm", "ensemble"))  # never a family left out
    against = {c.role: c.b for c in result.comparisons}
    assert against["constant baseline"] == "dummy" and against["linear baseline"] == "linear"
