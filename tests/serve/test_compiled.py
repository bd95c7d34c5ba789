"""The compiled single-record path gives exactly what the bundle gives."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.bundle import load_bundle
from apprentice.clean.recipe import cell_cleaner, clean_cell
from apprentice.serve.compiled import CompiledModel
from apprentice.serve.schema import InputContract
from tests.serve.conftest import Planted

CELLS: list[object] = [
    "", " ", "3", "3.25", " 3.5 ", "+3", "3.", ".5", "-0", "1e3", "1E-2", "1e400", "nan", "NaN",
    "?", "NA", "none", "1,000", "$3", "12%", "inf", "-inf", "0x10", "1_000", "\u0663", "abc",
    3, 3.25, -0.0, 1e300, 10**30, 2**63, True, False, None, float("nan"), "male", " Male ",
    "MALE.", "fe  male", "S", "s", " C.", "unknown", "Unknown", "n/a", "caf\u00e9", "\u00a0S",
    "S\t", "s..", "x" * 60,
]  # fmt: skip


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):  # type: ignore[arg-type]
        return True
    return bool(a == b)


def test_cell_cleaners_match_the_recipe(planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    rng = random.Random(1)
    used = set(CompiledModel(bundle).columns)
    for rec in bundle.cleaner.recipe_.columns:
        if rec.name not in used:
            continue
        fast = cell_cleaner(rec)
        cats = list(rec.categories or [])[:40]
        cells = [*CELLS, *cats, *(c.upper() for c in cats), *(f" {c}. " for c in cats)]
        for _ in range(40):
            cells.append("".join(rng.choice("0123456789.-+eE ,") for _ in range(rng.randint(1, 6))))
            cells.append(rng.uniform(-1e6, 1e6))
        for cell in cells:
            text = None if cell is None or (isinstance(cell, float) and cell != cell) else str(cell)
            assert _same(fast(cell), clean_cell(rec, text)), (rec.name, rec.kind, cell)


def test_records_match_bundle_predictions(planted: Planted) -> None:
    bundle = load_bundle(planted.bundle)
    compiled = CompiledModel(bundle)
    assert compiled.fast_members == len(compiled.members)  # LightGBM and linear compiled
    records = planted.records(300)
    rng = random.Random(2)
    for record in records[::3]:  # messier copies
        record = dict(record)
        record["Age"] = rng.choice(["", "NA", " 30 ", 30, 30.5, None, "thirty"])
        record["Sex"] = rng.choice(["MALE", " female.", "x", None, ""])
        record["Fare"] = rng.choice([7, 7.25, "7.25", "$7", "", None])
        records.append(record)
    got = np.vstack([compiled.predict_record(r)[0] for r in records])
    np.testing.assert_allclose(got, bundle.predict_proba(pd.DataFrame(records)), atol=1e-12)
    for record in records[:20]:
        np.testing.assert_allclose(compiled.predict_record(record)[0], bundle.predict_proba(record))
    out, typed = compiled.predict_frame(pd.DataFrame(records))
    np.testing.assert_allclose(out, got, atol=1e-12)
    assert list(typed.columns) == compiled.columns


def test_typed_values_are_the_features_only(planted: Planted) -> None:
    compiled = CompiledModel(load_bundle(planted.bundle))
    typed = compiled.clean_record(planted.records(1)[0])
    assert set(typed) == set(compiled.columns)
    assert "email" not in typed and "Name" not in typed


@pytest.mark.timeout(120)
def test_a_two_megabyte_run_of_dots_in_every_field(planted: Planted) -> None:
    """Work per cell is linear in its length: 2 MB of dots (which a backtracking pattern
    for final dots took minutes over) is cleaned and predicted as the batch path does."""
    bundle = load_bundle(planted.bundle)
    compiled = CompiledModel(bundle)
    record = dict(planted.records(1)[0])
    for i, name in enumerate(compiled.columns):
        record[name] = "." * 2_000_000 + ("x" if i % 2 else " .")
    got, typed = compiled.predict_record(record)
    np.testing.assert_allclose(got, bundle.predict_proba(pd.DataFrame([record])), atol=1e-12)
    np.testing.assert_allclose(got, bundle.predict_proba([record, record])[:1], atol=1e-12)
    assert set(typed) == set(compiled.columns)


def _same_typed(a: dict[str, object], b: dict[str, object]) -> bool:
    return list(a) == list(b) and all(_same(a[k], b[k]) and type(a[k]) is type(b[k]) for k in a)


@pytest.fixture(scope="module")
def served(planted: Planted) -> tuple[CompiledModel, InputContract]:
    bundle = load_bundle(planted.bundle)
    compiled = CompiledModel(bundle)
    known = {*bundle.manifest["input_columns"], "Survived"}
    contract = InputContract(bundle, compiled.columns, known, ignore_unknown=False)
    return compiled, contract


_CELL = st.one_of(
    st.sampled_from(CELLS),
    st.text(max_size=12),
    st.text(alphabet="0123456789.,-+eE $%", max_size=10),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(min_size=60, max_size=80),  # past the remembered length
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_one_pass_clean_and_check_is_the_two_pass_one(
    served: tuple[CompiledModel, InputContract], planted: Planted, data: st.DataObject
) -> None:
    """``InputContract.clean_and_check`` (remembered per cell) gives the typed values of
    ``CompiledModel.clean_record`` and the warnings of ``InputContract.warnings``, however
    often a cell comes back; the Python-float ensemble gives the array path's numbers."""
    compiled, contract = served
    base = data.draw(st.sampled_from(planted.records(50)))
    record = {
        k: data.draw(_CELL) if data.draw(st.booleans()) else v
        for k, v in base.items()
        if data.draw(st.integers(0, 9)) != 0  # some fields absent
    }
    for _ in range(2):  # the second time from memory
        typed, found, usable = contract.clean_and_check(record, compiled.cells)
        plain = compiled.clean_record(record)
        assert _same_typed(typed, plain), record
        assert (list(found), usable) == contract.warnings(record, plain), record
    fast = compiled.predict_typed(typed)
    compiled.all_fast = False
    try:
        with np.errstate(all="ignore"):
            slow = compiled.predict_typed(typed)
    finally:
        compiled.all_fast = True
    assert fast.shape == slow.shape and np.array_equal(fast, slow, equal_nan=True)
