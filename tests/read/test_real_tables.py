"""Every real table in ../shared/data/tables reads whole: no quarantine, the right shape.

Pollock is 2,290 variants of one file; these are the counterweight against tuning the
reader to it. pandas (told the delimiter) is the reference for the shape and the cells.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

import apprentice
from apprentice.read._source import dedupe

TABLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "tables"
MANIFEST = json.loads((TABLES / "MANIFEST.json").read_text()) if TABLES.exists() else []
SMALL = [
    t["file"]
    for t in MANIFEST
    if t["file"].endswith((".csv", ".tsv")) and (TABLES / t["file"]).stat().st_size < 4_000_000
]


@pytest.mark.parametrize("name", SMALL)
def test_real_table_reads_whole(name: str) -> None:
    path = TABLES / name
    result = apprentice.read(path)
    sep = "\t" if name.endswith(".tsv") else ","
    ref = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep)
    assert result.rows_quarantined == 0
    assert result.table.shape == ref.shape
    with path.open(encoding="utf-8-sig", newline="") as fh:
        raw_header = next(csv.reader(fh, delimiter=sep))
    # repeated names are renamed as every reader and the cleaner rename them (a, a_2)
    assert list(result.table.columns) == dedupe(raw_header)
    if result.dialect is not None and result.dialect.delimiter == ", ":
        ref = ref.apply(lambda col: col.str.removeprefix(" "))  # the space is the delimiter's
    assert result.table.astype(object).values.tolist() == ref.astype(object).values.tolist()
