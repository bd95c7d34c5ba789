"""The learnable Cleaner: a scikit-learn transformer whose recipe is plain JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from apprentice.clean import Cleaner
from apprentice.errors import ColumnMismatchError, EmptyTableError, SchemaError
from tests.clean.conftest import read_shared, text

TRAIN = text(
    {
        "age": ["39", "50", "?", "28", "41", "33"],
        "pay": ["$1,200.50", "$990", "$2,100", "N/A", "$1,000", "$850.25"],
        "when": ["18/01/2016", "02/03/2016", "25/12/2016", "", "01/01/2017", "13/05/2016"],
        "member": ["yes", "no", "Yes", "no", "yes", "no"],
        "work": [" Private", "Private", "State-gov", " ?", "private", "State-gov"],
        "zip": ["01907", "15122", "02134", "00501", "10001", "94105"],
    }
)


def test_fit_transform_equals_fit_then_transform() -> None:
    a = Cleaner().fit_transform(TRAIN)
    b = Cleaner().fit(TRAIN).transform(TRAIN)
    pd.testing.assert_frame_equal(a, b)
    assert a["pay"].tolist()[:2] == [1200.5, 990.0]
    assert str(a["when"].iloc[2])[:10] == "2016-12-25"


def test_recipe_json_round_trips_exactly() -> None:
    cleaner = Cleaner(percent_as="points").fit(TRAIN)
    text_json = cleaner.recipe_to_json()
    data = json.loads(text_json)
    assert data["format"] == "apprentice.clean.recipe"
    restored = Cleaner.from_recipe(text_json)
    assert restored.recipe_to_json() == text_json
    assert restored.percent_as == "points"
    pd.testing.assert_frame_equal(restored.transform(TRAIN), cleaner.transform(TRAIN))
    assert list(restored.feature_names_in_) == list(TRAIN.columns)
    assert list(restored.get_feature_names_out()) == list(TRAIN.columns)
    # a pickle-free recipe: plain JSON types only
    assert "pickle" not in text_json and "__" not in text_json


def test_new_rows_with_unseen_categories_new_markers_and_garbage() -> None:
    cleaner = Cleaner().fit(TRAIN)
    new = text(
        {
            "age": ["44", "n/a", "forty", "30"],
            "pay": ["$1,000", "-", "lots", "$5"],
            "when": ["02/02/2016", "not a date", "NULL", "31/12/2016"],
            "member": ["no", "maybe", "unknown", "YES"],
            "work": ["Self-emp", "PRIVATE", "None", "State-gov "],
            "zip": ["02134", "99999", "", "00501"],
        }
    )
    out, report = cleaner.transform_with_report(new)
    assert out.shape == (4, 6)
    assert out["age"].tolist()[0] == 44.0 and np.isnan(out["age"].iloc[2])
    assert out["work"].tolist()[1] == "Private" and pd.isna(out["work"].iloc[0])
    assert out["member"].tolist()[3] is True
    cols = report.columns
    assert cols["work"]["unseen_categories"] == 1
    assert cols["age"]["new_markers"] == 1 and cols["age"]["unparseable"] == 1
    assert cols["member"]["unparseable"] == 1  # 'maybe'
    assert cols["when"]["unparseable"] == 1 and cols["when"]["new_markers"] == 1
    assert {e["raw"] for e in cols["pay"]["examples"]} >= {"lots"}
    assert not report.ok and report.summary_lines()


def test_transform_with_report_matches_columns_by_name() -> None:
    cleaner = Cleaner().fit(TRAIN)
    shuffled = TRAIN[list(reversed(TRAIN.columns))].assign(extra="x")
    out, report = cleaner.transform_with_report(shuffled)
    pd.testing.assert_frame_equal(out, cleaner.transform(TRAIN))
    assert report.extra_columns == ["extra"]
    with pytest.raises(ColumnMismatchError, match="'zip'"):
        cleaner.transform_with_report(TRAIN.drop(columns=["zip"]))


def test_transform_checks_the_columns() -> None:
    cleaner = Cleaner().fit(TRAIN)
    with pytest.raises(ColumnMismatchError):
        cleaner.transform(TRAIN.drop(columns=["zip"]))
    with pytest.raises(ValueError):  # a ColumnMismatchError is a ValueError for scikit-learn
        cleaner.transform(TRAIN.rename(columns={"zip": "postcode"}))


def test_numeric_arrays_work_as_text_or_numbers() -> None:
    X = np.array([[1.5, 2.0], [3.25, np.nan], [4.0, 5.0]])
    out = Cleaner().fit_transform(X)
    assert list(out.columns) == ["x0", "x1"]
    np.testing.assert_array_equal(out.to_numpy(), X)
    objects = np.array([["1.5", "a"], ["2", "b"]], dtype=object)
    out = Cleaner().fit_transform(objects)
    assert out["x0"].tolist() == [1.5, 2.0]


def test_bad_input_errors() -> None:
    with pytest.raises(EmptyTableError, match="minimum of 1"):
        Cleaner().fit(text({"a": []}))
    with pytest.raises(SchemaError, match="not a cleaning recipe"):
        Cleaner.from_recipe('{"columns": []}')
    with pytest.raises(SchemaError, match="not valid JSON"):
        Cleaner.from_recipe("{")
    bad = json.loads(Cleaner().fit(TRAIN).recipe_to_json())
    bad["columns"][0]["kind"] = "money"
    with pytest.raises(SchemaError, match="unknown kind 'money'"):
        Cleaner.from_recipe(bad)
    from apprentice.errors import ConfigError

    with pytest.raises(ConfigError, match="percent_as"):
        Cleaner(percent_as="half").fit(TRAIN)


def test_cleaner_on_real_data_serves_the_test_split() -> None:
    train = read_shared("tables", "adult.csv").table  # type: ignore[attr-defined]
    test = read_shared("tables", "adult_test.csv").table  # type: ignore[attr-defined]
    cleaner = Cleaner().fit(train.head(5000))
    out, _report = cleaner.transform_with_report(test.head(3000))
    assert out["workclass"].isna().sum() == (test["workclass"].head(3000).str.strip() == "?").sum()
    assert set(out["income"].dropna().unique()) <= {"<=50K", ">50K"}
    assert out["income"].notna().all()  # '>50K.' is a variant of '>50K'
    restored = Cleaner.from_recipe(cleaner.recipe_to_json())
    pd.testing.assert_frame_equal(restored.transform(test.head(3000)), out)


# Every check of scikit-learn's suite applies and passes: numeric arrays are cleaned as numbers
# (text cells as text), the output is a DataFrame (``preserves_dtype`` is honestly empty since
# each column has its own dtype), errors are ValueErrors with scikit-learn's phrases. The only
# check not run is check_array_api_input, which scikit-learn skips without SCIPY_ARRAY_API.
@parametrize_with_checks([Cleaner()])
def test_sklearn_estimator_checks(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_duplicate_column_names_and_a_pipeline() -> None:
    frame = pd.DataFrame([["1", "a", "2"], ["3", "b", "4"]], columns=["x", "x", "\ufeffy"])
    cleaner = Cleaner().fit(frame.astype("str"))
    assert list(cleaner.get_feature_names_out()) == ["x", "x_2", "y"]
    assert list(cleaner.transform(frame.astype("str")).columns) == ["x", "x_2", "y"]
    with pytest.raises(ColumnMismatchError):
        cleaner.transform(frame.astype("str").iloc[:, [1, 0, 2]].set_axis(["x", "y", "x"], axis=1))

    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = read_shared("tables", "penguins.csv").table  # type: ignore[attr-defined]
    X, y = table.drop(columns=["species"]), table["species"]
    features = make_column_transformer(
        (
            make_pipeline(SimpleImputer(), StandardScaler()),
            make_column_selector(dtype_include="number"),
        ),
        (OneHotEncoder(handle_unknown="ignore"), make_column_selector(dtype_include="category")),
    )
    pipe = make_pipeline(Cleaner(), features, LogisticRegression(max_iter=1000))
    assert pipe.fit(X, y).score(X, y) > 0.9
