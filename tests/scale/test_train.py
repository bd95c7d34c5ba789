"""``train`` with its search on a real LocalCluster: same results, the budget, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from apprentice.bundle import train
from apprentice.cli import main
from tests.learn._data import TABLES, needs_tables, text_table

pytestmark = needs_tables

REPRODUCIBLE: dict[str, Any] = {
    "time_budget": None,
    "max_trials": 0,
    "families": ("linear", "lightgbm"),
    "n_jobs": 1,
    "n_boot": 200,
}


def test_train_on_cluster_gives_the_in_process_model(dask_client: Any, tmp_path: Path) -> None:
    from apprentice.scale import train_on_cluster

    source = TABLES / "blood_transfusion.csv"
    here = train(source, target="Class", out=tmp_path / "here", **REPRODUCIBLE)
    there = train_on_cluster(
        source, target="Class", client=dask_client, out=tmp_path / "there", **REPRODUCIBLE
    )
    a, b = here.leaderboard, there.leaderboard
    assert list(b["model"]) == list(a["model"])
    assert list(b["status"]) == list(a["status"])
    np.testing.assert_allclose(b["cv_roc_auc"], a["cv_roc_auc"], rtol=1e-9)
    assert there.champion == here.champion
    for name, interval in here.metrics.items():
        assert there.metrics[name].value == pytest.approx(interval.value, rel=1e-9), name
    rows = text_table("blood_transfusion.csv").drop(columns=["Class"])
    np.testing.assert_allclose(
        there.bundle.predict_proba(rows), here.bundle.predict_proba(rows), rtol=1e-9
    )
    assert there.compute["runner"] == "dask" and there.compute["workers"] == 2
    assert there.compute["fold_tasks"] > 0
    assert here.compute["runner"] == "in-process"
    assert there.bundle.manifest["compute"]["runner"] == "dask"


def test_cli_train_on_a_local_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "train",
        str(TABLES / "blood_transfusion.csv"),
        "--target",
        "Class",
        "--max-trials",
        "0",
        "--families",
        "linear",
        "--dask",
        "local:2",
        "--json",
        "--out",
        str(tmp_path / "cli"),
    ]
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)
    assert document["compute"]["runner"] == "dask"
    assert document["compute"]["address"] == "local:2"
    assert document["compute"]["workers"] == 2
    assert document["compute"]["fold_tasks"] > 0
    assert (tmp_path / "cli" / "manifest.json").is_file()


def test_cli_run_records_where_the_search_ran(
    dask_client: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "workspace"))
    address = dask_client.scheduler.address
    argv = [
        "run",
        str(TABLES / "blood_transfusion.csv"),
        "--target",
        "Class",
        "--max-trials",
        "0",
        "--families",
        "linear",
        "--no-track",
        "--dask",
        address,
        "--json",
    ]
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr().out
    assert code == 0
    document = json.loads(out)
    compute = document["reproduce"]["compute"]
    assert compute["runner"] == "dask" and compute["address"] == address
    assert compute["workers"] == 2 and compute["fold_tasks"] > 0
    assert f"--dask {address}" in document["reproduce"]["command"]
