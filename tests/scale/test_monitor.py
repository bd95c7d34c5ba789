"""Drift and performance through a real LocalCluster equal the in-process check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from apprentice.bundle import load_bundle
from apprentice.monitor import check
from apprentice.scale import monitor_partitioned
from tests.monitor.conftest import Monitored
from tests.monitor.test_partial import assert_same
from tests.scale._adult import monitored

__all__ = ["monitored"]


def test_cluster_drift_equals_in_process(dask_client: Any, monitored: Monitored) -> None:
    bundle = load_bundle(monitored.path)
    rows = pd.concat([monitored.reference, monitored.current], ignore_index=True)
    age = pd.to_numeric(rows["age"], errors="coerce")
    rows["age"] = (age * 1.3).round().astype("Int64").astype(str)
    want = check(bundle, rows).to_dict()
    parts = [rows.iloc[i : i + 1400] for i in range(0, len(rows), 1400)]
    got = monitor_partitioned(bundle, parts, client=dask_client).to_dict()
    assert_same(want, got)
    assert any(c["drifted"] for c in got["drift"]["columns"])


def test_cli_predict_and_monitor_with_dask(
    dask_client: Any, monitored: Monitored, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from apprentice.cli import app

    runner = CliRunner()
    address = dask_client.scheduler.address
    source = tmp_path / "current.csv"
    monitored.current.to_csv(source, index=False)
    local = runner.invoke(
        app, ["monitor", "-m", str(monitored.path), "--current", str(source), "--json"]
    )
    remote = runner.invoke(
        app,
        [
            "monitor",
            "-m",
            str(monitored.path),
            "--current",
            str(source),
            "--json",
            "--dask",
            address,
        ],
    )
    assert local.exit_code in (0, 1) and remote.exit_code == local.exit_code, remote.output
    assert_same(json.loads(local.stdout), json.loads(remote.stdout))

    out_local, out_remote = tmp_path / "a.csv", tmp_path / "b.csv"
    done = runner.invoke(
        app, ["predict", str(monitored.path), str(source), "-o", str(out_local), "--keep", "age"]
    )
    assert done.exit_code == 0, done.output
    done = runner.invoke(
        app,
        [
            "predict",
            str(monitored.path),
            str(source),
            "-o",
            str(out_remote),
            "--keep",
            "age",
            "--dask",
            address,
        ],
    )
    assert done.exit_code == 0, done.output
    assert out_remote.read_text() == out_local.read_text()
    assert out_local.read_text().startswith("age,prediction,")
