"""One small bundle (adult, linear model) with its reference profile, per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from tests.learn._data import TABLES, text_table


@dataclass
class Monitored:
    path: Path
    reference: pd.DataFrame  # raw rows the model was trained and profiled on
    current: pd.DataFrame  # fresh raw rows of the same distribution, with labels


@pytest.fixture(scope="session")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Monitored:
    if not (TABLES / "adult.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    from apprentice.bundle import train
    from apprentice.monitor import attach_profile, build_profile

    rows = text_table("adult.csv", rows=4000, seed=11)
    reference, current = rows.iloc[:3000].reset_index(drop=True), rows.iloc[3000:]
    out = tmp_path_factory.mktemp("monitor") / "adult"
    result = train(
        reference.iloc[:2200],
        target="income",
        out=out,
        time_budget=None,
        max_trials=0,
        families=("linear",),
        n_jobs=1,
        n_boot=50,
    )
    holdout = reference.iloc[2200:].reset_index(drop=True)
    attach_profile(result.path, build_profile(result.bundle, holdout))
    return Monitored(result.path, reference, current.reset_index(drop=True))
