"""Shared by the track and run/compare workflow tests: real SQLite MLflow stores in tmp
folders (copied from one store initialised per session: creating the schema takes seconds),
small real tables and quick training settings."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pandas as pd
import pytest

from apprentice.config import Settings
from tests._tables import TABLES

REPO = Path(__file__).resolve().parents[2]
needs_tables = pytest.mark.skipif(
    not (TABLES / "MANIFEST.json").is_file(), reason="../shared/data/tables is not available"
)

#: reproducible and quick: no time budget, no Optuna trials, two families, one thread
QUICK: dict[str, object] = {
    "time_budget": None,
    "max_trials": 0,
    "families": ("linear", "lightgbm"),
    "n_jobs": 1,
    "n_boot": 200,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised, empty MLflow SQLite database to copy into workspaces."""
    from apprentice.track import Tracker

    folder = tmp_path_factory.mktemp("store-template")
    tracker = Tracker(settings=Settings(workspace=folder)).open()
    tracker.client  # noqa: B018 - opened
    return folder / "mlflow.db"


def make_workspace(root: Path, template: Path) -> Settings:
    """A workspace folder whose MLflow store is a copy of ``template``."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, root / "mlflow.db")
    return Settings(workspace=root, tracking_uri=None)


@pytest.fixture(scope="session")
def adult_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 rows of the Adult census table, as text, in a CSV file."""
    if not (TABLES / "adult.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    frame = pd.read_csv(TABLES / "adult.csv", dtype="str", keep_default_na=False)
    frame = frame.sample(1500, random_state=3).reset_index(drop=True)
    path = tmp_path_factory.mktemp("data") / "adult_1500.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def blood_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the blood transfusion table (748 rows, binary ``Class``)."""
    if not (TABLES / "blood_transfusion.csv").is_file():
        pytest.skip("../shared/data/tables is not available")
    path = tmp_path_factory.mktemp("data") / "blood.csv"
    shutil.copy(TABLES / "blood_transfusion.csv", path)
    return path
