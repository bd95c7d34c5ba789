"""The PII scan of a wide table: one batched short-number check for all columns gives exactly
the findings of scanning each column on its own."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.guard import detect_pii
from apprentice.guard.pii import _short_numbers_columns, _short_numbers_only


def _wide(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    ints = rng.integers(0, 10**6, rows)
    columns: dict[str, pd.Series] = {
        "n0": pd.Series([str(int(v)) for v in ints], dtype="str"),
        "x1": pd.Series([f"{v:.2f}" for v in rng.normal(0, 1e3, rows)], dtype="str"),
        "card_like": pd.Series([str(4000_0000_0000_0000 + int(v)) for v in ints], dtype="str"),
        "phone": pd.Series([f"+1 415 555 {int(v) % 10_000:04d}" for v in ints], dtype="str"),
        "mobile": pd.Series([f"0041{int(v):07d}" for v in ints], dtype="str"),
        "email": pd.Series([f"user{int(v)}@mail.example" for v in ints], dtype="str"),
        "ssn": pd.Series([f"{int(v) % 899 + 100}-45-{int(v) % 9000 + 1000}" for v in ints]),
        "with_gaps": pd.Series([None if v % 5 == 0 else str(int(v)) for v in ints], dtype="str"),
        "blank": pd.Series([""] * rows, dtype="str"),
        "floats": pd.Series(rng.normal(0, 1, rows)),
        "big_ints": pd.Series(ints * 10**7),
        "dob": pd.Series([f"19{50 + int(v) % 40}-0{1 + int(v) % 9}-1{int(v) % 9}" for v in ints]),
        "name": pd.Series([["Ann Lee", "Bo Chen", "Cy Diaz"][int(v) % 3] for v in ints]),
    }
    frame = pd.DataFrame(columns)
    return pd.concat([frame.add_suffix(f"_{k}") for k in range(8)], axis=1)


def test_wide_scan_same_as_column_by_column() -> None:
    frame = _wide()
    whole = detect_pii(frame)
    one_by_one = []
    for column in frame.columns:
        one_by_one.extend(detect_pii(frame[[column]]).findings)
    assert [f.to_dict() for f in whole.findings] == [f.to_dict() for f in one_by_one]
    kinds = {f.kind for f in whole.findings}
    assert {"email", "phone", "ssn", "date_of_birth"} <= kinds


CELL = st.one_of(
    st.integers(-(10**14), 10**14).map(str),
    st.floats(allow_nan=False, width=32).map(repr),
    st.sampled_from(["", " ", " 12 ", "+4412345678", "0012345678", "1e5", "abc", "12-34"]),
    st.none(),
)


@settings(max_examples=100, deadline=None)
@given(
    columns=st.lists(st.lists(CELL, min_size=1, max_size=12), min_size=1, max_size=6),
    names=st.lists(st.sampled_from(["v", "phone_no", "amount", "id"]), min_size=6, max_size=6),
)
def test_batched_check_same_as_single(columns: list[list[str | None]], names: list[str]) -> None:
    series = [pd.Series(c, dtype="str") for c in columns]
    names = names[: len(series)]
    batched = _short_numbers_columns(names, series)
    assert batched == [_short_numbers_only(n, s) for n, s in zip(names, series, strict=True)]
    # and the batch is not a constant answer
    assert _short_numbers_columns(["v", "v"], [pd.Series(["12", "3.5"]), pd.Series(["x"])]) == [
        True,
        False,
    ]


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.one_of(
            st.text(alphabet=st.sampled_from(list("0123456789.+-eE ,x٣")), min_size=1, max_size=14),
            st.integers(0, 10**13).map(str),
            st.floats(-1e7, 1e7).map(lambda v: f"{v:.3f}"),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_short_number_cells_same_as_regex(cells: list[str]) -> None:
    """Counting bytes decides exactly as the short-number regex for every cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from apprentice.guard.pii import _SHORT_NUMBER, _short_number_cells

    arr = pa.array([c.strip() or "0" for c in cells], type=pa.large_string())
    expected = pc.match_substring_regex(arr, _SHORT_NUMBER).to_pylist()
    assert _short_number_cells(arr).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet="0123456789.+-eE \t", max_size=12),
            st.integers(-(10**14), 10**14).map(str),
            st.text(max_size=6),
            st.sampled_from(["", " ", "12", " 12", "1.2.3", ".", "..5", "٣", "1234567", "7."]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_plain_short_cells_agree_with_the_pattern(cells: list[str | None]) -> None:
    """A cell the byte count calls a short number as it stands is one the trimmed check (and
    the regex) calls short; null cells never are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from apprentice.guard.pii import _SHORT_NUMBER, _plain_short_cells, _short_number_cells

    arr = pa.array(cells, type=pa.large_string())
    quick = _plain_short_cells(arr).tolist()
    for cell, fast in zip(cells, quick, strict=True):
        if cell is None:
            assert not fast
            continue
        trimmed = pa.array([cell.strip()], type=pa.large_string())
        regex = bool(pc.match_substring_regex(trimmed, _SHORT_NUMBER)[0].as_py())
        if fast:
            assert cell.strip() == cell and regex
            assert bool(_short_number_cells(trimmed)[0])
    # and the whole check is the regex over the trimmed, non-empty cells
    trimmed_cells = [c.strip() for c in cells if c is not None and c.strip()]
    expected = bool(trimmed_cells) and all(
        pc.match_substring_regex(
            pa.array(trimmed_cells, type=pa.large_string()), _SHORT_NUMBER
        ).to_pylist()
    )
    assert _short_numbers_columns(["v"], [pd.Series(cells, dtype="str")]) == [expected]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(["", " ", "n/a", "N/A ", "none", "None", "?", "-", "NA", "null"]),
            st.sampled_from(["north", " north", "north ", "South", "\u00a0east", "west\t"]),
            st.text(max_size=5),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_text_column_values_same_as_general_path(cells: list[str | None]) -> None:
    """The pyarrow count of a text column's values gives what the pandas path gives (the
    same values, counts, order; markers and empty cells left out)."""
    from apprentice.guard.pii import _column_values

    fast = _column_values(pd.Series(cells, dtype="str"))
    general = _column_values(pd.Series(cells, dtype=object))
    if len(general) == 0:
        assert len(fast) == 0
        return
    pd.testing.assert_series_equal(fast, general)
