"""Reading every non-delimited source: JSON, JSON Lines, Excel, Parquet, compressed, stdin."""

from __future__ import annotations

import bz2
import datetime as dt
import gzip
import json
import lzma
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apprentice
from apprentice.errors import SourceNotFoundError


def cells(frame: pd.DataFrame) -> list[list[str | None]]:
    """Rows of a text frame with missing cells as ``None``."""
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def assert_text_table(frame: pd.DataFrame) -> None:
    assert all(dtype == "str" for dtype in frame.dtypes), frame.dtypes


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------------
# JSON


def test_json_array_of_records_keeps_number_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.json",
        '[{"id": 1, "price": 1.50, "ok": true, "code": "007", "n": null},\n'
        ' {"id": 2, "price": 2e3, "ok": false, "code": "010", "extra": "x"}]',
    )
    result = apprentice.read(path)
    assert result.format == "json"
    assert_text_table(result.table)
    assert list(result.table.columns) == ["id", "price", "ok", "code", "n", "extra"]
    assert cells(result.table) == [
        ["1", "1.50", "true", "007", None, None],
        ["2", "2e3", "false", "010", None, "x"],
    ]
    assert result.line_numbers.tolist() == [1, 2]
    assert result.rows_quarantined == 0


def test_json_nested_objects_are_flattened_and_lists_kept(tmp_path: Path) -> None:
    record = {
        "id": 1,
        "user": {"name": "Ann", "address": {"city": "Paris", "zip": "75001"}},
        "tags": ["a", 1.50, None],
        "empty": {},
    }
    path = write(tmp_path / "n.json", json.dumps([record]).replace("1.5", "1.50"))
    result = apprentice.read(path)
    assert list(result.table.columns) == [
        "id",
        "user.name",
        "user.address.city",
        "user.address.zip",
        "tags",
        "empty",
    ]
    assert cells(result.table) == [["1", "Ann", "Paris", "75001", '["a", 1.50, null]', "{}"]]
    assert any("flattened" in note for note in result.notes)
    assert any("'tags'" in note for note in result.notes)


def test_json_non_objects_are_quarantined_by_index(tmp_path: Path) -> None:
    path = write(tmp_path / "q.json", '[{"a": 1}, 42, "text", [1, 2], {"a": 2}]')
    result = apprentice.read(path)
    assert cells(result.table) == [["1"], ["2"]]
    assert result.line_numbers.tolist() == [1, 5]
    q = result.quarantine
    assert q["line"].tolist() == [2, 3, 4]
    assert q["raw"].tolist() == ["42", '"text"', "[1, 2]"]
    assert "not an object" in q["reason"].iloc[0]
    assert result.rows_read == 5


@pytest.mark.parametrize("key", ["data", "results"])
def test_json_wrapper_object(tmp_path: Path, key: str) -> None:
    doc = {"meta": {"page": 1, "total": 2}, key: [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]}
    result = apprentice.read(write(tmp_path / "w.json", json.dumps(doc)))
    assert cells(result.table) == [["1", "x"], ["2", "y"]]
    assert any(repr(key) in note and "'meta'" in note for note in result.notes)


def test_json_nested_wrapper(tmp_path: Path) -> None:
    doc = {"response": {"status": "ok", "items": [{"a": 1}, {"a": 2}, {"a": 3}]}}
    result = apprentice.read(write(tmp_path / "w.json", json.dumps(doc)))
    assert cells(result.table) == [["1"], ["2"], ["3"]]
    assert any("'response.items'" in note for note in result.notes)


def test_json_object_of_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", '{"a": [1, 2.50], "b": ["x", null]}')
    result = apprentice.read(path)
    assert list(result.table.columns) == ["a", "b"]
    assert cells(result.table) == [["1", "x"], ["2.50", None]]


def test_json_split_form_and_array_of_arrays(tmp_path: Path) -> None:
    split = write(tmp_path / "s.json", '{"columns": ["a", "b"], "data": [[1, "x"], [2, "y", 3]]}')
    result = apprentice.read(split)
    assert cells(result.table) == [["1", "x"]]
    assert result.quarantine["line"].tolist() == [2]
    arrays = write(tmp_path / "r.json", '[["a", "b"], [1, true], [2, false]]')
    result = apprentice.read(arrays)
    assert list(result.table.columns) == ["a", "b"]
    assert cells(result.table) == [["1", "true"], ["2", "false"]]


