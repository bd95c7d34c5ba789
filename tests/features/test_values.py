"""How a feature reads a value: the value form and the column form agree, and match pandas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.features.values import (
    DATE_PARTS,
    as_datetime,
    as_keys,
    as_numeric,
    category_key,
    date_parts,
    number,
    timestamp,
    timestamp_parts,
)


def test_calendar_parts_match_pandas_for_a_value_and_a_column() -> None:
    rng = np.random.default_rng(0)
    low, high = pd.Timestamp("1678-01-02").value, pd.Timestamp("2261-12-30").value
    ns = rng.integers(low, high, 20_000)
    stamps = pd.Series(ns.view("datetime64[ns]"))
    parts = list(DATE_PARTS)
    got = date_parts(stamps, parts, 12_345)
    dt = stamps.dt
    want = np.column_stack(
        [dt.year, dt.month, dt.day, dt.day_of_week, dt.hour, (ns.astype(float) - 12_345) / 86400e9]
    )
    assert np.array_equal(got, want)
    for i in range(0, len(ns), 97):
        assert timestamp_parts(pd.Timestamp(ns[i]), parts, 12_345) == got[i].tolist()
    assert all(math.isnan(x) for x in timestamp_parts(None, parts, 0))


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.text(max_size=12),
    st.text(alphabet="0123456789.-+eE _yesnoTRUF", max_size=8),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=200, deadline=None)
@given(st.lists(_values, min_size=1, max_size=6))
def test_a_column_reads_as_its_values_one_by_one(values: list[object]) -> None:
    column = pd.Series(values, dtype=object)
    numbers = as_numeric(column)
    assert all(_same(x, number(v)) for x, v in zip(numbers.tolist(), values, strict=True))
    stamps = as_datetime(column)
    for got, v in zip(stamps.tolist(), values, strict=True):
        one = timestamp(v)
        assert (pd.isna(got) and one is None) or got == one, v
    keys = as_keys(column)
    assert keys.tolist() == [category_key(v) for v in values]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" 12 ", 12.0), ("yes", 1.0), ("F", 0.0), ("1_000", math.nan), ("\u0663", math.nan),
     (10**400, math.nan), (True, 1.0), ("1e3", 1000.0), ("", math.nan), (None, math.nan)],
)  # fmt: skip
def test_number(value: object, expected: float) -> None:
    assert _same(number(value), expected)
