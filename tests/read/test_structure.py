"""Structure detection on files made for one pattern each, and the account of every line.

Each file is built for the pattern (no benchmark file): a headerless ragged file, repeated
headers and rows that only look like them, a header short by an unnamed index column, a
title line, a one-field caption, a multi-row header with spanning names, an empty trailing
column.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

import apprentice
from apprentice.cli import app


def _write(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _ragged_rows() -> list[str]:
    rng = random.Random(3)
    rows = []
    for i in range(60):
        n = 2 + (i * 7) % 11  # 2 to 12 fields, no width holding half the lines
        rows.append(",".join(str(rng.randint(0, 99)) for _ in range(n)))
    return rows


def test_every_line_of_a_headerless_ragged_file_is_accounted_for(tmp_path: Path) -> None:
    rows = _ragged_rows()
    path = _write(tmp_path, "ragged.csv", rows)
    result = apprentice.read(path)
    assert result.lines is not None
    assert result.lines.total == 60
    assert result.rows_read == 60  # every line is a row: none lost to a "preamble"
    assert result.rows_kept == 60
    assert result.table.shape[1] == 12
    # each row keeps its own values, padded on the right
    for line, raw in zip(result.line_numbers, rows, strict=True):
        cells = raw.split(",")
        got = result.table.iloc[line - 1].tolist()
        assert got[: len(cells)] == cells
        assert all(c == "" for c in got[len(cells) :])
    assert any("ragged table of 12 columns" in n for n in result.notes)


def test_line_account_sums_to_the_file_and_names_each_role(tmp_path: Path) -> None:
    rows = ["# exported 2024-01-01", "Station report", "", "id,temp,site"]
    rows += [f"{i},{10 + i % 7}.5,{'ab'[i % 2]}" for i in range(30)]
    rows += ["id,temp,site", "bad,row", "", "Source: the weather office"]
    path = _write(tmp_path, "account.csv", rows)
    result = apprentice.read(path)
    assert result.lines is not None
    counts = result.lines.counts
    assert result.lines.total == len(rows)
    assert counts["kept"] == result.rows_kept
    assert counts["header"] == 1
    assert counts.get("comment", 0) + counts.get("preamble", 0) == 2
    # spans cover every line once, in order
    covered = [ln for first, last, _ in result.lines.spans for ln in range(first, last + 1)]
    assert covered == list(range(1, len(rows) + 1))
    assert result.summary()["lines"]["total"] == len(rows)


def test_a_long_preamble_of_row_shaped_lines_is_a_finding(tmp_path: Path) -> None:
    # six short rows of another width before the table: data or not, the user must be told
    rows = [f"{i},{i * 3}" for i in range(6)]
    rows += ["a,b,c,d"] + [f"{i},{i + 1},{i + 2},x{i}" for i in range(20)]
    path = _write(tmp_path, "pre.csv", rows)
    result = apprentice.read(path)
    assert result.lines is not None
    assert result.lines.counts["preamble"] == 6
    finding = [n for n in result.notes if n.startswith("finding:")]
    assert finding and "6 line(s) before the table" in finding[0]
    assert "shaped like rows" in finding[0]
    out = CliRunner().invoke(app, ["read", str(path)])
    assert out.exit_code == 0
    assert "finding: 6 line(s)" in out.output
    assert "lines 27 = header 1 + preamble 6 + kept 20" in out.output


def test_tables_before_the_one_read_are_other_tables_and_named(tmp_path: Path) -> None:
    rows = ["a,b,c", *[f"{i},{i * 2},{i % 3}" for i in range(8)], ""]
    rows += ["p,q,r,s", *[f"u{i},{i},{i + 1},{i + 2}" for i in range(8)], ""]
    rows += ["k,l,m,n,o", *[f"w{i},{i},{i},{i},{i}" for i in range(9)]]
    path = _write(tmp_path, "three.csv", rows)
    result = apprentice.read(path)
    assert result.rows_kept == 9
    assert [(t.first_line, t.last_line, t.n_columns) for t in result.other_tables] == [
        (1, 9, 3),
        (11, 19, 4),
    ]
    assert result.lines is not None
    assert result.lines.counts == {"other table": 18, "blank": 2, "header": 1, "kept": 9}
    assert any(n.startswith("finding: only 9 of 28 non-blank lines") for n in result.notes)
    out = CliRunner().invoke(app, ["read", str(path)])
    assert "lines 30 = header 1 + blank 2 + kept 9 + other table 18" in out.output
    assert "another table on lines 1-9: 3 columns (a, b, c); not read" in out.output


@pytest.mark.parametrize(
    "rows",
    [
        [",".join("01"[(i * j + i) % 2] for j in range(5)) for i in range(200)],
        [("1:00:00,NaN" if i % 3 else "2:00:00,3.1") for i in range(60)],
        ["Yes,No,Yes,Female"] + [
            ("Yes,No,Yes,Female", "No,No,Maybe,Male", "Yes,Yes,No,Female")[i % 3] for i in range(30)
        ],
    ],
    ids=["0-1 matrix", "time-NaN", "duplicate survey rows"],
)  # fmt: skip
def test_rows_that_repeat_the_first_row_are_not_repeated_headers(
    tmp_path: Path, rows: list[str]
) -> None:
    path = _write(tmp_path, "rows.csv", rows)
    result = apprentice.read(path)
    assert result.other_tables == []
    assert result.rows_kept + result.dialect.header_rows == len(rows)
    assert not any("repeats the header" in n for n in result.notes)


def test_a_real_repeated_header_starts_another_table_with_evidence(tmp_path: Path) -> None:
    def body(k: int) -> list[str]:
        return [f"{i},{i * 0.5},{'xy'[i % 2]}" for i in range(k)]

    path = _write(tmp_path, "rep.csv", ["id,val,cat", *body(12), "id,val,cat", *body(5)])
    result = apprentice.read(path)
    assert result.rows_kept == 12
    assert [(t.first_line, t.last_line) for t in result.other_tables] == [(14, 19)]
    assert any("line 14 repeats the header row" in n for n in result.notes)
    assert result.lines is not None and result.lines.counts["other table"] == 6
    out = CliRunner().invoke(app, ["read", str(path)])
    assert "another table on lines 14-19: 3 columns (id, val, cat)" in out.output


def test_a_header_one_name_short_has_an_unnamed_index_column(tmp_path: Path) -> None:
    rows = ["a,b,c"] + [f"row{i},{i * 0.25},{i % 9},x{i}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "index.csv", rows))
    assert result.table.columns.tolist()[1:] == ["a", "b", "c"]
    assert result.original_columns == ["", "a", "b", "c"]
    assert result.table.iloc[0].tolist() == ["row0", "0.0", "0", "x0"]
    assert any("unnamed index column" in n for n in result.notes)


def test_a_header_longer_by_trailing_empties_keeps_its_names(tmp_path: Path) -> None:
    rows = ["name,age,score,,"] + [f"n{i},{20 + i},{i / 10}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "trail.csv", rows))
    assert result.table.columns.tolist() == ["name", "age", "score"]
    assert result.rows_kept == 20


def test_a_title_line_with_the_tables_width_is_not_the_header(tmp_path: Path) -> None:
    rows = ["Survey of sales,2020,,", "region,year,sales,units"]
    rows += [f"r{i % 4},{2000 + i},{i * 1.5},{i}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "title.csv", rows))
    assert result.table.columns.tolist() == ["region", "year", "sales", "units"]
    assert result.rows_kept == 20
    assert result.lines is not None and result.lines.counts["preamble"] == 1
    assert any("a title, not a header row" in n for n in result.notes)


def test_a_one_field_caption_is_preamble_not_a_header_to_repair(tmp_path: Path) -> None:
    rows = ["Table 3: Population by county", "county,pop,area"]
    rows += [f"c{i},{100 + 37 * i},{i * 2.5}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "caption.csv", rows))
    assert result.table.columns.tolist() == ["county", "pop", "area"]
    assert result.rows_kept == 20
    assert result.table.iloc[0].tolist() == ["c0", "100", "0.0"]


def test_a_multi_row_header_fills_spanning_names(tmp_path: Path) -> None:
    rows = ["site,Sun2014-bp,,Lee2010,", ",X,Y,X,Y"]
    rows += [f"s{i},{i * 0.1:.2f},{i * 0.2:.2f},{i * 0.3:.2f},{i * 0.4:.2f}" for i in range(20)]
    result = apprentice.read(_write(tmp_path, "spans.csv", rows))
    assert result.table.columns.tolist() == [
        "site",
        "Sun2014-bp X",
        "Sun2014-bp Y",
        "Lee2010 X",
        "Lee2010 Y",
    ]
    assert result.rows_kept == 20


def test_an_empty_named_trailing_column_is_kept(tmp_path: Path) -> None:
    rows = ["a,b,notes"] + [f"{i},{i % 10}," for i in range(20)]
    result = apprentice.read(_write(tmp_path, "empty.csv", rows))
    assert result.table.columns.tolist() == ["a", "b", "notes"]
    assert (result.table["notes"] == "").all()
