"""The clean stage on real tables of ../shared/data, read with apprentice.read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apprentice.clean import clean_table, clean_target
from tests.clean.conftest import read_shared


def _clean(*parts: str, **kw: object):  # type: ignore[no-untyped-def]
    return clean_table(read_shared(*parts), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def adult():  # type: ignore[no-untyped-def]
    return _clean("tables", "adult.csv")


def test_adult_leading_spaces_and_question_marks(adult) -> None:  # type: ignore[no-untyped-def]
    t, led = adult.table, adult.ledger
    assert "Private" in t["workclass"].cat.categories
    assert not any(c.startswith(" ") for c in t["workclass"].cat.categories)
    work = led.column("workclass")
    assert work.markers == [{"token": "?", "count": 1836}]
    assert t["workclass"].isna().sum() == 1836
    assert led.column("age").kind == "integer" and t["age"].dtype == np.float64
    assert sorted(t["income"].cat.categories) == ["<=50K", ">50K"]
    assert led.table.duplicate_rows["count"] == 24


def test_adult_test_labels_merge_with_the_training_target(adult) -> None:  # type: ignore[no-untyped-def]
    test = read_shared("tables", "adult_test.csv")
    train_target = clean_target(adult.table["income"].astype("str"))
    got = clean_target(test.table["income"], recipe=train_target.recipe)  # type: ignore[attr-defined]
    assert set(got.values.dropna().unique()) == {"<=50K", ">50K"}
    assert got.report.coercions["merged"] == len(test.table)  # type: ignore[attr-defined]
    # on its own, the test file's target merges ' <=50K.' into one class spelled as written
    alone = clean_target(test.table["income"])  # type: ignore[attr-defined]
    assert alone.values.nunique() == 2


def test_automobile_question_marks_and_number_words() -> None:
    res = _clean("tables", "automobile.csv")
    t, led = res.table, res.ledger
    assert led.column("normalized_losses").kind == "integer"
    assert t["normalized_losses"].isna().sum() == 37
    assert set(t["num_doors"].dropna().unique()) == {2.0, 4.0}
    assert t["num_doors"].isna().sum() == 2
    assert set(t["num_cylinders"].unique()) >= {4.0, 6.0, 12.0}
    assert led.column("bore").kind == "float" and t["bore"].isna().sum() == 4


def test_bank_marketing_unknown_and_pdays_sentinel() -> None:
    res = _clean("tables", "bank_marketing.csv")
    led = res.ledger
    assert led.column("job").markers == [{"token": "unknown", "count": 288}]
    poutcome = led.column("poutcome")
    assert poutcome.kept_markers and "unknown" in res.table["poutcome"].cat.categories
    pdays = led.column("pdays")
    assert pdays.sentinels and pdays.sentinels[0]["value"] == -1.0
    assert pdays.sentinels[0]["action"] == "flag" and (res.table["pdays"] == -1).sum() > 30000
    assert led.column("deposit").kind == "boolean"


def test_air_quality_minus_200_sentinels() -> None:
    res = _clean("tables", "air_quality_uci.csv")
    led = res.ledger
    assert led.column("Date").kind == "date" and led.column("Time").kind == "time"
    flagged = [c.name for c in led.columns if any(s["value"] == -200.0 for s in c.sentinels)]
    assert len(flagged) >= 12 and "CO(GT)" in flagged
    confirmed = clean_table(
        read_shared("tables", "air_quality_uci.csv"),  # type: ignore[arg-type]
        sentinels={"CO(GT)": [-200]},
    )
    assert confirmed.table["CO(GT)"].isna().sum() == 1683
    assert not (confirmed.table["CO(GT)"] == -200).any()


def test_house_prices_na_is_a_category_where_it_means_none() -> None:
    res = _clean("tables", "house_prices_kaggle.csv")
    t, led = res.table, res.ledger
    for col in ("Alley", "PoolQC", "Fence", "MiscFeature", "FireplaceQu"):
        assert "NA" in t[col].cat.categories, col
        assert t[col].isna().sum() == 0, col
    assert t["LotFrontage"].isna().sum() == 259  # numeric: NA is missing
    mas = led.column("MasVnrType")
    assert "None" in t["MasVnrType"].cat.categories and t["MasVnrType"].isna().sum() == 8
    assert mas.markers == [{"token": "NA", "count": 8}]
    assert led.column("CentralAir").kind == "boolean"
    assert led.column("YearBuilt").semantic == "year"
    assert led.column("PavedDrive").kind == "category"


def test_penguins_na() -> None:
    res = _clean("tables", "penguins.csv")
    assert res.table["bill_length_mm"].isna().sum() == 2
    assert res.table["sex"].isna().sum() == 11
    assert res.ledger.column("year").semantic == "year"


def test_metro_traffic_none_holiday_is_a_category() -> None:
    res = _clean("tables", "metro_traffic.csv")
    assert res.table["holiday"].isna().sum() == 0
    assert (res.table["holiday"] == "None").mean() > 0.99
    assert res.ledger.column("Rush Hour").kind == "boolean"


def test_dirty_beers() -> None:
    res = _clean("dirty", "beers", "dirty.csv")
    t, led = res.table, res.ledger
    assert led.column("ounces").format["number"]["unit"] == "oz"
    assert t["ounces"].isna().sum() == 0 and set(t["ounces"].unique()) >= {12.0, 16.0}
    assert t["abv"].max() < 1.0  # '0.09%' is 0.09, like its neighbours, not 0.0009
    assert led.column("ibu").markers == [{"token": "N/A", "count": 1005}]


def test_dirty_hospital_typos_become_missing_with_their_text_kept() -> None:
    res = _clean("dirty", "hospital", "dirty.csv")
    led = res.ledger
    zip_col = led.column("zip")
    assert zip_col.kind == "integer" and zip_col.coercions["unparseable"] > 0
    coerced = res.coerced("zip")
    assert all("x" in v for v in coerced)
    assert led.column("score").format["number"]["percent"] == "fraction"
    assert "address_2" in led.table.empty_columns or led.column("address_2").kind in (
        "empty",
        "category",
    )


def test_ptype_day_first_dates_and_survey_booleans() -> None:
    res = _clean("dirty", "ptype", "data", "accident2016.csv")
    date = res.ledger.column("Accident Date")
    assert date.kind == "date" and date.format["date"]["dayfirst"] is True
    survey = _clean("dirty", "ptype", "data", "survey.csv")
    assert survey.ledger.column("self_employed").kind == "boolean"
    benefits = survey.ledger.column("benefits")
    assert benefits.kind == "boolean"
    assert any(m["token"] == "Don't know" for m in benefits.markers)
    assert isinstance(survey.table["Timestamp"].dtype, np.dtype) or str(
        survey.table["Timestamp"].dtype
    ).startswith("datetime64")
    assert pd.api.types.is_datetime64_any_dtype(survey.table["Timestamp"])
