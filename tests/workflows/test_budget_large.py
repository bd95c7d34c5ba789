"""A file far larger than the time budget can use is read in part, and every record says so
(issue 14, point 1: "trained on N of M rows (sampled because of the time budget)").

The file is made for the purpose: a Parquet table with more rows than a 5 s budget's row caps
afford for its column count, so the read itself draws the rows. No test measures wall time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import apprentice
from apprentice.bundle import train
from apprentice.workflows.train import read_sample_rows, row_caps

BUDGET = 30.0
#: a wide table, so that the budget's caps are small (12,500 + 5,000 rows, read 35,000)
COLUMNS = 60
ROWS = 40_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    data = {f"f{i}": rng.normal(size=ROWS).round(3) for i in range(COLUMNS - 2)}
    frame = pd.DataFrame(data)
    frame["row"] = np.arange(ROWS)
    frame["y"] = (frame["f0"] + 0.3 * rng.normal(size=ROWS) > 0).astype(int)
    path = tmp_path_factory.mktemp("large") / "large.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=8192)
    return path


def test_the_read_sample_is_the_budget_row_caps() -> None:
    rows = read_sample_rows(BUDGET)
    assert rows(COLUMNS) == 2 * sum(row_caps(BUDGET, COLUMNS))
    assert rows(COLUMNS) < ROWS  # the fixture is larger than the budget can use
    assert rows(2) > rows(COLUMNS)  # fewer columns afford more rows


def test_train_reads_a_part_and_says_trained_on_n_of_m(big_file: Path, tmp_path: Path) -> None:
    wanted = read_sample_rows(BUDGET)(COLUMNS)
    # one trial: the caps decide the rows, not the time; the rows read, the split and the
    # record are what is checked
    result = train(
        big_file,
        target="y",
        out=tmp_path / "bundle",
        time_budget=BUDGET,
        families=("linear",),
        n_jobs=1,
        n_boot=50,
        max_trials=1,
        drop_columns=("row",),
    )
    manifest = result.bundle.manifest
    rows = manifest["rows"]
    assert rows["source"] == ROWS and rows["sampled"] is True
    assert rows["train"] + rows["holdout"] <= wanted
    first = result.warnings[0]
    assert first.startswith(f"trained on {rows['train']:,} of {ROWS:,} rows")
    assert "sampled because of the 30 s time budget" in first
    read_record = [r for r in result.ledger if r.get("stage") == "read"]
    assert read_record and read_record[0]["action"] == "sample_rows"
    assert read_record[0]["rows"] == wanted and read_record[0]["rows_available"] == ROWS
    # the holdout rows are rows of the part that was read, none of them trained on
    assert len(np.intersect1d(result.holdout.train_idx, result.holdout.test_idx)) == 0
    assert result.holdout_index.max() < wanted


def test_without_a_budget_every_row_is_read(big_file: Path) -> None:
    whole = apprentice.read(big_file)
    assert len(whole.table) == ROWS and whole.rows_sampled_from is None
