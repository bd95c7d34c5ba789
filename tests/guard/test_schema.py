"""The schema contract: inference, JSON round trip, validation, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.errors import SchemaError
from apprentice.guard import Schema, detect_pii, infer_schema, validate
from apprentice.guard.schema import LOGICAL_TYPES, SCHEMA_VERSION
from tests.guard._tables import load_text, needs_tables


def _typed() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": pd.Series([30, 41, 25, 60], dtype="int64"),
            "income": [1200.5, 3300.0, np.nan, 5000.25],
            "member": [True, False, True, True],
            "joined": pd.to_datetime(["2020-01-05", "2021-06-30", "2019-12-31", "2022-02-02"]),
            "plan": pd.Series(["basic", "pro", "basic", "team"], dtype="category"),
            "code": pd.Series(["A-1", "B-2", "C-3", "D-4"], dtype="str"),
        }
    )


def test_inference_on_a_typed_frame() -> None:
    schema = infer_schema(_typed(), types={"code": "id"})
    assert [(c.name, c.type, c.nullable) for c in schema.columns] == [
        ("age", "integer", False),
        ("income", "number", True),
        ("member", "boolean", False),
        ("joined", "datetime", False),
        ("plan", "category", False),
        ("code", "id", False),
    ]
    assert (schema["age"].minimum, schema["age"].maximum) == (25, 60)
    assert (schema["income"].minimum, schema["income"].maximum) == (1200.5, 5000.25)
    assert schema["joined"].minimum == "2019-12-31T00:00:00"
    assert schema["plan"].categories == ["basic", "pro", "team"]
    assert schema["code"].categories is None and schema["code"].minimum is None
    assert schema.rows == 4


def test_json_round_trip(tmp_path: Path) -> None:
    schema = infer_schema(_typed())
    path = schema.save(tmp_path / "deep" / "schema.json")
    raw = json.loads(path.read_text())
    assert raw["format"] == "apprentice.schema" and raw["version"] == SCHEMA_VERSION
    assert Schema.load(path) == schema
    assert Schema.from_json(schema.to_json()) == schema
    assert validate(_typed(), path).ok


def test_validation_lists_every_violation_by_row_and_column() -> None:
    schema = infer_schema(_typed())
    data = pd.DataFrame(
        {
            "age": ["30", "abc", "70", "41.5", ""],
            "income": ["1200.5", "100", "9000", "", "2000"],
            "member": ["yes", "no", "maybe", "TRUE", "0"],
            "joined": ["2020-01-05", "2018-01-01", "not a date", "2021-01-01", "2020-02-02"],
            "plan": ["basic", "enterprise", "pro", "team", None],
            "extra": ["x"] * 5,
        },
        dtype="str",
    )
    before = data.copy()
    result = validate(data, schema)
    pd.testing.assert_frame_equal(data, before)
    got = {
        (None if pd.isna(r.row) else int(r.row), r.column, r.check)
        for r in result.frame.itertuples()
    }
    assert got == {
        (None, "code", "missing_column"),
        (None, "extra", "unexpected_column"),
        (1, "age", "type"),
        (2, "age", "range"),
        (3, "age", "type"),
        (4, "age", "null"),
        (1, "income", "range"),
        (2, "income", "range"),
        (2, "member", "type"),
        (1, "joined", "range"),
        (2, "joined", "type"),
        (1, "plan", "category"),
        (4, "plan", "null"),
    }
    details = dict(
        ((int(r.row), r.column, r.check), r.detail)
        for r in result.frame.itertuples()
        if not pd.isna(r.row)
    )
    assert details[(1, "age", "type")] == "'abc' is not an integer"
    assert details[(2, "age", "range")] == "'70' is above the maximum seen (60)"
    assert details[(1, "plan", "category")] == "'enterprise' is not one of the 3 known categories"
    assert list(result.frame.columns) == ["row", "line", "column", "check", "detail"]
    assert not result.ok and len(result) == 13
    counts = result.counts()
    assert counts.set_index(["column", "check"])["count"][("age", "type")] == 2
    payload = result.to_dict()
    json.dumps(payload)
    assert payload["violations"] == 13 and payload["ok"] is False
    with pytest.raises(SchemaError, match="13 violation"):
        result.raise_if_any()


def test_line_numbers_are_reported() -> None:
    schema = infer_schema(_typed())
    data = _typed().astype("str")
    data.loc[2, "age"] = "old"
    result = validate(data, schema, line_numbers=[10, 11, 13, 14])
    row = result.frame[result.frame["check"] == "type"].iloc[0]
    assert (row["row"], row["line"]) == (2, 13)


def test_pii_values_never_reach_the_schema_or_the_details() -> None:
    frame = pd.DataFrame(
        {
            "email": ["ann@example.org", "bob@example.org"] * 20,
            "plan": ["basic", "pro"] * 20,
            "note": ["mail ann@example.org"] + ["fine"] * 39,
        },
        dtype="str",
    )
    report = detect_pii(frame)
    schema = infer_schema(frame, pii=report)
    assert schema["email"].pii == "email" and schema["email"].categories is None
    assert schema["note"].categories is None  # a low-confidence finding: values withheld
    assert schema["plan"].categories == ["basic", "pro"]
    assert "example.org" not in schema.to_json()
    # even without a report, a category set holding PII is left open
    assert infer_schema(frame)["note"].categories is None

    schema["email"].nullable = False
    bad = frame.copy()
    bad.loc[0, "email"] = ""
    bad.loc[1, "plan"] = "call carl@example.net"
    result = validate(bad, schema)
    text = result.frame.to_csv() + json.dumps(result.to_dict()) + result.message()
    assert "carl@example.net" not in text and "c***@e***.net" in text


@needs_tables
def test_adult_train_schema_against_adult_test(tmp_path: Path) -> None:
    train = load_text("adult.csv")
    schema = infer_schema(train, pii=detect_pii(train))
    assert schema["income"].type == "category"
    assert schema["income"].categories == [" <=50K", " >50K"]
    assert schema["age"].type == "integer" and schema["age"].minimum == 17
    path = schema.save(tmp_path / "adult.schema.json")

    test = load_text("adult_test.csv")
    result = validate(test, path)
    counts = result.counts().set_index(["column", "check"])["count"]
    assert counts[("income", "category")] == len(test)
    assert {c for c, _ in counts.index} <= {"income", "fnlwgt", "native_country"}
    income = result.frame[result.frame["column"] == "income"]["detail"]
    assert set(income) == {
        "' <=50K.' is not one of the 2 known categories",
        "' >50K.' is not one of the 2 known categories",
    }
    assert result.summary()[0].startswith("income: 16,281 category (first: row 0)")


@needs_tables
def test_holdout_of_the_same_table_mostly_conforms() -> None:
    table = load_text("bank_marketing.csv")
    train = table.sample(frac=0.8, random_state=0)  # the file is in time order: shuffle
    holdout = table.drop(train.index).reset_index(drop=True)
    result = validate(holdout, infer_schema(train))
    assert set(result.frame["check"]) <= {"range", "category"}
    assert len(result) < 0.01 * len(holdout)
    assert validate(table, infer_schema(table)).ok


# ---------------------------------------------------------------------------------------------
# bad input: clear errors, nothing lost


def _write(path: Path, text: str) -> bytes:
    path.write_text(text, encoding="utf-8")
    return path.read_bytes()


def test_schema_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    before = _write(path, '{"format": "apprentice.schema", "version": 1,\n "columns": [}')
    with pytest.raises(SchemaError) as err:
        Schema.load(path)
    message = str(err.value)
    assert str(path) in message and "not valid JSON (line 2" in message
    assert "infer_schema" in message
    assert path.read_bytes() == before
    with pytest.raises(SchemaError, match="not valid JSON"):
        validate(_typed(), path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('["a list"]', "is not an apprentice schema"),
        ('{"format": "something else"}', "is not an apprentice schema"),
        ('{"format": "apprentice.schema", "version": 99, "columns": []}', "upgrade apprentice"),
        ('{"format": "apprentice.schema", "version": "one"}', "'version' must be a whole number"),
        ('{"format": "apprentice.schema", "version": 1, "columns": []}', "lists no columns"),
        (
            '{"format": "apprentice.schema", "version": 1, "columns": [{"type": "number"}]}',
            "column 1 has no 'name'",
        ),
        (
            '{"format": "apprentice.schema", "version": 1, '
            '"columns": [{"name": "age", "type": "float"}]}',
            "column 1 ('age'): unknown type 'float' (did you mean 'number'?); use one of "
            + ", ".join(LOGICAL_TYPES),
        ),
        (
            '{"format": "apprentice.schema", "version": 1, '
            '"columns": [{"name": "age", "type": "integer", "minimum": 9, "maximum": 1}]}',
            "minimum is above maximum",
        ),
        (
            '{"format": "apprentice.schema", "version": 1, '
            '"columns": [{"name": "a", "type": "text"}, {"name": "a", "type": "text"}]}',
            "column 'a' appears twice",
        ),
    ],
)
def test_schema_files_that_do_not_fit(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "schema.json"
    before = _write(path, content)
    with pytest.raises(SchemaError) as err:
        Schema.load(path)
    assert expected in str(err.value)
    assert path.read_bytes() == before


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist; create it"):
        validate(_typed(), tmp_path / "nope.json")


def test_schema_that_does_not_match_the_data(tmp_path: Path) -> None:
    path = infer_schema(_typed()).save(tmp_path / "s.json")
    before = path.read_bytes()
    other = pd.DataFrame({"x": ["1"], "y": ["2"]}, dtype="str")
    kept = other.copy()
    with pytest.raises(SchemaError) as err:
        validate(other, path)
    message = str(err.value)
    assert "shares no column with the schema" in message
    assert "'x', 'y'" in message and "'age'" in message and "right schema" not in message
    assert path.read_bytes() == before
    pd.testing.assert_frame_equal(other, kept)


def test_unknown_type_hint() -> None:
    frame = _typed()
    kept = frame.copy()
    with pytest.raises(SchemaError) as err:
        infer_schema(frame, types={"age": "float"})
    assert str(err.value) == (
        "type hint for column 'age': unknown type 'float' (did you mean 'number'?); use one of "
        + ", ".join(LOGICAL_TYPES)
    )
    with pytest.raises(SchemaError, match="unknown type 'colour'; use one of"):
        infer_schema(frame, types={"age": "colour"})
    with pytest.raises(SchemaError, match="column 'agee', which is not in the table"):
        infer_schema(frame, types={"agee": "integer"})
    with pytest.raises(SchemaError, match="'code' cannot be integer: 4 of 4 values are not"):
        infer_schema(frame, types={"code": "integer"})
    pd.testing.assert_frame_equal(frame, kept)


def test_save_never_truncates_an_existing_schema(tmp_path: Path) -> None:
    path = infer_schema(_typed()).save(tmp_path / "s.json")
    before = path.read_bytes()
    broken = infer_schema(_typed())
    broken.columns[1].minimum = float("nan")  # not representable in JSON
    with pytest.raises(ValueError):
        broken.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_duplicate_column_names_refused_in_a_wide_frame() -> None:
    frame = pd.DataFrame(np.zeros((2, 6)), columns=["a", "b", "c", "b", "d", "a"])
    with pytest.raises(SchemaError, match=r"column name\(s\) 'a', 'b' appear more than once"):
        infer_schema(frame)
