"""One small bundle (adult, linear model, with its reference profile) for the scale tests'
modules, trained once per process (the monitor tests' fixture, built the same way)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tests.learn._data import TABLES, text_table
from tests.monitor.conftest import Monitored


@cache
def adult_bundle(root: Path) -> Monitored:
    from apprentice.bundle import train
    from apprentice.monitor import attach_profile, build_profile

    rows = text_table("adult.csv", rows=4000, seed=11)
    reference, current = rows.iloc[:3000].reset_index(drop=True), rows.iloc[3000:]
    result = train(
        reference.iloc[:2200],
        target="income",
        out=root / "scale-adult",
        time_budget=None,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
        n_boot=50,
    )
    holdout = reference.iloc[2200:].reset_index(drop=True)
    attach_profile(result.path, build_profile(result.bundle, holdout))
    return Monitored(result.path, reference, current.reset_index(drop=True))


@pytest.fixture
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Monitored:
    if not (TABLES / "adult.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    return adult_bundle(tmp_path_factory.getbasetemp())
