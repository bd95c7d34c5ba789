"""A first data row with missing-value markers in its number columns is data, not a second
header row (a split of a small table can start with such a row)."""

from __future__ import annotations

from pathlib import Path

import apprentice


def test_a_first_row_of_markers_is_not_a_header(tmp_path: Path) -> None:
    rows = ["kind,site,width_cm,weight_g,year", "Oak,North,NA,NA,2019"]
    rows += [f"{'Oak' if i % 2 else 'Ash'},{'North' if i % 3 else 'South'},{10 + i % 7}.5,"
             f"{200 + 13 * i},{2018 + i % 3}" for i in range(40)]  # fmt: skip
    path = tmp_path / "trees.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = apprentice.read(path)
    assert result.table.columns.tolist() == ["kind", "site", "width_cm", "weight_g", "year"]
    assert result.dialect.header_rows == 1
    assert result.rows_kept == 41  # the marker row is kept as data
    assert result.table.iloc[0].tolist() == ["Oak", "North", "NA", "NA", "2019"]


def test_a_units_row_under_full_names_is_column_metadata(tmp_path: Path) -> None:
    rows = ["width,weight,year", "cm,g,", *[f"{10 + i},{200 + i},{2000 + i}" for i in range(30)]]
    path = tmp_path / "units.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = apprentice.read(path)
    # one row of names and one of units, said the same way by the dialect and the line account
    assert result.dialect.header_rows == 1 and result.dialect.metadata_rows == 1
    assert result.dialect.describe().endswith("1 header row(s) + 1 column metadata row(s)")
    assert result.lines is not None and result.lines.counts["header"] == 1
    assert result.table.columns.tolist() == ["width", "weight", "year"]
    assert result.rows_kept == 30  # the units row is not a data row
    assert result.table.iloc[0].tolist() == ["10", "200", "2000"]
    assert result.lines is not None and result.lines.counts["column metadata"] == 1


def test_a_real_second_header_row_is_still_joined(tmp_path: Path) -> None:
    # the upper row names a group spanning two columns: the rows name the columns together
    rows = ["size,,year", "width,weight,", *[f"{10 + i},{200 + i},{2000 + i}" for i in range(30)]]
    path = tmp_path / "spans.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = apprentice.read(path)
    assert result.dialect.header_rows == 2
    assert result.table.columns.tolist() == ["size width", "size weight", "year"]
    assert result.rows_kept == 30


def test_an_orange_style_header_is_described_as_names_plus_metadata(tmp_path: Path) -> None:
    # Orange's tab files: names, then a row of types, then a row of flags; the dialect line
    # must say what the line account says (1 header row + 2 metadata rows), not "3 header rows"
    rows = ["sepal length\tsepal width\tiris", "continuous\tcontinuous\tdiscrete", "\t\tclass"]
    rows += [f"{4 + i % 30 / 10:.1f}\t{2 + i % 20 / 10:.1f}\t{'setosa' if i % 2 else 'virginica'}"
             for i in range(40)]  # fmt: skip
    path = tmp_path / "iris.tab"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = apprentice.read(path)
    assert result.table.columns.tolist() == ["sepal length", "sepal width", "iris"]
    assert result.rows_kept == 40
    assert result.lines is not None
    assert result.lines.counts["header"] == 1 and result.lines.counts["column metadata"] == 2
    assert result.dialect.header_rows == 1 and result.dialect.metadata_rows == 2
    assert "1 header row(s) + 2 column metadata row(s)" in result.dialect.describe()
    assert "3 header row(s)" not in result.dialect.describe()
