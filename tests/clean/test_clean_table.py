"""clean_table on small tables: types with evidence, markers per column, merges, sentinels,
names, duplicates, constant and empty columns, and the ledger."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from apprentice.clean import Ledger, Rule, clean_table
from tests.clean.conftest import text


def test_types_and_dtypes() -> None:
    frame = text(
        {
            "n": ["1", "2", "3", "4"],
            "x": ["1.5", "2,000.25", "3", "-4"],
            "b": ["yes", "no", "Yes", "N"],
            "d": ["2016-01-02", "2016-01-03", "2016-01-04", ""],
            "c": ["red", "blue", "blue", "Blue"],
            "zip": ["01907", "15122", "02134", "00501"],
        }
    )
    res = clean_table(frame)
    kinds = {c.name: c.kind for c in res.ledger.columns}
    assert kinds == {
        "n": "integer",
        "x": "float",
        "b": "boolean",
        "d": "date",
        "c": "category",
        "zip": "identifier",
    }
    t = res.table
    assert t["n"].dtype == np.float64 and t["b"].dtype == "boolean"
    assert str(t["d"].dtype).startswith("datetime64") and isinstance(
        t["c"].dtype, pd.CategoricalDtype
    )
    assert t["zip"].tolist() == ["01907", "15122", "02134", "00501"]  # leading zeros kept
    assert t["x"].tolist() == [1.5, 2000.25, 3.0, -4.0]
    assert t["c"].tolist() == ["red", "blue", "blue", "blue"]


def test_markers_depend_on_the_column() -> None:
    frame = text(
        {
            "num": ["1", "?", "3", "-", "5"],
            "holiday": ["None", "None", "Xmas", "None", "None"],
            "cat": ["a", "b", "None", "a", "b"],
            "kept": ["NA", "NA", "Grvl", "Pave", "NA"],
        }
    )
    res = clean_table(frame)
    led = {c.name: c for c in res.ledger.columns}
    assert {m["token"] for m in led["num"].markers} == {"?", "-"}
    assert res.table["num"].isna().tolist() == [False, True, False, True, False]
    # the normal value of a holiday column is a category, not missing
    assert led["holiday"].kept_markers and res.table["holiday"].isna().sum() == 0
    # a marker that is a minority in a category column is missing
    assert res.table["cat"].isna().sum() == 1
    assert res.table["kept"].tolist()[0] == "NA"


def test_pandas_default_na_list_is_not_applied_blindly() -> None:
    res = clean_table(text({"country": ["NA", "US", "NA", "NA", "FR"]}))  # Namibia
    assert res.table["country"].isna().sum() == 0


def test_whitespace_and_case_variants_merge_with_a_record() -> None:
    res = clean_table(text({"w": [" Private", "Private", "private ", "Self-emp", " ?"]}))
    rep = res.ledger.columns[0]
    assert res.table["w"].tolist()[:3] == ["Private"] * 3
    assert rep.coercions["whitespace_stripped"] == 3
    assert {m["variant"] for m in rep.merges} == {"private"}
    assert rep.markers == [{"token": "?", "count": 1}]


def test_mixed_column_keeps_its_majority_type_and_the_raw_text() -> None:
    frame = text({"v": ["1", "2", "3", "4", "5", "6", "oops", "7", "8", "n/r?"]})
    res = clean_table(frame)
    rep = res.ledger.columns[0]
    assert rep.kind == "integer" and rep.coercions["unparseable"] == 2
    assert {u["raw"] for u in rep.unparseable} == {"oops", "n/r?"}
    coerced = res.coerced("v")
    assert coerced.to_dict() == {6: "oops", 9: "n/r?"}
    assert res.codes["v"][6] == Rule.UNPARSEABLE


def test_suspected_sentinels_flag_confirm_reject() -> None:
    rng = np.random.default_rng(0)
    values = [f"{v:.1f}" for v in rng.normal(20, 5, 200)] + ["-200"] * 20
    frame = text({"T": values})
    flagged = clean_table(frame)
    rep = flagged.ledger.columns[0]
    assert rep.sentinels and rep.sentinels[0]["value"] == -200.0
    assert rep.sentinels[0]["action"] == "flag"
    assert (flagged.table["T"] == -200).sum() == 20  # kept, only flagged
    confirmed = clean_table(frame, sentinels={"T": [-200]})
    assert confirmed.table["T"].isna().sum() == 20
    assert confirmed.ledger.columns[0].coercions["sentinel_missing"] == 20
    as_missing = clean_table(frame, sentinels="missing")
    assert as_missing.table["T"].isna().sum() == 20
    rejected = clean_table(frame, sentinels={"T": []})
    assert not rejected.ledger.columns[0].sentinels


def test_names_bom_whitespace_blank_duplicates() -> None:
    frame = pd.DataFrame([["1", "2", "3", "4"]], columns=["\ufeffid", " a ", "", "a"]).astype("str")
    res = clean_table(frame)
    assert list(res.table.columns) == ["id", "a", "column_3", "a_2"]
    renamed = {r["original"]: r["name"] for r in res.ledger.table.renamed_columns}
    assert renamed == {"\ufeffid": "id", " a ": "a", "": "column_3", "a": "a_2"}


def test_duplicate_rows_constant_and_empty_columns_are_reported_not_dropped() -> None:
    frame = text(
        {
            "a": ["1", "2", "1", "3"],
            "b": ["x", "y", "x", "z"],
            "k": ["same", "same", "same", "same"],
            "e": ["", "NA", "", ""],
        }
    )
    res = clean_table(frame)
    t = res.ledger.table
    assert t.duplicate_rows["count"] == 1
    assert t.duplicate_rows["examples"][0] == {"row": 2, "same_as_row": 0}
    assert t.constant_columns == ["k"] and t.empty_columns == ["e"]
    assert res.table.shape == (4, 4)


def test_ledger_json_round_trip_summary_and_redact() -> None:
    frame = text({"name": ["Ann", "ann", "Bob", "x"] * 3, "n": ["1", "2", "?", "4"] * 3})
    res = clean_table(frame)
    data = json.loads(res.ledger.to_json())
    again = Ledger.from_dict(data)
    assert again.to_dict() == res.ledger.to_dict()
    lines = res.ledger.summary_lines()
    assert lines[0].startswith("12 rows x 2 columns") and any("name" in x for x in lines)
    red = res.ledger.redact({"name"})
    dumped = red.to_json()
    assert "Ann" not in dumped and "Bob" not in dumped
    assert "Ann" in res.ledger.to_json()  # the original is untouched
    assert red.redacted_columns == ["name"]


def test_explain_every_rule() -> None:
    frame = text({"v": ["1,234", "?", "", "oops", "7"], "c": ["Red", "red", "red", "blue", "blue"]})
    res = clean_table(frame)
    rules = [res.explain(r, "v").rule for r in range(5)]
    assert rules == ["reformatted", "marker", "empty", "unparseable", "value"]
    why = res.explain(3, "v")
    assert why.raw == "oops" and "does not fit" in why.reason and pd.isna(why.cleaned)
    merged = res.explain(0, 1)
    assert merged.rule == "merged" and merged.cleaned == "red"
    assert "thousands" in " ".join(res.explain(0, "v").details)


def test_unknown_columns_in_hints_are_errors() -> None:
    from apprentice.errors import ConfigError, SchemaError

    with pytest.raises(SchemaError, match="'nope'"):
        clean_table(text({"a": ["1"]}), type_hints={"nope": "integer"})
    with pytest.raises(ConfigError, match="'bogus'"):
        clean_table(text({"a": ["1"]}), type_hints={"a": "bogus"})


def test_type_hints_force_a_type() -> None:
    frame = text({"zip": ["15122", "15237"], "d": ["01/02/2016", "03/04/2016"]})
    res = clean_table(frame, type_hints={"zip": "identifier", "d": "date:dayfirst"})
    assert res.table["zip"].tolist() == ["15122", "15237"]
    assert str(res.table["d"].iloc[0])[:10] == "2016-02-01"


def test_ambiguous_dates_follow_a_sibling_column_that_proves_the_order() -> None:
    frame = text(
        {
            "start": ["25/12/2016", "01/02/2016", "03/04/2016"],
            "end": ["01/02/2017", "03/04/2017", "05/06/2017"],
        }
    )
    res = clean_table(frame)
    assert str(res.table["end"].iloc[0])[:10] == "2017-02-01"
    rep = res.ledger.column("end")
    assert any("start" in d for d in rep.evidence["decisions"])


def test_native_numeric_frame() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, np.nan, 2.0], "f": [True, False, True]})
    res = clean_table(frame)
    assert [c.kind for c in res.ledger.columns] == ["integer", "float", "boolean"]
    assert res.table["b"].isna().tolist() == [False, True, False]


def test_explanations_of_times_dates_and_booleans() -> None:
    frame = text(
        {"t": ["10:30:50", "23:59", ""], "d": ["2016-01-02", "x", ""], "b": ["yes", "no", "no"]}
    )
    res = clean_table(frame)
    assert res.explain(0, "t").to_dict()["cleaned"] == "10:30:50"
    assert res.explain(1, "t").to_dict()["cleaned"] == "23:59:00"
    assert "format %Y-%m-%d" in res.explain(0, "d").reason
    assert res.explain(0, "b").reason == "'yes' is a true word"
    lines = res.explain(1, "d").lines()
    assert lines[1].strip() == "raw:     'x'" and "missing" in lines[2]


def test_integers_too_long_for_a_float_keep_their_text() -> None:
    ids = ["1234567890123456789", "1234567890123456790", "987654321098765432"]
    res = clean_table(text({"id": ids, "n": ["1", "2", "3"]}))
    assert res.table["id"].tolist() == ids
    assert res.ledger.column("id").kind == "identifier"
    assert "15 digits" in res.ledger.column("id").evidence["reason"]
