"""Serving reads a cell exactly as training does (issue 13): the cell cleaner against the recipe.

Hypothesis feeds random cells in every format the cleaner understands (currency with
thousands separators, decimal commas, padded numbers, percents, units, booleans, dates,
markers, categories in other spellings, any text, JSON numbers) through the training path
(the recipe on a column), the record path (the cell cleaner) and the batch path (the bundle's
``clean_frame``) and requires identical values.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import random
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apprentice.bundle.cleaning import clean_frame, row_cleaner
from apprentice.clean import Cleaner
from apprentice.clean.markers import MISSING_TOKENS
from apprentice.clean.recipe import ColumnRecipe, Recipe, apply_column, cell_cleaner, clean_cell
from apprentice.features import cells as cells_module
from apprentice.features.cells import cell_text, merge_key, plain_number
from tests.features._golden import cell

N = 80


def _training_frame() -> pd.DataFrame:
    r = random.Random(0)

    def money() -> str:
        cents = f".{r.randint(0, 99):02d}" if r.random() < 0.3 else ""
        return f"${r.randint(100, 20000):,}{cents}"

    def euro() -> str:
        text = f"{r.uniform(1, 20000):,.2f}"
        return text.replace(",", "_").replace(".", ",").replace("_", ".")

    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
    return pd.DataFrame(
        {
            "MonthlyIncome": [money() for _ in range(N)],
            "Plain": [
                r.choice([str(r.randint(0, 90)), f"{r.uniform(0, 90):.2f}", "NA", "-999"])
                for _ in range(N)
            ],
            "Euro": [euro() for _ in range(N)],
            "Pct": [f"{r.uniform(0, 100):.1f}%" for _ in range(N)],
            "Weight": [f"{r.uniform(1, 90):.1f} kg" for _ in range(N)],
            "Flag": [r.choice(["yes", "no", "Yes", "No", "?"]) for _ in range(N)],
            "Day": [f"2021-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}" for _ in range(N)],
            "Sex": [r.choice(["male", "female", "Male", "female.", "unknown"]) for _ in range(N)],
            "Alley": [r.choice(["NA", "NA", "NA", "Grvl", "Pave"]) for _ in range(N)],
            "Note": [
                " ".join(r.choice(words) for _ in range(r.randint(3, 8))) + str(i) for i in range(N)
            ],
            "Code": [f"{r.randint(0, 99999):05d}" for _ in range(N)],
        },
        dtype="str",
    )


def _recipe() -> Recipe:
    fitted = Cleaner().fit(_training_frame()).recipe_
    plain = next(c for c in fitted.columns if c.name == "Plain")
    missing = dataclasses.replace(
        plain,
        name="PlainMissing",
        source="PlainMissing",
        sentinels=[{"value": -999.0, "action": "missing"}],
    )
    return Recipe(columns=[*fitted.columns, missing], settings=dict(fitted.settings))


RECIPE = _recipe()
CLEANER = Cleaner.from_recipe(RECIPE.to_json())
CATEGORIES = sorted({c for rec in RECIPE.columns for c in rec.categories or []})


def test_the_recipe_covers_every_kind() -> None:
    kinds = {rec.kind for rec in RECIPE.columns}
    assert {"float", "boolean", "date", "category", "text", "identifier"} <= kinds
    by_name = {rec.name: rec for rec in RECIPE.columns}
    assert by_name["MonthlyIncome"].number is not None
    assert "$" in by_name["MonthlyIncome"].number.currency
    assert by_name["Euro"].number is not None and by_name["Euro"].number.decimal == ","
    assert by_name["Alley"].kept_markers  # "NA" is a category there


# --------------------------------------------------------------------------- strategies

_amount = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False)
_int = st.integers(min_value=-(10**7), max_value=10**7)
_pad = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0", "\x1c", "\x85", "\u2028", "\u3000"])


def _euro(x: float) -> str:
    return f"{x:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


_formats = st.one_of(
    _int.map(lambda n: f"${n:,}"),
    _amount.map(lambda x: f"${x:,.2f}"),
    _amount.map(lambda x: f"USD {x:,.2f}"),
    _amount.map(_euro),
    st.tuples(_pad, _int, _pad).map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
    _amount.map(repr),
    _amount.map(lambda x: f"{x:e}"),
    _amount.map(lambda x: f"{x:.1f}%"),
    _amount.map(lambda x: f"{x:.1f} %"),
    _amount.map(lambda x: f"{x:.1f} kg"),
    _amount.map(lambda x: f"{x:.1f}KG"),
    _amount.map(lambda x: f"({abs(x):,.2f})"),
    st.sampled_from(["yes", "no", "Y", "n", "TRUE", "false", "on", "off", "1", "0"]),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.sampled_from(sorted(MISSING_TOKENS)),
    st.sampled_from(["", " ", "NA", " na ", "-999", "-999.0", "?", "unknown", "N/A"]),
    st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(["", " ", ".", " .", "..", "  "])).map(
        lambda t: t[0] + t[1]
    ),
    st.sampled_from(CATEGORIES).map(lambda c: c.upper().replace(" ", "  ")),
    st.tuples(_pad, st.sampled_from(CATEGORIES), _pad).map(lambda t: "".join(t)),
    st.tuples(_pad, _amount.map(repr), _pad).map(lambda t: "".join(t)),
    st.text(alphabet=st.characters(codec="ascii"), max_size=12),
    st.text(max_size=12),
    st.text(alphabet="0123456789.,-+eE $%", max_size=10),
)
_json = st.one_of(
    st.none(),
    st.sampled_from([pd.NA, pd.NaT, float("nan")]),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
_cells = st.lists(st.one_of(_formats, _formats, _formats, _json), min_size=1, max_size=8)


def _training(rec: ColumnRecipe, raws: list[Any]) -> list[str]:
    texts = pd.Series([cell_text(v) for v in raws], dtype="str")
    return [cell(v) for v in apply_column(rec, texts).values.tolist()]


@settings(
    max_examples=int(os.environ.get("PARITY_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raws=_cells)
def test_serving_reads_every_cell_as_training_does(raws: list[Any]) -> None:
    cleaners = {rec.name: cell_cleaner(rec) for rec in RECIPE.columns}
    batch = clean_frame(
        CLEANER, pd.DataFrame({rec.source: pd.Series(raws, dtype=object) for rec in RECIPE.columns})
    )
    clean_row = row_cleaner(CLEANER)
    rows = [clean_row({rec.source: raw for rec in RECIPE.columns}) for raw in raws]
    for rec in RECIPE.columns:
        trained = _training(rec, raws)
        one = [cell(cleaners[rec.name](raw)) for raw in raws]
        alone = [cell(clean_cell(rec, cell_text(raw))) for raw in raws]
        assert one == trained, (rec.name, rec.kind, raws)
        assert alone == trained, (rec.name, rec.kind, raws)
        assert [cell(v) for v in batch[rec.name].tolist()] == trained, (rec.name, raws)
        assert [cell(r[rec.name]) for r in rows] == trained, (rec.name, raws)


def test_monthly_income_in_dollars_reads_as_in_training() -> None:
    rec = RECIPE.column("MonthlyIncome")
    raws = ["$5,993", " $12,000.50 ", "5993", 5993, "NA"]
    trained = _training(rec, raws)
    assert trained[:4] == ["f:5993.0", "f:12000.5", "f:5993.0", "f:5993.0"]
    assert [cell(cell_cleaner(rec)(raw)) for raw in raws] == trained
    alone = Cleaner.from_recipe(Recipe(columns=[rec]).to_json())
    batch = clean_frame(alone, pd.DataFrame({"MonthlyIncome": pd.Series(raws, dtype=object)}))
    assert [cell(v) for v in batch["MonthlyIncome"].tolist()] == trained


def test_sentinels_and_markers_on_the_direct_number_route() -> None:
    flagged = cell_cleaner(RECIPE.column("Plain"))
    missing = cell_cleaner(RECIPE.column("PlainMissing"))
    assert flagged("-999") == -999.0 and flagged(-999) == -999.0
    assert math.isnan(missing("-999")) and math.isnan(missing(-999.0))
    assert math.isnan(flagged("NA")) and math.isnan(flagged(None)) and flagged(" 12.5 ") == 12.5


# --------------------------------------------------------------------------- linear work


@pytest.mark.parametrize(
    "text",
    ["1", "-1.5", "+.5", "5.", "1e3", "1E-07", "007", "-0"],
)
def test_plain_numbers_are_recognised(text: str) -> None:
    assert plain_number(text) and float(text) == float(text)


@pytest.mark.parametrize(
    "text",
    ["", ".", "-", "+", "e3", "1e", "1e+", "1.2.3", "--1", "1_000", "0x10", "1,000", " 1", "nan",
     "inf", "\u0663", "1e3.5"],
)  # fmt: skip
def test_other_text_is_not_a_plain_number(text: str) -> None:
    assert not plain_number(text)


@given(st.text(alphabet="0123456789.+-eE", max_size=12))
def test_a_plain_number_is_a_python_float(text: str) -> None:
    if plain_number(text):
        float(text)  # never raises


def test_the_cell_cleaner_uses_no_regular_expression() -> None:
    source = inspect.getsource(cells_module)
    assert "import re" not in source and "re.compile" not in source


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["Sex", "Alley", "Note", "Code", "Plain", "MonthlyIncome"])
def test_a_two_megabyte_run_of_dots_is_cleaned_like_training(name: str) -> None:
    rec = RECIPE.column(name)
    clean = cell_cleaner(rec)
    for raw in ["." * 2_000_000 + "x", "a" + "." * 2_000_000 + "b", "male" + ". " * 1_000_000]:
        assert cell(clean(raw)) == cell(clean_cell(rec, raw)), name
    assert merge_key("a" + "." * 2_000_000) == "a"
    assert merge_key("Fe  Male . .") == "fe male"
