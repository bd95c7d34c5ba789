"""Bad input: a clear error naming what was wrong, and nothing lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apprentice.clean import Cleaner, Rule, clean_table, clean_target
from apprentice.errors import (
    ApprenticeError,
    ColumnMismatchError,
    ConfigError,
    EmptyTableError,
    SchemaError,
    TargetError,
)
from tests.clean.conftest import text

SECRET = "zz-secret-value-42"


def test_mixed_types_lose_nothing() -> None:
    values = ["1", "2", SECRET, "4", "5", "x7", "7", "", "NA", "9"]
    res = clean_table(text({"v": values}))
    codes = res.codes["v"]
    parsed = res.table["v"].notna().to_numpy()
    coerced = res.coerced("v")
    # every cell is accounted for: a value, a marker/empty, or a coerced cell with its raw text
    for i, raw in enumerate(values):
        if parsed[i]:
            assert float(raw) == res.table["v"].iloc[i]
        elif codes[i] == Rule.UNPARSEABLE:
            assert coerced[i] == raw
        else:
            assert codes[i] in (Rule.EMPTY, Rule.MARKER)
    assert res.ledger.column("v").coercions["unparseable"] == 2
    assert res.explain(2, "v").raw == SECRET


def test_an_entirely_empty_table(tmp_path: Path) -> None:
    with pytest.raises(EmptyTableError, match="no data rows"):
        clean_table(text({"a": [], "b": []}))
    with pytest.raises(EmptyTableError, match="no columns"):
        clean_table(pd.DataFrame())
    import apprentice

    path = tmp_path / "header_only.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ApprenticeError):
        clean_table(apprentice.read(path))


def test_a_table_of_empty_cells_is_cleaned_and_reported() -> None:
    res = clean_table(text({"a": ["", "", "NA"], "b": ["1", "2", "3"]}))
    assert res.ledger.table.empty_columns == ["a"]
    assert res.ledger.column("a").kind == "empty"


def test_a_target_less_frame_where_a_target_is_needed() -> None:
    frame = text({"a": ["1", "2"], "b": ["x", "y"]})
    with pytest.raises(TargetError, match="target column 'label' is not in the table") as exc:
        clean_table(frame, target="label")
    assert "'a'" in str(exc.value)  # names the columns to choose from
    with pytest.raises(TargetError, match="no values"):
        clean_table(text({"a": ["1", "2"], "y": ["", "NA"]}), target="y")
    with pytest.raises(TargetError, match="no values"):
        clean_target(pd.Series(["", "?", None], dtype="str", name="y"))
    with pytest.raises(TargetError, match="empty"):
        clean_target(pd.Series([], dtype="str"))


def test_a_schema_that_does_not_match() -> None:
    cleaner = Cleaner().fit(text({"a": ["1", "2"], "b": ["x", "y"]}))
    with pytest.raises(ColumnMismatchError, match="'b'"):
        cleaner.transform_with_report(text({"a": ["1"], "c": ["z"]}))
    with pytest.raises(ColumnMismatchError, match="should match"):
        cleaner.transform(text({"a": ["1"], "c": ["z"]}))
    arrays = Cleaner().fit(np.array([["1", "x"], ["2", "y"]], dtype=object))
    with pytest.raises(ColumnMismatchError, match="X has 3 features, but Cleaner is expecting 2"):
        arrays.transform(np.array([["1", "x", "z"]], dtype=object))
    with pytest.raises(SchemaError, match="type hints name columns that are not in the table"):
        clean_table(text({"a": ["1"]}), type_hints={"b": "integer"})
    with pytest.raises(SchemaError, match="sentinels name columns"):
        clean_table(text({"a": ["1"]}), sentinels={"b": [-1]})


def test_unknown_type_hints_and_options() -> None:
    frame = text({"a": ["1"]})
    with pytest.raises(ConfigError, match="'money'") as exc:
        clean_table(frame, type_hints={"a": "money"})
    assert "integer" in str(exc.value)  # lists what is allowed
    with pytest.raises(ConfigError, match="option"):
        clean_table(frame, type_hints={"a": "integer:dayfirst"})
    with pytest.raises(ConfigError, match="dayfirst, monthfirst or a strftime"):
        clean_table(frame, type_hints={"a": "date:sometimes"})
    with pytest.raises(ConfigError, match="sentinels"):
        clean_table(frame, sentinels="drop")
    with pytest.raises(ConfigError, match="percent_as"):
        clean_table(frame, percent_as="ratio")


def test_error_messages_carry_no_data_values() -> None:
    frame = text({"v": [SECRET, SECRET, "1"]})
    cleaner = Cleaner().fit(frame)
    errors: list[Exception] = []
    for bad in (
        lambda: cleaner.transform(text({"w": [SECRET]})),
        lambda: clean_table(frame, target=SECRET[:3]),
        lambda: clean_target(
            pd.Series([SECRET, "?"], dtype="str"), recipe={"name": "t", "kind": "money"}
        ),
    ):
        with pytest.raises(ApprenticeError) as exc:
            bad()
        errors.append(exc.value)
    assert all(SECRET not in str(e) for e in errors)


def test_garbage_input_types() -> None:
    with pytest.raises(TypeError, match="ReadResult or a pandas DataFrame"):
        clean_table([["a"]])  # type: ignore[arg-type]
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="sparse"):
        Cleaner().fit(sp.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="Reshape your data"):
        Cleaner().fit(np.arange(3))
