"""Small bundles trained once per test process on real tables, shared by the explain,
bundle-contribution, evaluate and report tests (quick, reproducible: no time budget, no
tuning trials)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from tests.learn._data import TABLES, text_table

QUICK: dict[str, Any] = {"time_budget": None, "max_trials": 0, "n_jobs": 1, "n_boot": 100}
_ROOT = Path(tempfile.mkdtemp(prefix="apprentice-explain-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)


def _train(name: str, data: pd.DataFrame, target: str, **kwargs: Any) -> Any:
    from apprentice.bundle import train

    return train(data, target=target, out=_ROOT / name, **{**QUICK, **kwargs})


@cache
def adult_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """2,000 training rows of adult.csv and 600 holdout rows of adult_test.csv (raw text).

    The holdout plants markup in a category (``race``) and in ``workclass``: reports must
    show it inert.
    """
    train_rows = text_table("adult.csv", rows=2000, seed=1)
    holdout = text_table("adult_test.csv", rows=600, seed=2)
    holdout["income"] = holdout["income"].str.strip().str.rstrip(".")
    holdout.loc[:39, "race"] = "<script>alert(1)</script>"
    holdout.loc[40:44, "workclass"] = "<img src=x onerror=alert(2)>"
    return train_rows, holdout


@cache
def adult_ensemble() -> Any:
    """linear + LightGBM (an ensemble when it wins on CV) for income."""
    rows, _ = adult_rows()
    return _train("adult_ensemble", rows, "income", families=("linear", "lightgbm"))


@cache
def adult_lightgbm() -> Any:
    """One LightGBM model, no ensemble."""
    rows, _ = adult_rows()
    return _train("adult_lgb", rows, "income", families=("lightgbm",), ensemble=False)


@cache
def blood_linear() -> Any:
    return _train(
        "blood_linear",
        text_table("blood_transfusion.csv"),
        "Class",
        families=("linear",),
        ensemble=False,
    )


@cache
def blood_forest() -> Any:
    return _train(
        "blood_forest",
        text_table("blood_transfusion.csv"),
        "Class",
        families=("random_forest",),
        ensemble=False,
        fast_predict=False,
    )


@cache
def penguins_lightgbm() -> Any:
    return _train(
        "penguins", text_table("penguins.csv"), "species", families=("lightgbm",), ensemble=False
    )


@cache
def housing() -> tuple[Any, pd.DataFrame]:
    """An ensemble regressor on 1,200 California rows, and 500 other rows as a holdout."""
    rows = text_table("california_housing.csv", rows=1700, seed=3)
    model = _train("housing", rows.iloc[:1200], "median_house_value",
                   families=("linear", "lightgbm"))  # fmt: skip
    return model, rows.iloc[1200:].reset_index(drop=True)


def have_tables() -> bool:
    return (TABLES / "MANIFEST.json").is_file()
