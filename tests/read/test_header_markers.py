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
    assert result.dialect.header_rows == 2  # the names and the units
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
