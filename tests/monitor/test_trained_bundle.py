"""A bundle straight from ``apprentice.train`` carries its reference profile: the training
file itself is no alert (free-form codes the recipe cannot read are its normal state), and a
real shift is one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import apprentice
from apprentice.monitor import check, load_policy
from tests._tables import TABLES

TITANIC = TABLES / "titanic.csv"


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TITANIC.exists():
        pytest.skip("titanic.csv is not present in ../shared/data/tables nor tests/data/tables")
    out = tmp_path_factory.mktemp("titanic") / "bundle"
    apprentice.train(
        TITANIC,
        target="Survived",
        drop_columns=["PassengerId"],
        families=["linear"],
        max_trials=0,
        time_budget=None,
        n_jobs=1,
        out=out,
    )
    assert (out / "profile.json").exists()
    return out


def test_training_file_is_not_an_alert(bundle_dir: Path) -> None:
    report = check(
        apprentice.load_bundle(bundle_dir), pd.read_csv(TITANIC, dtype=str), policy=load_policy()
    )
    assert report.status == "ok", report.alerts


def test_shifted_fares_are_an_alert(bundle_dir: Path) -> None:
    frame = pd.read_csv(TITANIC, dtype=str)
    frame["Fare"] = (frame["Fare"].astype(float) * 3 + 40).astype(str)
    report = check(apprentice.load_bundle(bundle_dir), frame, policy=load_policy())
    assert report.status == "alert"
    assert any(a.get("column") == "Fare" for a in report.alerts)
