"""``apprentice predict --dask``: the same input contract as in process, checked on the
partitioned table's columns before any row is predicted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from apprentice.cli import main
from tests.monitor.conftest import Monitored
from tests.scale._adult import monitored

__all__ = ["monitored"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_renamed_column_on_the_cluster(
    dask_client: Any, monitored: Monitored, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = monitored.current.drop(columns=["income"]).rename(columns={"age": "AGE"})
    source = tmp_path / "renamed.csv"
    rows.to_csv(source, index=False)
    out = tmp_path / "out.csv"
    argv = ["predict", str(monitored.path), str(source), "-o", str(out)]
    address = dask_client.scheduler.address
    code, _, err = _run([*argv, "--dask", address], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "'age' (did you mean 'AGE'?)" in err and "nothing was written" in err
    assert not out.exists() and not list(tmp_path.glob(".*.part"))
    code, stdout, err = _run(
        [*argv, "--dask", address, "--allow-missing-columns", "--json"], capsys
    )
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["missing_columns"] == ["age"] and summary["unknown_columns"] == ["AGE"]
    assert summary["rows_with_missing_columns"] == len(rows) == summary["rows"]
    assert len(pd.read_csv(out)) == len(rows)  # every row predicted
    local = tmp_path / "local.csv"
    code, _, _ = _run(
        ["predict", str(monitored.path), str(source), "-o", str(local), "--allow-missing-columns"],
        capsys,
    )
    assert code == 0 and local.read_text() == out.read_text()
