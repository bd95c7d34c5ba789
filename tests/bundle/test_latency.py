"""One raw row through ``bundle.predict``: the fast path (median well under 5 ms)."""

from __future__ import annotations

import time

import numpy as np

from apprentice.bundle import TrainResult, load_bundle
from tests.learn._data import text_table


def test_single_raw_row_latency(adult: TrainResult) -> None:
    bundle = load_bundle(adult.path)
    rows = text_table("adult.csv", rows=300, seed=7).drop(columns=["income"])
    records = rows.to_dict("records")
    for record in records[:50]:  # warm up
        bundle.predict(record)
    timings = []
    for record in records:
        start = time.perf_counter()
        bundle.predict(record)
        timings.append(time.perf_counter() - start)
    median_ms = float(np.median(timings)) * 1000
    assert median_ms < 5.0, median_ms
    # a one-row DataFrame takes the same path
    start = time.perf_counter()
    one = bundle.predict_proba(rows.head(1))
    assert time.perf_counter() - start < 0.05
    np.testing.assert_allclose(one, bundle.predict_proba(records[0]))


def test_row_cleaner_matches_the_cleaner(adult: TrainResult) -> None:
    bundle = load_bundle(adult.path)
    raw = text_table("adult_test.csv", rows=200, seed=3).drop(columns=["income"])
    batch = bundle.predict_proba(raw)
    rows = np.vstack([bundle.predict_proba(r) for r in raw.to_dict("records")])
    np.testing.assert_allclose(rows, batch, atol=1e-12)


def test_digit_shortcut_matches_apply_column(adult: TrainResult) -> None:
    import pandas as pd

    from apprentice.bundle.cleaning import cell_cleaners
    from apprentice.clean.recipe import apply_column

    cells = cell_cleaners(load_bundle(adult.path).cleaner)
    samples = [
        "0",
        "7",
        "007",
        "-3",
        "123456789012345",
        " 42 ",
        "1e3",
        "4.5",
        "-0",
        "12,000",
        "+3",
        ".5",
        "5.",
        "1E-2",
        "-2.50",
        "3.14159",
        "1_000",
        "nan",
        "?",
        "0x10",
        "٣",
    ]
    for rec in load_bundle(adult.path).cleaner.recipe_.columns:
        if rec.kind == "category":
            for text in [*rec.categories, " Private", "private", "PRIVATE ", "?", "", "zz"]:
                expected = apply_column(rec, pd.Series([text], dtype="str")).values.iloc[0]
                got = cells[rec.name](text)
                assert (pd.isna(expected) and pd.isna(got)) or expected == got, (rec.name, text)
            continue
        if rec.kind not in ("integer", "float"):
            continue
        for text in samples:
            expected = apply_column(rec, pd.Series([text], dtype="str")).values.iloc[0]
            got = cells[rec.name](text)
            assert (pd.isna(expected) and pd.isna(got)) or expected == got, (rec.name, text)
