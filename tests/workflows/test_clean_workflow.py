"""``clean_file``: read -> clean -> PII -> protection -> schema, on real tables."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

import apprentice
from apprentice.config import Settings
from apprentice.errors import ConfigError
from apprentice.guard import Schema, validate
from apprentice.workflows import CleanFileResult, clean_file

TABLES = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tables").resolve()
needs_tables = pytest.mark.skipif(not TABLES.is_dir(), reason="../shared/data/tables is absent")


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPRENTICE_PSEUDONYM_KEY", raising=False)


def _run(name: str, workspace: Path, **kwargs: object) -> CleanFileResult:
    return clean_file(TABLES / name, settings=Settings(workspace=workspace), **kwargs)  # type: ignore[arg-type]


@needs_tables
def test_titanic(tmp_path: Path) -> None:
    result = _run("titanic.csv", tmp_path / "ws")
    assert result.pii.pii_columns == {"Name": "person_name"}
    assert result.protection.feature_exclusions == ["Name"]
    assert result.ledger.redacted_columns == ["Name"]
    section = result.ledger_dict()["pii"]
    assert section["protection"]["excluded_from_features"]["Name"].startswith("PII: person_name")
    assert section["findings"]["findings"][0]["column"] == "Name"
    types = {c.name: c.type for c in result.schema.columns}
    assert types["PassengerId"] == "integer" and types["Survived"] == "boolean"
    assert types["Sex"] == "category" and types["Age"] == "number" and types["Name"] == "text"
    assert result.schema["Name"].pii == "person_name"
    assert result.schema["Sex"].categories == ["female", "male"]
    assert validate(result.table, result.schema).ok
    assert result.table["Name"].iloc[0] == "Braund, Mr. Owen Harris"  # the user's data, kept
    assert result.preview(1)["Name"].iloc[0] == "B***, M***. O*** H***"
    assert "Name" not in result.model_recipe().names
    assert not (tmp_path / "ws").exists()  # no key needed, nothing written


@needs_tables
def test_keep_pseudonymises_an_identifier_with_the_workspace_key(tmp_path: Path) -> None:
    first = _run("telco_churn.csv", tmp_path / "ws", keep=["customerID"])
    assert first.pii.pii_columns == {}
    assert first.protection.pseudonymised == {"customerID": "identifier"}
    ids = first.table["customerID"]
    assert ids.str.fullmatch(r"[0-9a-f]{16}").all() and ids.is_unique
    key = tmp_path / "ws" / "keys" / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert first.schema["customerID"].type == "id"
    assert first.schema["customerID"].pii == "identifier"
    assert "customerID" in first.ledger.redacted_columns
    assert first.protection.feature_exclusions == ["customerID"]

    again = _run("telco_churn.csv", tmp_path / "ws", keep=["customerID"])
    assert again.table["customerID"].equals(ids)
    other = _run("telco_churn.csv", tmp_path / "other", keep=["customerID"])
    assert not (other.table["customerID"] == ids).any()
    raw = apprentice.read(TABLES / "telco_churn.csv").table["customerID"]
    assert not set(raw) & set(ids)


@needs_tables
def test_allow_and_bad_column_names(tmp_path: Path) -> None:
    result = _run("titanic.csv", tmp_path, allow=["Name"])
    assert result.protection.feature_exclusions == []
    assert result.protection.allowed == ["Name"]
    assert result.ledger.redacted_columns == []
    with pytest.raises(ConfigError, match="keep: column 'Nmae' is not in the table"):
        _run("titanic.csv", tmp_path, keep=["Nmae"])


@needs_tables
def test_files_round_trip(tmp_path: Path) -> None:
    from apprentice.clean import Ledger

    raw = apprentice.read(TABLES / "titanic.csv")
    result = clean_file(raw, settings=Settings(workspace=tmp_path / "ws"))
    written = result.write(
        output=tmp_path / "clean.parquet", ledger=tmp_path / "l.json", schema=tmp_path / "s.json"
    )
    assert sorted(written) == ["ledger", "output", "schema"]
    document = json.loads((tmp_path / "l.json").read_text())
    assert document["pii"]["protection"]["excluded_from_features"].keys() == {"Name"}
    assert Ledger.from_dict(document).redacted_columns == ["Name"]
    assert Schema.load(tmp_path / "s.json") == result.schema
    summary = result.summary()
    json.dumps(summary)
    assert summary["feature_exclusions"] == ["Name"] and summary["rows"] == 891


@needs_tables
def test_adult_schema_catches_the_test_labels(tmp_path: Path) -> None:
    """The serving path: the training recipe cleans the test file, the schema checks it."""
    from apprentice.clean import Cleaner

    train = _run("adult.csv", tmp_path)
    assert train.pii.findings == []
    assert train.schema["income"].categories == ["<=50K", ">50K"]
    cleaner = Cleaner.from_recipe(train.model_recipe())
    test_raw = apprentice.read(TABLES / "adult_test.csv")
    test, _ = cleaner.transform_with_report(test_raw.table)
    result = validate(test, train.schema, line_numbers=test_raw.line_numbers)
    # the recipe maps ' <=50K.' to '<=50K' (a trailing full stop), so only one value is off
    assert result.counts()[["column", "check", "count"]].values.tolist() == [["fnlwgt", "range", 1]]
    assert result.frame["detail"].iloc[0] == "'1490400.0' is above the maximum seen (1484705)"
    # the raw test file, not cleaned by the recipe, breaks the contract on every label
    raw_result = validate(test_raw, train.schema)
    income = raw_result.frame[raw_result.frame["column"] == "income"]
    assert len(income) == len(test) and set(income["check"]) == {"category"}
    assert income["detail"].iloc[0] == "'<=50K.' is not one of the 2 known categories"
    assert income["line"].iloc[0] == 2
