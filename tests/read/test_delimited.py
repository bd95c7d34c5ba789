"""The careful delimited path: dialect, structure, repairs and quarantine, with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

import apprentice
from apprentice.read.dialect import detect_format, detect_lineterminator

BODY = [
    ("2024-01-05", "1,250.00", "Alice", "north"),
    ("2024-01-06", "980.50", "Bob", "south"),
    ("2024-01-07", "1,020.25", "Chloé", "east"),
    ("2024-01-08", "700.00", "Dan", "west"),
    ("2024-01-09", "1,500.75", "Eve", "north"),
    ("2024-01-10", "640.10", "Fay", "south"),
]


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def table_text(delim: str = ",", quote: str = '"', term: str = "\n") -> str:
    def cell(v: str) -> str:
        return f"{quote}{v}{quote}" if (delim in v or "," in v) else v

    lines = [delim.join(["date", "amount", "name", "region"])]
    lines += [delim.join(cell(v) for v in row) for row in BODY]
    return term.join(lines) + term


@pytest.mark.parametrize("delim", [",", ";", "\t", "|", ", "])
def test_delimiters(tmp_path: Path, delim: str) -> None:
    result = apprentice.read(write(tmp_path, table_text(delim)))
    assert result.dialect is not None and result.dialect.delimiter == delim
    assert list(result.table.columns) == ["date", "amount", "name", "region"]
    assert result.table.values.tolist() == [list(r) for r in BODY]


def test_space_delimited_with_quotes(tmp_path: Path) -> None:
    text = 'id value label\n1 2.5 "big one"\n2 3.5 small\n3 4.0 "tiny one"\n4 1.0 mid\n'
    result = apprentice.read(write(tmp_path, text))
    assert result.dialect is not None and result.dialect.delimiter == " "
    assert result.table["label"].tolist() == ["big one", "small", "tiny one", "mid"]


@pytest.mark.parametrize("term", ["\n", "\r\n", "\r"])
def test_line_terminators(tmp_path: Path, term: str) -> None:
    result = apprentice.read(write(tmp_path, table_text(term=term)))
    assert result.dialect is not None and result.dialect.lineterminator == term
    assert result.rows_kept == len(BODY)
    assert result.line_numbers.tolist() == list(range(2, 2 + len(BODY)))


def test_detect_lineterminator_prefers_majority() -> None:
    assert detect_lineterminator("a\r\nb\r\nc\n") == "\r\n"


def test_single_quote_and_backslash_escape() -> None:
    text = "id,quote\n" + "".join(f"{i},'it\\'s {i}, really'\n" for i in range(8))
    guess = detect_format(text)
    assert guess.format.quotechar == "'"
    assert guess.format.escapechar == "\\"


def test_header_absent(tmp_path: Path) -> None:
    text = "\n".join(",".join(r) for r in BODY if "," not in r[1]) + "\n"
    result = apprentice.read(write(tmp_path, text))
    assert result.dialect is not None and result.dialect.header_rows == 0
    assert list(result.table.columns) == ["column_1", "column_2", "column_3", "column_4"]
    assert result.original_columns == []
    assert "no header row" in " ".join(result.notes)


def test_units_row_under_a_full_header_is_column_metadata(tmp_path: Path) -> None:
    # a complete row of names over a row of units: the units describe the columns; they are
    # neither part of the names nor a data row (issue 16: units and label rows of real files)
    text = "date,amount,name,region\nday,usd,person,area\n" + "\n".join(
        ",".join(f'"{v}"' if "," in v else v for v in r) for r in BODY
    )
    result = apprentice.read(write(tmp_path, text))
    assert list(result.table.columns) == ["date", "amount", "name", "region"]
    assert result.rows_kept == len(BODY)
    assert result.lines is not None and result.lines.counts["column metadata"] == 1
    assert any("the columns (units, labels or ids)" in n for n in result.notes)


def test_preamble_and_footnotes(tmp_path: Path) -> None:
    text = "Quarterly export\nGenerated 2024-02-01\n\n" + table_text() + "\nSource: ledger\n"
    result = apprentice.read(write(tmp_path, text))
    assert result.dialect is not None
    assert result.dialect.preamble_rows == 3
    assert result.dialect.footer_rows >= 1
    assert result.rows_kept == len(BODY) and result.rows_quarantined == 0
    assert result.line_numbers[0] == 5
    assert any("footnote" in n for n in result.notes)


def test_comment_lines_and_trailing_delimiter(tmp_path: Path) -> None:
    text = "a,b,c,\n1,2,3,\n# note in the middle\n4,5,6,\n7,8,9,\n10,11,12,\n"
    result = apprentice.read(write(tmp_path, text))
    assert list(result.table.columns) == ["a", "b", "c"]
    assert result.table.values.tolist() == [
        ["1", "2", "3"],
        ["4", "5", "6"],
        ["7", "8", "9"],
        ["10", "11", "12"],
    ]
    assert result.dialect is not None and result.dialect.trailing_empty_column
    assert result.dialect.comment == "#"
    assert result.line_numbers.tolist() == [2, 4, 5, 6]


def test_several_tables_reads_the_largest(tmp_path: Path) -> None:
    small = "k,v\nx,1\ny,2\nz,3\n"
    text = table_text() + "\n" + small
    result = apprentice.read(write(tmp_path, text))
    assert list(result.table.columns) == ["date", "amount", "name", "region"]
    assert result.rows_kept == len(BODY)
    assert len(result.other_tables) == 1
    assert result.other_tables[0].n_columns == 2


def _rows(n: int = 30) -> list[str]:
    return [f"2024-02-{i % 28 + 1:02d},{100 + i}.50,item{i},AB-{1000 + i}" for i in range(n)]


def test_extra_delimiter_repaired(tmp_path: Path) -> None:
    rows = _rows()
    rows[10] = rows[10].replace(",item10", ",,item10")
    result = apprentice.read(write(tmp_path, "date,amount,name,code\n" + "\n".join(rows)))
    assert result.rows_quarantined == 0 and result.rows_repaired == 1
    assert result.table.iloc[10].tolist() == ["2024-02-11", "110.50", "item10", "AB-1010"]
    assert result.line_numbers[10] == 12


def test_missing_delimiter_repaired(tmp_path: Path) -> None:
    rows = _rows()
    rows[5] = rows[5].replace("105.50,item5", "105.50item5")
    result = apprentice.read(write(tmp_path, "date,amount,name,code\n" + "\n".join(rows)))
    assert result.rows_repaired == 1 and result.rows_quarantined == 0
    assert result.table.iloc[5].tolist() == ["2024-02-06", "105.50", "item5", "AB-1005"]


def test_row_written_with_another_delimiter(tmp_path: Path) -> None:
    rows = _rows()
    rows[7] = rows[7].replace(",", ";")
    result = apprentice.read(write(tmp_path, "date,amount,name,code\n" + "\n".join(rows)))
    assert result.rows_repaired == 1
    assert result.table.iloc[7].tolist() == ["2024-02-08", "107.50", "item7", "AB-1007"]


def test_runaway_quote_costs_one_line_not_the_file(tmp_path: Path) -> None:
    rows = _rows()
    rows[3] = rows[3].replace(",item3", ',"item3')
    result = apprentice.read(write(tmp_path, "date,amount,name,code\n" + "\n".join(rows) + "\n"))
    assert result.rows_read == len(rows)
    assert result.rows_kept == len(rows)
    assert result.table.iloc[3]["name"] == '"item3'
    assert result.table.iloc[4].tolist() == ["2024-02-05", "104.50", "item4", "AB-1004"]


def test_ambiguous_row_is_quarantined_with_line_and_reason(tmp_path: Path) -> None:
    rows = [f"{i},{i * 2},{i * 3}" for i in range(30)]
    rows[12] = "12,24"  # one value missing: which one cannot be known
    result = apprentice.read(write(tmp_path, "a,b,c\n" + "\n".join(rows) + "\n"))
    assert result.rows_read == 30 == result.rows_kept + result.rows_quarantined
    assert result.rows_quarantined == 1
    q = result.quarantine.iloc[0]
    assert q["line"] == 14 and q["raw"] == "12,24"
    assert "2 fields" in q["reason"] and "3" in q["reason"]
    assert "12" not in result.table["a"].tolist()


def test_rows_read_always_adds_up(tmp_path: Path) -> None:
    rows = _rows(50)
    rows[3] = "garbage"
    rows[20] = "x,y,z,w,v,u,t,s"
    rows[33] = rows[33] + ",extra,stuff"
    result = apprentice.read(write(tmp_path, "date,amount,name,code\n" + "\n".join(rows)))
    assert result.rows_read == 50
    assert result.rows_kept + result.rows_quarantined == 50
    lines = sorted(result.line_numbers.tolist() + result.quarantine["line"].tolist())
    assert lines == list(range(2, 52))


def test_hints_override_detection(tmp_path: Path) -> None:
    text = "x;y\n1;2\n3;4\n"
    result = apprentice.read(write(tmp_path, text), delimiter=",", header=0)
    assert result.table.shape == (3, 1)
    assert result.table.iloc[:, 0].tolist() == ["x;y", "1;2", "3;4"]


def test_skip_rows_hint(tmp_path: Path) -> None:
    text = "junk line one\njunk,two\n" + table_text()
    result = apprentice.read(write(tmp_path, text), skip_rows=2)
    assert list(result.table.columns) == ["date", "amount", "name", "region"]
    assert result.dialect is not None and result.dialect.preamble_rows == 2


def test_duplicate_and_empty_header_names(tmp_path: Path) -> None:
    text = "a,a,,b\n1,2,3,4\n5,6,7,8\n"
    result = apprentice.read(write(tmp_path, text))
    assert list(result.table.columns) == ["a", "a_2", "column_3", "b"]
    assert result.original_columns == ["a", "a", "", "b"]
