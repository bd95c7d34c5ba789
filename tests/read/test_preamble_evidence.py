"""Preambles of agency and instrument exports, on files made for one pattern each (issue 16).

Two patterns found on the design material (``design2`` of the real-file corpus):

* a metadata line ("Missing: -999", a title) right above a header that names the columns over
  numbers was "repaired" into a header (a delimiter inserted into the title) and the real
  header became a data row; the full row of names is the header, the line above is preamble;
* a block of ``#`` comment lines (words, ``#`` marks, tabs) before a tab-separated table made
  ``#`` the delimiter and every line preamble; comment lines take no part in choosing the
  delimiter.

Every test checks that no data row is lost and that every line is accounted for.
"""

from __future__ import annotations

from pathlib import Path

import apprentice
from apprentice.read.dialect import detect_format

YEARS = range(1850, 1890)


def _write(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _spans(result: apprentice.ReadResult, n_lines: int) -> list[tuple[int, int, str]]:
    assert result.lines is not None
    assert result.lines.total == n_lines
    covered = [ln for first, last, _ in result.lines.spans for ln in range(first, last + 1)]
    assert covered == list(range(1, n_lines + 1))
    return [(a, b, role) for a, b, role in result.lines.spans]


def _series(n: int = len(YEARS)) -> list[str]:
    return [f"{y},{(y % 7 - 3) / 10:.2f}" for y in list(YEARS)[:n]]


def test_key_value_lines_above_a_header_are_preamble_not_a_broken_header(
    tmp_path: Path,
) -> None:
    rows = [
        "Global Land and Ocean August Temperature Anomalies",
        "Units: Degrees Celsius",
        "Base Period: 1901-2000",
        "Missing: -999",
        "Year,Anomaly",
        *_series(),
    ]
    result = apprentice.read(_write(tmp_path, "anomalies.csv", rows))
    assert result.original_columns == ["Year", "Anomaly"]
    assert not result.header_generated
    assert result.rows_kept == len(YEARS) and result.rows_quarantined == 0
    assert str(result.table.iloc[0, 0]) == "1850"
    assert _spans(result, len(rows)) == [
        (1, 4, "preamble"),
        (5, 5, "header"),
        (6, len(rows), "kept"),
    ]
    assert any("line 4 above it is not a header" in n for n in result.notes)


def test_a_title_line_above_a_header_is_not_split_into_names(tmp_path: Path) -> None:
    rows = ["North Atlantic Oscillation (NAO)", "Date,Value"]
    rows += [f"1950{m:02d},{(m - 6) / 4:.2f}" for m in range(1, 13)]
    result = apprentice.read(_write(tmp_path, "nao.csv", rows))
    assert result.original_columns == ["Date", "Value"]
    assert result.rows_kept == 12
    assert _spans(result, len(rows))[:2] == [(1, 1, "preamble"), (2, 2, "header")]


def test_a_header_that_lost_a_delimiter_over_data_is_still_repaired(tmp_path: Path) -> None:
    # the line above the first full row is a header only when that row is data, not names
    rows = ["site,name,scoregroup"] + [f"s{i % 3},n{i % 4},{i * 3},g{i % 2}" for i in range(1, 21)]
    result = apprentice.read(_write(tmp_path, "broken.csv", rows))
    assert len(result.original_columns) == 4
    assert "name" in result.original_columns
    assert result.rows_kept == 20
    assert any(n.startswith("header on line 1 repaired") for n in result.notes)


def test_a_comment_block_does_not_choose_the_delimiter(tmp_path: Path) -> None:
    comments = [
        "# Swain Henselman - Saganaga Lake - ITRDB MN005",
        "#----------------------------------------------------",
        "# Template Version 4.0",
        "# Description/Documentation lines begin with #",
        "## age_CE\tage,,,year Common Era,,tree ring,,,N,",
        "## trsgi\ttree ring standardized growth index,,,,,tree ring,,,N,",
        "# Missing_Values: NA",
    ] * 15  # more comment lines than rows, as in the chronologies of the paleo archive
    data = [f"{1620 + i}\t{1 + (i % 5 - 2) / 10:.3f}\t{1 + i // 10}" for i in range(60)]
    rows = [*comments, "age_CE\ttrsgi\tnumsamp", *data]
    path = _write(tmp_path, "chronology.txt", rows)
    assert detect_format(path.read_text(encoding="utf-8")).format.delimiter == "\t"
    result = apprentice.read(path)
    assert result.original_columns == ["age_CE", "trsgi", "numsamp"]
    assert result.rows_kept == 60 and result.rows_quarantined == 0
    spans = _spans(result, len(rows))
    assert spans[0] == (1, len(comments), "comment")
    assert spans[-1] == (len(comments) + 2, len(rows), "kept")


def test_a_file_of_comment_lines_only_still_has_a_dialect() -> None:
    # nothing but comments: they are all there is to read, and detection still answers
    text = "# a\tb\n# c\td\n# e\tf\n"
    assert detect_format(text).format.delimiter in {"\t", " ", "#"}