def test_json_single_object_is_one_record(tmp_path: Path) -> None:
    result = apprentice.read(write(tmp_path / "o.json", '{"a": 1, "b": {"c": "x"}}'))
    assert list(result.table.columns) == ["a", "b.c"]
    assert cells(result.table) == [["1", "x"]]


def test_json_duplicate_keys_are_kept(tmp_path: Path) -> None:
    result = apprentice.read(write(tmp_path / "d.json", '[{"a": 1, "a": 2}]'))
    assert list(result.table.columns) == ["a", "a_2"]
    assert cells(result.table) == [["1", "2"]]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
def test_json_encodings(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "e.json", '[{"name": "Zoë", "city": "Kraków"}]', encoding)
    result = apprentice.read(path)
    assert cells(result.table) == [["Zoë", "Kraków"]]


def test_json_encoding_hint_and_cp1252_fallback(tmp_path: Path) -> None:
    path = write(tmp_path / "w.json", '[{"name": "café"}]', "cp1252")
    assert cells(apprentice.read(path).table) == [["café"]]
    assert cells(apprentice.read(path, encoding="latin-1").table) == [["café"]]


def test_json_lines_saved_as_json(tmp_path: Path) -> None:
    result = apprentice.read(write(tmp_path / "l.json", '{"a": 1}\n{"a": 2}\n'))
    assert cells(result.table) == [["1"], ["2"]]
    assert result.format == "jsonl"


record_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
)


def _expected(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers and booleans: exactly the text written


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(
        st.dictionaries(record_keys, json_scalars, min_size=1, max_size=5), min_size=1, max_size=8
    ),
    as_lines=st.booleans(),
)
def test_json_round_trip(tmp_path: Path, records: list[dict[str, Any]], as_lines: bool) -> None:
    if as_lines:
        path = tmp_path / "rt.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    else:
        path = tmp_path / "rt.json"
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    result = apprentice.read(path)
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k not in columns]
    assert list(result.table.columns) == columns
    expected = [[_expected(r[c]) if c in r else None for c in columns] for r in records]
    assert cells(result.table) == expected
    assert result.rows_read == len(records)
    assert_text_table(result.table)


# ---------------------------------------------------------------------------------------------
# JSON Lines


def test_jsonl_broken_lines_are_quarantined(tmp_path: Path) -> None:
    text = (
        '{"id": 1, "name": "Ann"}\n'
        "\n"
        '{"id": 2, "name": "Bob", "addr": {"city": "Oslo"}}\n'
        '{"id": 3, "name": \n'
        "[1, 2]\n"
        "7\n"
        '{"id": 4}\r\n'
        "   \n"
    )
    result = apprentice.read(write(tmp_path / "l.jsonl", text))
    assert result.format == "jsonl"
    assert list(result.table.columns) == ["id", "name", "addr.city"]
    assert cells(result.table) == [
        ["1", "Ann", None],
        ["2", "Bob", "Oslo"],
        ["4", None, None],
    ]
    assert result.line_numbers.tolist() == [1, 3, 7]
    q = result.quarantine
    assert q["line"].tolist() == [4, 5, 6]
    assert q["raw"].tolist() == ['{"id": 3, "name": ', "[1, 2]", "7"]
    assert "invalid JSON at column" in q["reason"].iloc[0]
    assert "not an object" in q["reason"].iloc[1]
    assert any("2 blank line(s)" in note for note in result.notes)
    # nothing lost: every non-blank line is a kept row or a quarantined one
    assert result.rows_read == 6


def test_jsonl_of_arrays(tmp_path: Path) -> None:
    result = apprentice.read(write(tmp_path / "a.ndjson", '["a", "b"]\n[1, 2]\n[3, 4]\n'))
    assert list(result.table.columns) == ["a", "b"]
    assert cells(result.table) == [["1", "2"], ["3", "4"]]
    assert result.line_numbers.tolist() == [2, 3]


