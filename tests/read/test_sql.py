"""Reading SQL sources: a real SQLite file, and a real throwaway PostgreSQL server."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import apprentice
from apprentice.errors import DatabaseError, SourceNotFoundError


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER, name TEXT, score REAL, note TEXT)")
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?)",
            [(1, "Ann", 1.5, "a%b"), (2, None, 2.0, None), (3, "Zoë", None, "")],
        )
        conn.execute("CREATE TABLE orders (id INTEGER, customer_id INTEGER)")
        conn.execute("CREATE VIEW named AS SELECT id, name FROM customers WHERE name IS NOT NULL")
    conn.close()
    return path


def _cells(frame: pd.DataFrame) -> list[list[str | None]]:
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def test_sqlite_table_keeps_nulls_and_text(sqlite_db: Path) -> None:
    result = apprentice.read(f"sqlite:///{sqlite_db}", table="customers")
    assert result.format == "sql"
    assert list(result.table.columns) == ["id", "name", "score", "note"]
    assert all(dtype == "str" for dtype in result.table.dtypes)
    assert _cells(result.table) == [
        ["1", "Ann", "1.5", "a%b"],
        ["2", None, "2", None],
        ["3", "Zoë", None, ""],
    ]
    assert result.line_numbers.tolist() == [1, 2, 3]
    assert result.rows_read == result.rows_kept == 3


def test_sqlite_query_with_percent_and_colon(sqlite_db: Path) -> None:
    result = apprentice.read(
        f"sqlite:///{sqlite_db}",
        query="SELECT id, name, ':x' AS tag FROM customers WHERE note LIKE 'a%' ORDER BY id",
    )
    assert _cells(result.table) == [["1", "Ann", ":x"]]


def test_sqlite_view_and_case_insensitive_table(sqlite_db: Path) -> None:
    result = apprentice.read(f"sqlite:///{sqlite_db}", table="NAMED")
    assert _cells(result.table) == [["1", "Ann"], ["3", "Zoë"]]
    assert any("ignoring case" in note for note in result.notes)


def test_sqlite_repeated_column_names_are_suffixed(sqlite_db: Path) -> None:
    result = apprentice.read(f"sqlite:///{sqlite_db}", query="SELECT id, id FROM orders")
    assert list(result.table.columns) == ["id", "id_2"]
    assert result.original_columns == ["id", "id"]
    assert result.rows_kept == 0


def test_sqlite_missing_table_lists_available(sqlite_db: Path) -> None:
    with pytest.raises(SourceNotFoundError) as info:
        apprentice.read(f"sqlite:///{sqlite_db}", table="clients")
    message = str(info.value)
    assert "'clients'" in message
    assert "'customers'" in message and "'orders'" in message and "'named'" in message
    assert "--table" in message


def test_sqlite_needs_table_or_query(sqlite_db: Path) -> None:
    with pytest.raises(DatabaseError, match=r"--table NAME or --query SQL.*'customers'"):
        apprentice.read(f"sqlite:///{sqlite_db}")
    with pytest.raises(DatabaseError, match="not both"):
        apprentice.read(f"sqlite:///{sqlite_db}", table="orders", query="SELECT 1")


def test_sqlite_is_read_only(sqlite_db: Path) -> None:
    with pytest.raises(DatabaseError, match="readonly"):
        apprentice.read(f"sqlite:///{sqlite_db}", query="DELETE FROM customers RETURNING id")
    assert apprentice.read(f"sqlite:///{sqlite_db}", table="customers").rows_kept == 3


def test_sqlite_missing_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(SourceNotFoundError, match="no such SQLite database file"):
        apprentice.read(f"sqlite:///{missing}", table="t")
    assert not missing.exists()


def test_query_error_masks_values(sqlite_db: Path) -> None:
    with pytest.raises(DatabaseError) as info:
        apprentice.read(f"sqlite:///{sqlite_db}", query="SELECT * FROM customers WHERE name = 'Ann")
    assert "Ann" not in str(info.value)
    assert "check the SQL" in str(info.value)


def test_bare_path_with_format_sql(sqlite_db: Path) -> None:
    result = apprentice.read(str(sqlite_db), format="sql", table="orders")
    assert result.rows_kept == 0
    assert list(result.table.columns) == ["id", "customer_id"]


# ---------------------------------------------------------------------------------------------
# PostgreSQL


@pytest.fixture(scope="module")
def pg_people(postgres_url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS people")
        conn.exec_driver_sql("DROP SEQUENCE IF EXISTS counter")
        conn.exec_driver_sql("CREATE SEQUENCE counter")
        conn.exec_driver_sql(
            "CREATE TABLE people (id integer, name text, amount numeric(8, 2), born date, "
            "seen timestamp, active boolean, tags text[], meta jsonb)"
        )
        conn.exec_driver_sql(
            "INSERT INTO people VALUES "
            "(1, 'Ann', 1.50, '1990-01-02', '2024-01-05 13:45:00', true, '{a,b}', "
            "'{\"k\": 1}'), "
            "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        conn.exec_driver_sql(
            "INSERT INTO people (id, name) SELECT g, 'p' || g FROM generate_series(3, 25000) g"
        )
    engine.dispose()
    return postgres_url


@pytest.mark.postgres
def test_postgres_table(pg_people: str) -> None:
    result = apprentice.read(pg_people, table="people")
    assert result.rows_kept == 25000
    assert list(result.table.columns) == [
        "id",
        "name",
        "amount",
        "born",
        "seen",
        "active",
        "tags",
        "meta",
    ]
    first = _cells(result.table.head(2))
    assert first[0] == [
        "1",
        "Ann",
        "1.50",
        "1990-01-02",
        "2024-01-05 13:45:00",
        "true",
        '["a", "b"]',
        '{"k": 1}',
    ]
    assert first[1] == ["2", *[None] * 7]
    assert result.line_numbers[-1] == 25000
    assert "***" not in result.source and result.source.startswith("postgresql+psycopg://")


@pytest.mark.postgres
def test_postgres_query(pg_people: str) -> None:
    result = apprentice.read(
        pg_people,
        query="SELECT id, name FROM people WHERE name LIKE 'A%' OR id = 3 ORDER BY id",
    )
    assert _cells(result.table) == [["1", "Ann"], ["3", "p3"]]


@pytest.mark.postgres
def test_postgres_missing_table_and_bad_query(pg_people: str) -> None:
    with pytest.raises(SourceNotFoundError, match="'people'"):
        apprentice.read(pg_people, table="persons")
    with pytest.raises(DatabaseError) as info:
        apprentice.read(pg_people, query="SELECT CAST(name AS integer) FROM people")
    assert "Ann" not in str(info.value) and "p3" not in str(info.value)


@pytest.mark.postgres
def test_postgres_is_read_only(pg_people: str) -> None:
    with pytest.raises(DatabaseError, match="read-only"):
        apprentice.read(pg_people, query="SELECT nextval('counter')")
    assert apprentice.read(pg_people, query="SELECT count(*) AS n FROM people").table.iloc[
        0, 0
    ] == ("25000")


def test_decimal_text_keeps_scale() -> None:
    from apprentice.read._source import value_text

    assert value_text(Decimal("1.50")) == "1.50"
    assert value_text(2.0) == "2"
    assert value_text(True) == "true"
