"""A bundle trained once per session on the planted titanic table (PII columns, canaries)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.test_pii_canary import TITANIC, planted_table

QUICK = {"time_budget": None, "max_trials": 0, "families": ("linear", "lightgbm"), "n_jobs": 1}


@dataclass(frozen=True)
class Planted:
    bundle: Path
    data: Path
    rows: list[dict[str, Any]]  # raw rows of the file, target left out, as text cells

    def records(self, n: int | None = None) -> list[dict[str, Any]]:
        return [dict(r) for r in self.rows[:n]]


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    if not TITANIC.is_file():
        pytest.skip("../shared/data/tables/titanic.csv is not available")
    from apprentice.bundle import train

    folder = tmp_path_factory.mktemp("serve")
    data = planted_table(folder / "passengers.csv")
    out = folder / "bundle"
    train(data, target="Survived", out=out, **QUICK)
    with open(data, encoding="utf-8", newline="") as fh:
        rows = [{k: v for k, v in r.items() if k != "Survived"} for r in csv.DictReader(fh)]
    return Planted(out, data, rows)
