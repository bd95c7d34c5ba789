"""Batch scoring partition by partition on a real LocalCluster."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import load_bundle
from apprentice.errors import ClusterError
from apprentice.scale import predict_partitioned
from tests.monitor.conftest import Monitored
from tests.scale._adult import monitored

__all__ = ["monitored"]  # one adult bundle for the scale tests


def _parts(frame: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    bounds = np.linspace(0, len(frame), n + 1).astype(int)
    return [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]


def test_cluster_predictions_equal_in_process(
    dask_client: Any, monitored: Monitored, tmp_path: Path
) -> None:
    bundle = load_bundle(monitored.path)
    rows = monitored.current.drop(columns=["income"])
    want = bundle.predict(rows)
    out = tmp_path / "pred.csv"
    summary = predict_partitioned(bundle, _parts(rows, 4), out, client=dask_client)
    assert summary["rows"] == len(rows) and summary["partitions"] == 4
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["prediction"].tolist() == [str(v) for v in want]
    proba = bundle.predict_frame(rows)
    np.testing.assert_allclose(got.iloc[:, 1:].astype(float).to_numpy(), proba.iloc[:, 1:])
    assert not list(tmp_path.glob(".*.part"))

    # to Parquet
    parquet = tmp_path / "pred.parquet"
    summary = predict_partitioned(bundle, _parts(rows, 3), parquet, client=dask_client)
    table = pd.read_parquet(parquet)
    assert table["prediction"].astype(str).tolist() == [str(v) for v in want]
    assert summary["partitions"] == 3 and not list(tmp_path.glob(".*.part"))


def _die(part: pd.DataFrame) -> pd.DataFrame:
    os._exit(1)  # the worker process dies mid-job


def test_a_dying_worker_fails_the_job_and_leaves_no_file(
    monitored: Monitored, tmp_path: Path
) -> None:
    import dask
    import dask.dataframe as dd

    from apprentice.scale import connect

    bundle = load_bundle(monitored.path)
    rows = monitored.current.drop(columns=["income"]).iloc[:200]
    parts = _parts(rows, 2)
    frame = dd.from_delayed([dask.delayed(_die)(p) for p in parts], meta=parts[0].iloc[:0])
    out = tmp_path / "pred.csv"
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        connect("local:1", memory_limit="1GiB", check=False) as client,
        pytest.raises(ClusterError, match="died"),
    ):
        predict_partitioned(bundle, frame, out, client=client)
    assert not out.exists()
    assert not list(tmp_path.glob(".*"))