def test_jsonl_that_is_one_document(tmp_path: Path) -> None:
    text = '[\n  {"a": 1},\n  {"a": 2}\n]\n'
    result = apprentice.read(write(tmp_path / "p.jsonl", text))
    assert cells(result.table) == [["1"], ["2"]]
    assert result.rows_quarantined == 0


def test_jsonl_utf16(tmp_path: Path) -> None:
    result = apprentice.read(write(tmp_path / "u.jsonl", '{"a": "é"}\n{"a": "ü"}\n', "utf-16"))
    assert cells(result.table) == [["é"], ["ü"]]


# ---------------------------------------------------------------------------------------------
# Excel


def _workbook(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    empty = wb.active
    assert empty is not None
    empty.title = "Cover"
    data = wb.create_sheet("Data")
    data.append(["Sales report 2024"])
    data.append([])
    data.append(["id", "name", "day", "when", "amount", "ok", "ratio"])
    data.append([1, "Ann", dt.date(2024, 1, 5), dt.datetime(2024, 1, 5, 13, 45), 10.0, True, 0.25])
    data.append([2, None, dt.date(2024, 2, 29), None, 3.5, False, 1e-7])
    data.append([])
    data.append([3, "Cy", None, None, -7, None, None, "stray"])
    other = wb.create_sheet("2023")
    other.append([1, 2])
    other.append([3, 4])
    wb.save(path)
    return path


def test_excel_first_non_empty_sheet(tmp_path: Path) -> None:
    result = apprentice.read(_workbook(tmp_path / "book.xlsx"))
    assert result.format == "excel"
    assert_text_table(result.table)
    assert list(result.table.columns) == [
        "id",
        "name",
        "day",
        "when",
        "amount",
        "ok",
        "ratio",
        "column_8",
    ]
    assert cells(result.table) == [
        ["1", "Ann", "2024-01-05", "2024-01-05 13:45:00", "10", "true", "0.25", None],
        ["2", None, "2024-02-29", None, "3.5", "false", "1e-07", None],
        ["3", "Cy", None, None, "-7", None, None, "stray"],
    ]
    assert result.line_numbers.tolist() == [4, 5, 7]  # rows as numbered in the sheet
    assert result.quarantine["line"].tolist() == [1]  # the title row, kept aside
    assert result.quarantine["raw"].tolist() == ["Sales report 2024"]
    assert any("'Data'" in n and "'2023'" in n for n in result.notes)


def test_excel_sheet_by_name_and_index_without_header(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    by_name = apprentice.read(path, sheet="2023")
    by_index = apprentice.read(path, sheet=2)
    for result in (by_name, by_index):
        assert list(result.table.columns) == ["column_1", "column_2"]
        assert cells(result.table) == [["1", "2"], ["3", "4"]]
    forced = apprentice.read(path, sheet="2023", header=1)
    assert list(forced.table.columns) == ["1", "2"]
    assert cells(forced.table) == [["3", "4"]]


def test_excel_unknown_sheet_lists_names(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx")
    with pytest.raises(SourceNotFoundError) as info:
        apprentice.read(path, sheet="Summary")
    message = str(info.value)
    assert "'Summary'" in message and "'Cover'" in message and "'Data'" in message
    assert "--sheet" in message
    with pytest.raises(SourceNotFoundError, match="no sheet number 9"):
        apprentice.read(path, sheet=9)


def test_excel_all_sheets_empty(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    result = apprentice.read(path)
    assert result.table.shape == (0, 0)
    assert "empty" in result.notes[0]


# ---------------------------------------------------------------------------------------------
# Parquet


def test_parquet_every_type_to_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "i": pa.array([1, None, 3], pa.int64()),
            "f": pa.array([1.0, 0.1, None]),
            "s": pa.array(["a", None, "c"]),
            "b": pa.array([True, False, None]),
            "ts": pa.array(
                [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 12, 30, 1), None],
                pa.timestamp("us"),
            ),
            "d": pa.array([dt.date(2024, 1, 1), None, dt.date(2024, 12, 31)]),
            "dec": pa.array([Decimal("1.50"), None, Decimal("-2.00")], pa.decimal128(5, 2)),
            "l": pa.array([[1, 2], None, []]),
            "cat": pa.array(["u", "v", "u"]).dictionary_encode(),
        }
    )
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=2)
    result = apprentice.read(path)
    assert result.format == "parquet"
    assert_text_table(result.table)
    assert cells(result.table) == [
        ["1", "1", "a", "true", "2024-01-01 00:00:00", "2024-01-01", "1.50", "[1, 2]", "u"],
        [None, "0.1", None, "false", "2024-01-01 12:30:01", None, None, None, "v"],
        ["3", None, "c", None, None, "2024-12-31", "-2.00", "[]", "u"],
    ]
    types = next(n for n in result.notes if n.startswith("original Arrow types"))
    assert "i: int64" in types and "ts: timestamp[us]" in types and "dec: decimal128(5, 2)" in types
    assert result.line_numbers.tolist() == [1, 2, 3]


