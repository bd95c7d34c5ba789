"""Wide tables: the fast paths give exactly what column-by-column cleaning gives.

A table of thousands of plain numeric columns is cleaned through shortcuts (one cast per column
instead of counting its distinct values, byte counts instead of regexes); these tests check
that the cleaned frame, the types, the notes, the ledger and the recipe are the same as on the
full path, on a 300-column table of mixed real and PII-looking columns and on generated columns.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.clean import clean_table, infer
from apprentice.clean._arrow import ByteView, byte_lengths, count_bytes_in, first_bytes
from apprentice.clean.infer import Options, infer_column
from tests.clean.conftest import read_shared

ROWS = 400
TABLES = [
    "titanic.csv",
    "adult.csv",
    "house_prices_kaggle.csv",
    "automobile.csv",
    "nyc_taxis.csv",
    "penguins_raw.csv",
    "telco_churn.csv",
    "bank_marketing.csv",
]


def _synthetic(rows: int) -> dict[str, pd.Series]:
    """PII-looking and edge-case columns (numbers as text, as ``apprentice.read`` gives)."""
    rng = np.random.default_rng(16)
    first = np.array(["Anna", "Bert", "Chloe", "Dmitri", "Eve", "Farid", "Grace", "Hiro"])
    last = np.array(["Smith", "Okafor", "Nguyen", "Larsen", "Rossi", "Kowalski", "Haddad"])
    ints = rng.integers(0, 100_000, rows)
    floats = np.round(rng.normal(50, 20, rows), 3)
    out: dict[str, list[str | None]] = {
        "email": [
            f"{f.lower()}.{s.lower()}{i}@example.org"
            for i, (f, s) in enumerate(
                zip(rng.choice(first, rows), rng.choice(last, rows), strict=True)
            )
        ],
        "phone": [f"+44 20 7946 {int(n):04d}" for n in rng.integers(0, 10_000, rows)],
        "full_name": [
            f"{f} {s}" for f, s in zip(rng.choice(first, rows), rng.choice(last, rows), strict=True)
        ],
        "zip_code": [f"{int(n):05d}" for n in rng.integers(0, 99_999, rows)],
        "plain_int": [str(int(v)) for v in ints],
        "plain_float": [repr(float(v)) for v in floats],
        "with_nulls": [None if i % 7 == 0 else str(int(v)) for i, v in enumerate(ints)],
        "with_marker": ["?" if i % 11 == 0 else str(int(v)) for i, v in enumerate(ints)],
        "with_empty": ["" if i % 13 == 0 else str(int(v)) for i, v in enumerate(ints)],
        "with_nan": ["nan" if i % 17 == 0 else repr(float(v)) for i, v in enumerate(floats)],
        "padded": [f" {int(v)} " for v in ints],
        "exponent": [f"{float(v):.3e}" for v in floats],
        "signed": [f"+{int(v)}" for v in ints],
        "zero_one": [str(int(v) % 2) for v in ints],
        "four_values": [str(int(v) % 4 * 10) for v in ints],
        "long_ids": [str(10**16 + int(v)) for v in ints],
        "lead_zero_one": ["007" if i == 3 else str(int(v) + 1000) for i, v in enumerate(ints)],
        "year": [str(1990 + int(v) % 30) for v in ints],
        "event_date": [str(20200101 + int(v) % 28) for v in ints],
        "sentinel": ["-999" if i % 9 == 0 else str(int(v)) for i, v in enumerate(ints)],
        "all_null": [None] * rows,
        "dirty_number": ["1x5" if i == 5 else str(int(v)) for i, v in enumerate(ints)],
        "thousands": [f"{int(v) * 1000:,}" for v in ints],
    }
    return {k: pd.Series(v, dtype="str") for k, v in out.items()}


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    """300 columns: every column of eight real tables (first ROWS rows), then generated ones."""
    columns: dict[str, pd.Series] = {}
    for name in TABLES:
        table = read_shared("tables", name).table.head(ROWS).reset_index(drop=True)
        for position in range(table.shape[1]):
            if len(columns) >= 240:
                break
            columns[f"{name.split('.')[0]}__{table.columns[position]}"] = table.iloc[:, position]
    synthetic = _synthetic(ROWS)
    k = 0
    while len(columns) < 300:
        key = list(synthetic)[k % len(synthetic)]
        columns[f"{key}_{k}" if k >= len(synthetic) else key] = synthetic[key]
        k += 1
    return pd.DataFrame(columns)


def _full_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(infer, "_plain_number_column", lambda *a, **k: None)
    monkeypatch.setattr(infer, "plain_number_columns", lambda arrays, *a, **k: [None] * len(arrays))


def test_wide_table_same_as_full_path(wide: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    batched: list[str] = []
    quick = infer._plain_number_column
    batch = infer.plain_number_columns

    def counting(arr: Any, **kw: Any) -> Any:
        out = quick(arr, **kw)
        if out is not None:
            calls.append(kw["name"])
        return out

    def counting_batch(arrays: Any, names: Any, *a: Any) -> Any:
        out = batch(arrays, names, *a)
        batched.extend(n for n, o in zip(names, out, strict=True) if isinstance(o, infer.Inference))
        return out

    monkeypatch.setattr(infer, "_plain_number_column", counting)
    monkeypatch.setattr(infer, "plain_number_columns", counting_batch)
    fast = clean_table(wide)
    # both shortcuts are taken, so the comparison means something
    assert len(batched) >= 30 and len(calls) >= 5
    calls += batched
    _full_path(monkeypatch)
    slow = clean_table(wide)
    pd.testing.assert_frame_equal(fast.table, slow.table)
    assert fast.ledger.to_dict() == slow.ledger.to_dict()
    assert fast.recipe.to_dict() == slow.recipe.to_dict()
    for name in calls:
        assert fast.ledger.column(name).evidence["reason"] == "every value is a plain number"


def test_wide_table_same_as_column_by_column(wide: pd.DataFrame) -> None:
    whole = clean_table(wide)
    kinds = set()
    for j, original in enumerate(wide.columns):
        one = clean_table(wide[[original]])
        rep = whole.ledger.columns[j]
        kinds.add(rep.kind)
        assert rep.to_dict() == one.ledger.columns[0].to_dict(), original
        assert whole.recipe.columns[j].to_dict() == one.recipe.columns[0].to_dict(), original
        pd.testing.assert_series_equal(
            whole.table.iloc[:, j], one.table.iloc[:, 0], check_names=True
        )
    assert {"integer", "float", "category", "identifier", "date", "datetime"} <= kinds


# -- generated columns: the shortcut against the full inference ------------------------------

CELL = st.one_of(
    st.integers(-(10**17), 10**17).map(str),
    st.integers(0, 10**6).map(lambda v: f"{v:07d}"),
    st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
    st.floats(-1e6, 1e6).map(lambda v: f"{v:.2e}"),
    st.integers(0, 3).map(str),
    st.sampled_from(["", " 1", "nan", "-nan", "inf", "NA", "?", "+5", ".5", "1.", "0", "00"]),
    st.none(),
)


def _inference_dict(inf: infer.Inference) -> dict[str, Any]:
    return {
        "recipe": inf.recipe.to_dict(),
        "shares": inf.shares,
        "share_fit": inf.share_fit,
        "not_fitting": inf.not_fitting,
        "decisions": inf.decisions,
        "reason": inf.reason,
        "marker_tokens": inf.marker_tokens,
        "kept_markers": inf.kept_markers,
        "merges": inf.merges,
        "sampled": inf.sampled,
        "n_values": inf.n_values,
        "extra": inf.extra,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cells=st.lists(CELL, min_size=1, max_size=40),
    name=st.sampled_from(["x", "amount", "year", "order_date", "n"]),
)
def test_shortcut_same_as_full_inference(cells: list[str | None], name: str) -> None:
    arr = pa.array(cells, type=pa.large_string())
    column = pd.Series(cells, dtype="str")
    options = Options()
    quick = infer._plain_number_column(arr, name=name, source=name, options=options)
    if quick is None:
        return
    quick.plain = None
    original = infer._plain_number_column
    try:
        infer._plain_number_column = lambda *a, **k: None  # type: ignore[assignment]
        full = infer_column(column, name=name, source=name, hint=None, options=options, arr=arr)
    finally:
        infer._plain_number_column = original  # type: ignore[assignment]
    assert _inference_dict(quick) == _inference_dict(full)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    columns=st.lists(
        st.one_of(
            st.lists(CELL, min_size=6, max_size=6),
            st.lists(st.integers(-(10**6), 10**6).map(str), min_size=6, max_size=6),
            st.lists(st.floats(-1e4, 1e4).map(lambda v: f"{v:.2f}"), min_size=6, max_size=6),
            st.lists(
                st.sampled_from(["1", "2", "3", "1-2", "e", "+", "007", "5e3"]),
                min_size=6,
                max_size=6,
            ),
        ),
        min_size=1,
        max_size=12,
    ),
    batch_cells=st.sampled_from([6, 18, 1_000_000]),
)
def test_batched_check_same_as_one_column(
    columns: list[list[str | None]], batch_cells: int
) -> None:
    """The batched plain-number check decides as the one-column check does (or leaves the
    column to it), whatever the mix of columns, batch size and failing casts."""
    arrays = [pa.array(c, type=pa.large_string()) for c in columns]
    names = [f"v{j}" for j in range(len(arrays))]
    options = Options()
    saved = infer.BATCH_CELLS
    try:
        infer.BATCH_CELLS = batch_cells
        batched = infer.plain_number_columns(arrays, names, names, options)
    finally:
        infer.BATCH_CELLS = saved
    assert len(batched) == len(arrays)
    for arr, name, got in zip(arrays, names, batched, strict=True):
        one = infer._plain_number_column(arr, name=name, source=name, options=options)
        if got is None:
            continue  # left to the one-column check
        if got is False:
            assert one is None, name
            continue
        assert one is not None, name
        assert got.plain is not None and one.plain is not None
        assert got.plain.equals(one.plain)
        got.plain = one.plain = None
        assert _inference_dict(got) == _inference_dict(one)


def test_batched_check_decides_plain_columns() -> None:
    """Plain columns beside columns whose cast fails ("1-2") are still decided in the batch."""
    cols = [
        ["1", "2", "3", "4", "5", "60"],
        ["1-2", "3", "4", "5", "6", "7"],
        ["0.5", "1", "2", "3", "4", "5"],
    ]
    cols += [
        ["007", "1", "2", "3", "4", "5"],
        ["a", "1", "2", "3", "4", "5"],
        ["1", "1", "0", "0", "1", "1"],
    ]
    arrays = [pa.array(c, type=pa.large_string()) for c in cols]
    names = [f"v{j}" for j in range(len(cols))]
    out = infer.plain_number_columns(arrays, names, names, Options())
    assert isinstance(out[0], infer.Inference) and out[0].recipe.kind == "integer"
    assert out[1] is None  # the cast fails: the one-column check decides
    assert isinstance(out[2], infer.Inference) and out[2].recipe.kind == "float"
    assert out[3] is False  # a leading zero: maybe an identifier
    assert out[4] is None  # a letter: not tried in the batch
    assert out[5] is False  # two values: maybe booleans
    nulls = infer.plain_number_columns([pa.array(["1", None])], ["x"], ["x"], Options())
    assert nulls == [None]
    assert (
        infer.plain_number_columns(
            [*arrays[:2], pa.array(["1"])], ["a", "b", "c"], ["a", "b", "c"], Options()
        )
        == [None] * 3
    )


def test_shortcut_taken_and_refused() -> None:
    def quick(cells: list[str | None], name: str = "x") -> infer.Inference | None:
        arr = pa.array(cells, type=pa.large_string())
        return infer._plain_number_column(arr, name=name, source=name, options=Options())

    taken = quick(["1", "2", None, "30", "4", "5"])
    assert taken is not None and taken.recipe.kind == "integer" and taken.n_values == 5
    decimals = quick(["1.5", "2", "3e2", "4", "5"])
    assert decimals is not None and decimals.recipe.kind == "float"
    for refused in (
        ["1", "2", " 3", "4", "5"],  # whitespace
        ["1", "2", "", "4", "5"],  # empty cell
        ["1", "2", "nan", "4", "5"],  # a marker
        ["1", "0", "1", "0"],  # maybe booleans
        ["01", "2", "3", "4", "5"],  # leading zero
        ["1234567890123456", "2", "3", "4", "5"],  # too long for a float
        [None, None],  # nothing
    ):
        assert quick(refused) is None, refused
    assert quick(["20200101", "20200102", "20200103", "20200104", "20200105"], "day") is None


# -- byte counts against the regexes they replace ---------------------------------------------

TEXT = st.text(
    alphabet=st.sampled_from(list("0123456789.eE+- xé€\t\u00a0日")), min_size=0, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.one_of(TEXT, st.none()), max_size=30),
    large=st.booleans(),
    start=st.integers(0, 5),
)
def test_byte_counts_match_regexes(values: list[str | None], large: bool, start: int) -> None:
    arr = pa.array(values, type=pa.large_string() if large else pa.string())
    arr = arr.slice(min(start, len(arr)))
    expected_digits = [0 if v is None else len(re.sub(r"[^0-9]", "", v)) for v in arr.to_pylist()]
    assert count_bytes_in(arr, "0123456789").tolist() == expected_digits
    dots = pc.match_substring_regex(arr, r"[.eE]").to_pylist()
    assert (count_bytes_in(arr, ".eE") > 0).tolist() == [bool(d) for d in dots]
    lengths = pc.binary_length(arr).to_pylist()
    assert byte_lengths(arr).tolist() == [0 if n is None else n for n in lengths]
    view = ByteView(arr)
    lens = view.lengths()
    digits_only = (lens > 0) & (view.count("0123456789") == lens)
    regex = pc.match_substring_regex(arr, r"^[0-9]+$").to_pylist()
    assert digits_only.tolist() == [bool(r) for r in regex]
    zero = pc.starts_with(arr, pattern="0").to_pylist()
    assert (first_bytes(arr) == ord("0")).tolist() == [bool(z) for z in zero]


def test_byte_counts_refuse_non_ascii() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        count_bytes_in(pa.array(["é"]), "é")


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.one_of(TEXT, st.none()), max_size=30))
def test_two_counts_in_one_pass(values: list[str | None]) -> None:
    view = ByteView(pa.array(values, type=pa.large_string()))
    digits, points = view.count2("0123456789", ".eE")
    assert digits.tolist() == view.count("0123456789").tolist()
    assert points.tolist() == view.count(".eE").tolist()


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.5, 3.0, 7.0, -1.0]), min_size=5, max_size=5),
        min_size=1,
        max_size=6,
    ),
    limit=st.integers(1, 5),
)
def test_distinct_rows_same_as_one_row(rows: list[list[float]], limit: int) -> None:
    values = np.asarray(rows, dtype=np.float64)
    expected = [infer._at_most_distinct(row, limit) for row in values]
    assert infer._at_most_distinct_rows(values, limit).tolist() == expected
