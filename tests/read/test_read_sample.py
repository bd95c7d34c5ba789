"""``read(sample_rows=...)``: a random part of the rows, the same on every path, and said so.

Every kept row is the row of the file it claims to be (``line_numbers``), the account states
how many rows the source holds, and without ``sample_rows`` nothing changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import apprentice
from apprentice.config import get_settings
from apprentice.read.result import draw_rows

FAST = get_settings(fast_read_bytes=1)
CAREFUL = get_settings(fast_read_bytes=1 << 62)


def _frame(rows: int) -> pd.DataFrame:
    ids = np.arange(rows)
    return pd.DataFrame({"id": ids, "x": ids * 0.5, "label": np.where(ids % 3 == 0, "a", "b")})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sample")
    frame = _frame(5000)
    csv = folder / "rows.csv"
    frame.to_csv(csv, index=False)
    parquet = folder / "rows.parquet"
    # several row groups: the sampled read decodes only the groups holding a drawn row
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet, row_group_size=700)
    return {"csv": csv, "parquet": parquet}


@pytest.mark.parametrize(
    ("kind", "options"),
    [("csv", FAST), ("csv", CAREFUL), ("parquet", CAREFUL)],
    ids=["csv-fast", "csv-careful", "parquet"],
)
def test_sample_keeps_true_rows_and_says_so(
    files: dict[str, Path], kind: str, options: object
) -> None:
    whole = apprentice.read(files[kind], settings=options)  # type: ignore[arg-type]
    part = apprentice.read(files[kind], settings=options, sample_rows=300, seed=4)  # type: ignore[arg-type]
    assert whole.rows_sampled_from is None and len(whole.table) == 5000
    assert part.rows_sampled_from == 5000 and len(part.table) == 300
    assert part.summary()["rows_sampled_from"] == 5000
    assert any("300 of the 5,000 rows" in note for note in part.notes)
    # each kept row is the file's row at its line number, in file order, no row twice
    ids = part.table["id"].astype(int).to_numpy()
    assert np.all(np.diff(ids) > 0)
    first_line = 2 if kind == "csv" else 1  # the CSV header is line 1
    assert np.array_equal(part.line_numbers, ids + first_line)
    by_id = whole.table.set_index(whole.table["id"].astype(int))
    expected = by_id.loc[ids].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.table.astype(object), expected.astype(object))
    # the same draw whichever path read the file
    assert np.array_equal(ids, draw_rows(5000, 300, 4))


def test_sample_of_the_column_count(files: dict[str, Path]) -> None:
    seen: list[int] = []

    def rows_for(columns: int) -> int:
        seen.append(columns)
        return 100 * columns

    part = apprentice.read(files["parquet"], sample_rows=rows_for, seed=0)
    assert seen == [3] and len(part.table) == 300 and part.rows_sampled_from == 5000


def test_sample_larger_than_the_table_keeps_every_row(files: dict[str, Path]) -> None:
    part = apprentice.read(files["csv"], sample_rows=10_000)
    assert part.rows_sampled_from is None and len(part.table) == 5000
    assert not any("sample_rows" in note for note in part.notes)


def test_sample_of_no_row_is_refused(files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="at least one row"):
        apprentice.read(files["csv"], sample_rows=0)


@settings(max_examples=60, deadline=None)
@given(total=st.integers(0, 3000), wanted=st.integers(1, 3000), seed=st.integers(0, 2**32 - 1))
def test_draw_rows_is_a_sorted_subset(total: int, wanted: int, seed: int) -> None:
    drawn = draw_rows(total, wanted, seed)
    if total <= wanted:
        assert drawn is None
        return
    assert drawn is not None and len(drawn) == wanted
    assert np.all(np.diff(drawn) > 0) and drawn[0] >= 0 and drawn[-1] < total