# ---------------------------------------------------------------------------------------------
# compressed


CSV_TEXT = "id,name\n1,Ann\n2,Bob\n"


def _compress(path: Path, kind: str, payload: bytes, member: str) -> Path:
    if kind == "gz":
        path.write_bytes(gzip.compress(payload))
    elif kind == "bz2":
        path.write_bytes(bz2.compress(payload))
    elif kind == "xz":
        path.write_bytes(lzma.compress(payload))
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(member, payload)
            zf.writestr("__MACOSX/._" + member, b"\x00\x05\x16\x07")  # clutter, ignored
    return path


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
def test_compressed_csv(tmp_path: Path, kind: str) -> None:
    path = _compress(tmp_path / f"people.csv.{kind}", kind, CSV_TEXT.encode(), "people.csv")
    result = apprentice.read(path)
    assert result.format == "csv"
    assert list(result.table.columns) == ["id", "name"]
    assert cells(result.table) == [["1", "Ann"], ["2", "Bob"]]


@pytest.mark.parametrize("kind", ["gz", "zip"])
def test_compressed_json(tmp_path: Path, kind: str) -> None:
    payload = b'[{"a": 1.50}, {"a": null}]'
    path = _compress(tmp_path / f"d.json.{kind}", kind, payload, "d.json")
    result = apprentice.read(path)
    assert result.format == "json"
    assert cells(result.table) == [["1.50"], [None]]
    assert any("compressed" in note for note in result.notes)


def test_compressed_without_extension_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "download"
    path.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    result = apprentice.read(path)
    assert result.format == "jsonl"
    assert cells(result.table) == [["1"], ["2"]]


def test_compressed_excel_and_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    book = _workbook(tmp_path / "book.xlsx")
    gz = tmp_path / "book.xlsx.gz"
    gz.write_bytes(gzip.compress(book.read_bytes()))
    assert apprentice.read(gz).rows_kept == 3
    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "t.parquet")
    zipped = _compress(
        tmp_path / "t.zip", "zip", (tmp_path / "t.parquet").read_bytes(), "t.parquet"
    )
    assert cells(apprentice.read(zipped).table) == [["1"], ["2"]]


# ---------------------------------------------------------------------------------------------
# stdin


def _cli(args: list[str], stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "apprentice", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        timeout=60,
    )


def test_stdin_csv(tmp_path: Path) -> None:
    done = _cli(["read", "-", "--json"], CSV_TEXT.encode(), tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    summary = json.loads(done.stdout)
    assert summary["source"] == "stdin"
    assert summary["columns"] == ["id", "name"]
    assert summary["rows_kept"] == 2


def test_stdin_json_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = _cli(["read", "-", "-o", str(out), "--quiet"], b'[{"a": 1, "b": {"c": "x"}}]', tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_text(encoding="utf-8").splitlines() == ["a,b.c", "1,x"]


def test_stdin_gzip(tmp_path: Path) -> None:
    done = _cli(["read", "-", "--json"], gzip.compress(b'{"a": 1}\n{"a": 2}\n'), tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["rows_kept"] == 2
