"""Drift and performance through a real LocalCluster equal the in-process check."""

from __future__ import annotations

from typing import Any

import pandas as pd

from apprentice.bundle import load_bundle
from apprentice.monitor import check
from apprentice.scale import monitor_partitioned
from tests.monitor.conftest import Monitored, monitored
from tests.monitor.test_partial import assert_same

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
