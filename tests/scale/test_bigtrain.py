"""``apprentice train --dask`` on a file bigger than the sample: the search on a sample on the
workers, LightGBM's Dask estimator on every row, a bundle that serves raw rows and is
monitored like any other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from apprentice.cli import app

FLIGHTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tables"
FLIGHTS = (FLIGHTS / "flights_3m.parquet").resolve()


@pytest.fixture(scope="module")
def flights(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """6,000 training rows and 1,000 other rows of the real flights table, as CSV text."""
    if not FLIGHTS.exists():
        pytest.skip(f"{FLIGHTS} is not there")
    table = pq.ParquetFile(FLIGHTS).read_row_group(0)
    order = np.random.default_rng(1).permutation(table.num_rows)[:7000]
    folder = tmp_path_factory.mktemp("flights")
    train, test = folder / "train.csv", folder / "test.csv"
    pcsv.write_csv(table.take(pa.array(order[:6000])), train)
    pcsv.write_csv(table.take(pa.array(order[6000:])), test)
    return train, test


def test_train_dask_on_every_row(
    dask_client: Any, flights: tuple[Path, Path], tmp_path: Path
) -> None:
    import apprentice

    train, test = flights
    out = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(train), "--target", "delay", "--dask", dask_client.scheduler.address,
         "--sample-rows", "2000", "--max-trials", "0", "--families", "lightgbm",
         "--out", str(out), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["rows"] == 6000 and payload["sample_rows"] == 2000
    assert payload["trained_on"].startswith("all rows (LightGBM Dask")
    full = payload["full"]
    assert full["n_train"] + full["n_validation"] + full["n_holdout"] + full["n_dropped"] == 6000
    assert full["n_holdout"] > 1000  # the holdout is drawn from every row, not the sample
    assert len(full["workers"]) == 2
    assert np.isfinite(payload["metrics"]["rmse"]["value"])

    bundle = apprentice.load_bundle(out)  # hashes verified
    assert bundle.manifest["training"]["rows"] == full["n_train"]
    raw = apprentice.read(str(test)).table
    pred = bundle.predict(raw)
    assert len(pred) == 1000 and np.isfinite(pred).all()
    assert "profile" in bundle.manifest  # from the sample's holdout rows

    monitored = CliRunner().invoke(
        app, ["monitor", "--model", str(out), "--current", str(test), "--json"]
    )
    assert monitored.exit_code in (0, 1), monitored.output
    assert json.loads(monitored.stdout)["rows"] == 1000


def test_small_file_trains_as_in_process(
    dask_client: Any, flights: tuple[Path, Path], tmp_path: Path
) -> None:
    train, _ = flights
    result = CliRunner().invoke(
        app,
        ["train", str(train), "--target", "delay", "--dask", dask_client.scheduler.address,
         "--max-trials", "0", "--families", "lightgbm", "--out", str(tmp_path / "m"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert "full" not in payload  # a TrainResult: the whole file fits the sample
    assert payload["compute"]["runner"] == "dask"


def test_a_budget_too_small_for_lightgbm_still_scales_out(
    dask_client: Any, flights: tuple[Path, Path], tmp_path: Path
) -> None:
    from apprentice.scale.bigtrain import train_partitioned

    train, _ = flights
    result = train_partitioned(
        train,
        target="delay",
        client=dask_client,
        out=tmp_path / "m",
        sample_rows=1500,
        time_budget=0.01,  # the baseline at most: no LightGBM configuration on the sample
    )
    assert result.full is not None and result.full.config.startswith("lightgbm")
    assert any("ran out before any LightGBM" in note for note in result.notes)
    assert result.rows == 6000 and result.sample_rows == 1500
