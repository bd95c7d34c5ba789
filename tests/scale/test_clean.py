"""clean_partitioned: when the sample is the whole table, the merged ledger and the cleaned
values equal the in-process clean_file's; with a smaller sample the counts still cover every
row; output is written partition by partition, atomically; PII never reaches the ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from apprentice.scale import clean_partitioned, read_partitioned, write_partitioned
from apprentice.workflows import clean_file
from tests._tables import table_path
from tests.scale.test_partitions import messy_adult

WHOLE = 10**9


def _ledger_without_scale(result: Any) -> dict[str, Any]:
    out = result.ledger_dict()
    scale = out.pop("scale")
    assert out["table"]["notes"][-1].startswith(f"recipe fitted on {scale['sample_rows']:,}")
    out["table"]["notes"] = out["table"]["notes"][:-1]
    return dict(out)


def _same_values(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    for name in expected.columns:
        pd.testing.assert_series_equal(got[name], expected[name], check_dtype=False)
        if not isinstance(expected[name].dtype, pd.StringDtype):
            assert got[name].dtype == expected[name].dtype, name


@pytest.fixture(scope="module")
def adult(tmp_path_factory: pytest.TempPathFactory, dask_client: Any) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("adult")
    path = messy_adult(folder)
    table = read_partitioned(path, client=dask_client, blocksize=50_000)
    return {
        "path": path,
        "table": table,
        "partitioned": clean_partitioned(table, client=dask_client, sample_rows=WHOLE),
        "in_process": clean_file(path),
    }


def test_merged_ledger_equals_the_in_process_ledger(adult: dict[str, Any]) -> None:
    got, ref = adult["partitioned"], adult["in_process"]
    assert adult["table"].n_partitions >= 3
    assert got.sample_rows == got.rows_total == len(ref.table)
    ledger, expected = _ledger_without_scale(got), ref.ledger_dict()
    # the properties the issue names, spelled out, then everything else in the ledger
    for mine, theirs in zip(ledger["columns"], expected["columns"], strict=True):
        for key in ("n_cells", "n_missing", "coercions", "markers", "unparseable", "sentinels"):
            assert mine[key] == theirs[key], (mine["name"], key)
    workclass = next(c for c in ledger["columns"] if c["name"] == "workclass")
    assert workclass["markers"][0]["token"] == "?" and workclass["markers"][0]["count"] > 50
    hours = next(c for c in ledger["columns"] if c["name"] == "hours_per_week")
    assert hours["coercions"]["unparseable"] == 3
    assert [u["lines"] for u in hours["unparseable"]] == [
        u["lines"] for u in expected["columns"][12]["unparseable"]
    ]
    table = ledger["table"]
    assert table["n_rows"] == expected["table"]["n_rows"]
    assert table["duplicate_rows"] == expected["table"]["duplicate_rows"]
    assert table["duplicate_rows"]["count"] >= 3  # the repeats appended at the end, at least
    assert table["constant_columns"] == expected["table"]["constant_columns"]
    assert table["empty_columns"] == expected["table"]["empty_columns"]
    assert ledger == expected


def test_cleaned_values_equal_the_in_process_table(adult: dict[str, Any], dask_client: Any) -> None:
    from apprentice.scale import compute

    (got,) = compute(dask_client, adult["partitioned"].frame)
    _same_values(got, adult["in_process"].table)


def test_a_smaller_sample_still_counts_every_row(adult: dict[str, Any], dask_client: Any) -> None:
    table = adult["table"]
    got = clean_partitioned(table, client=dask_client, sample_rows=400, seed=3)
    assert got.sample_rows == 400
    ledger = got.ledger_dict()
    assert ledger["scale"]["sample_rows"] == 400
    assert ledger["scale"]["rows_total"] == table.rows_kept
    assert ledger["scale"]["n_partitions"] == table.n_partitions
    assert all(c["n_cells"] == table.rows_kept for c in ledger["columns"])
    # labels the sample missed are learned from every partition, never made missing
    assert all(c["coercions"]["unseen"] == 0 for c in ledger["columns"])
    relearned = [
        c["name"]
        for c in ledger["columns"]
        if "categories the sample missed were learned from every partition"
        in c["evidence"]["decisions"]
    ]
    assert "native_country" in relearned
    ref = adult["in_process"].ledger_dict()
    assert ledger["table"]["duplicate_rows"] == ref["table"]["duplicate_rows"]
    assert "400 of" in ledger["table"]["notes"][-1]


def test_writes_one_file_atomically(
    adult: dict[str, Any], dask_client: Any, tmp_path: Path
) -> None:
    got = adult["partitioned"]
    ref = adult["in_process"]
    written = got.write(
        client=dask_client, output=tmp_path / "out.parquet", ledger=tmp_path / "l.json"
    )
    assert Path(written["output"]).is_file()
    _same_values(pd.read_parquet(tmp_path / "out.parquet"), ref.table)
    assert json.loads((tmp_path / "l.json").read_text())["scale"]["sample_rows"] > 0
    write_partitioned(got.frame, tmp_path / "out.csv", client=dask_client, recipe=got.recipe)
    ref.write(output=tmp_path / "ref.csv")
    assert (tmp_path / "out.csv").read_bytes() == (tmp_path / "ref.csv").read_bytes()

    def explode(part: pd.DataFrame) -> pd.DataFrame:
        if part.index.max() > 1000:
            raise RuntimeError("disk on fire")
        return part

    broken = got.frame.map_partitions(explode, meta=got.frame._meta)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_partitioned(broken, tmp_path / "broken.csv", client=dask_client)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "l.json",
        "out.csv",
        "out.parquet",
        "ref.csv",
    ]


def test_parquet_with_sentinels_equals_in_process(tmp_path: Path, dask_client: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from apprentice.read import read

    raw = read(table_path("air_quality_uci.csv")).table.head(1200)
    path = tmp_path / "air.parquet"
    pq.write_table(pa.Table.from_pandas(raw, preserve_index=False), path, row_group_size=300)
    table = read_partitioned(path, client=dask_client)
    assert table.n_partitions == 4
    got = clean_partitioned(table, client=dask_client, sample_rows=WHOLE)
    ref = clean_file(path)
    ledger = _ledger_without_scale(got)
    assert ledger == ref.ledger_dict()
    flagged = [c for c in ledger["columns"] if c["sentinels"]]
    assert flagged and flagged[0]["sentinels"][0]["value"] == -200.0
    _same_values(got.frame.compute(), ref.table)


def test_pii_stays_out_of_the_ledger(tmp_path: Path, dask_client: Any) -> None:
    rng = np.random.default_rng(0)
    n = 300
    emails = [f"person{i}.name@example{i % 7}.com" for i in range(n)]
    frame = pd.DataFrame(
        {
            "email": emails,
            "score": rng.integers(0, 100, n).astype(str),
            "city": rng.choice(["Lyon", "Oslo", "Kyiv"], n),
        }
    )
    frame.loc[5, "score"] = emails[5]  # a PII value that would be an unparseable example
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    table = read_partitioned(path, client=dask_client, blocksize=4000)
    assert table.n_partitions >= 2
    got = clean_partitioned(table, client=dask_client, sample_rows=WHOLE)
    text = got.ledger_json()
    assert not any(e in text for e in emails)
    assert "email" in got.protection.feature_exclusions
    assert "email" in got.ledger_dict()["pii"]["protection"]["excluded_from_features"]


def test_clean_cli_on_a_running_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dask_client: Any
) -> None:
    from apprentice.cli import app

    path = messy_adult(tmp_path, rows=300)
    out, ledger = tmp_path / "out.parquet", tmp_path / "ledger.json"
    monkeypatch.setenv("APPRENTICE_DASK_ADDRESS", dask_client.scheduler.address)
    res = CliRunner().invoke(
        app,
        [
            *("clean", str(path), "-o", str(out), "--ledger", str(ledger)),
            *("--sample-rows", "100", "--blocksize", "15000", "--json"),
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["n_partitions"] >= 2
    assert payload["sample_rows"] == 100
    assert payload["rows"] == 300 + 4  # the appended repeats; the broken row is quarantined
    assert json.loads(ledger.read_text())["scale"]["sample_rows"] == 100
    assert len(pd.read_parquet(out)) == payload["rows"]
