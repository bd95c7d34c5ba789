"""Bundles trained once per test session on small real tables (quick, reproducible runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apprentice.bundle import TrainResult, train
from tests.learn._data import TABLES, text_table

QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear", "lightgbm"), "n_jobs": 1}


@pytest.fixture(scope="session")
def blood(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    if not (TABLES / "blood_transfusion.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    out = tmp_path_factory.mktemp("bundles") / "blood"
    return train(TABLES / "blood_transfusion.csv", target="Class", out=out, **QUICK)


@pytest.fixture(scope="session")
def penguins(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    if not (TABLES / "penguins.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    out = tmp_path_factory.mktemp("bundles") / "penguins"
    return train(TABLES / "penguins.csv", target="species", out=out, **QUICK)


@pytest.fixture(scope="session")
def adult_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 adult rows whose labels mix ``>50K`` and ``>50K.`` (train and test files)."""
    if not (TABLES / "adult.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    import pandas as pd

    rows = pd.concat(
        [text_table("adult.csv", rows=1500, seed=1), text_table("adult_test.csv", rows=500)],
        ignore_index=True,
    )
    rows.loc[::97, "income"] = ""  # some missing labels
    path = tmp_path_factory.mktemp("data") / "adult_mixed.csv"
    rows.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def adult(adult_file: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    out = tmp_path_factory.mktemp("bundles") / "adult"
    return train(adult_file, target="income", out=out, **QUICK)
