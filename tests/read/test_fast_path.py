"""The multi-threaded fast path for large files gives exactly the careful path's answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import apprentice
from apprentice.config import get_settings

TABLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "tables"
FAST = get_settings(fast_read_bytes=1)
CAREFUL = get_settings(fast_read_bytes=1 << 62)


def _both(path: Path) -> tuple[apprentice.ReadResult, apprentice.ReadResult]:
    return apprentice.read(path, settings=FAST), apprentice.read(path, settings=CAREFUL)


def _same(fast: apprentice.ReadResult, careful: apprentice.ReadResult) -> None:
    assert list(fast.table.columns) == list(careful.table.columns)
    assert fast.table.astype(object).values.tolist() == careful.table.astype(object).values.tolist()
    assert np.array_equal(fast.line_numbers, careful.line_numbers)
    assert fast.quarantine["line"].tolist() == careful.quarantine["line"].tolist()
    assert fast.quarantine["raw"].tolist() == careful.quarantine["raw"].tolist()
    assert fast.quarantine["reason"].tolist() == careful.quarantine["reason"].tolist()
    assert fast.rows_read == careful.rows_read
    assert fast.dialect == careful.dialect


@pytest.fixture(scope="module")
def messy_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """diamonds.csv with blank lines, a repairable row and an ambiguous one."""
    src = TABLES / "diamonds.csv"
    if not src.exists():
        pytest.skip("../shared/data/tables/diamonds.csv is not present")
    lines = src.read_text(encoding="utf-8").splitlines()
    lines[100] = lines[100] + ","  # one empty trailing field too many: repairable
    lines[2000] = ",".join(lines[2000].split(",")[:4])  # six fields lost: quarantined
    lines.insert(5000, "")  # a blank line
    path = tmp_path_factory.mktemp("fast") / "diamonds_messy.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fast_path_is_used_and_agrees(messy_copy: Path) -> None:
    fast, careful = _both(messy_copy)
    assert any("fast path" in n for n in fast.notes)
    assert not any("fast path" in n for n in careful.notes)
    _same(fast, careful)
    assert fast.rows_repaired == careful.rows_repaired == 1
    assert fast.rows_quarantined == 1
    assert fast.rows_kept == 53940 - 1


def test_clean_real_table_agrees() -> None:
    """adult.csv is ', '-separated: the fast path trims the delimiter's spaces the same way."""
    path = TABLES / "adult.csv"
    if not path.exists():
        pytest.skip("../shared/data/tables/adult.csv is not present")
    fast, careful = _both(path)
    assert any("fast path" in n for n in fast.notes)
    assert fast.dialect is not None and fast.dialect.delimiter == ", "
    _same(fast, careful)


def test_multiline_fields_take_the_careful_path(tmp_path: Path) -> None:
    rows = [f'{i},"line one\nline two {i}",{i * 1.5}' for i in range(50)]
    path = tmp_path / "multi.csv"
    path.write_text("id,text,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    fast, careful = _both(path)
    assert not any("fast path" in n for n in fast.notes)
    _same(fast, careful)
    assert fast.table["text"].iloc[3] == "line one\nline two 3"


def test_non_utf8_tail_falls_back_to_the_careful_path(tmp_path: Path) -> None:
    """The sample looks ASCII, a late byte is not UTF-8: the whole file is decoded again."""
    body = "".join(f"{i},name{i},{i / 3:.3f}\n" for i in range(20000))
    data = b"id,name,value\n" + body.encode() + b"20000,caf\xe9,1.0\n"
    path = tmp_path / "latin_tail.csv"
    path.write_bytes(data)
    fast, careful = _both(path)
    _same(fast, careful)
    assert fast.encoding == careful.encoding == "cp1252"
    assert fast.table["name"].iloc[-1] == "café"
    assert fast.rows_kept == 20001


def test_column_metadata_rows_agree_on_both_paths(tmp_path: Path) -> None:
    # a units row under the names: both paths start the body after it and account for it
    rows = ["width,weight,year,site", "cm,g,,"]
    rows += [f"{10 + i % 50},{200 + i % 70},{2000 + i % 20},s{i % 9}" for i in range(3000)]
    path = tmp_path / "units.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fast, careful = _both(path)
    assert any("fast path" in n for n in fast.notes)
    _same(fast, careful)
    assert list(fast.table.columns) == ["width", "weight", "year", "site"]
    assert fast.rows_kept == 3000
    assert fast.lines is not None and fast.lines.counts["column metadata"] == 1
