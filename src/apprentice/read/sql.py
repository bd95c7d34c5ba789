"""SQL sources through a SQLAlchemy URL: a table or a query, streamed into text cells.

We stream with SQLAlchemy Core instead of calling ``pandas.read_sql`` because the read stage
needs guarantees pandas does not give: ``read_sql`` fetches the whole result into memory
unless asked to chunk, guesses dtypes (an integer column with a NULL becomes floats, ``7``
becomes ``7.0``), and would happily create an empty SQLite file for a mistyped path. Here

* a SQLite file is opened read-only through a ``file:...?mode=ro`` URI, so a missing file is a
  clear error and is never created, and a query can never write;
* PostgreSQL runs in a read-only transaction with a server-side cursor (``stream_results``),
  fetched in bounded partitions;
* every value becomes text (``None``/``NULL`` stays missing, decimals keep their scale,
  dates are ISO 8601), see :func:`apprentice.read._source.value_text`;
* error messages say what to do and never echo a password or a value from the data: quoted
  literals in database messages are masked.
"""

from __future__ import annotations

import re
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.errors import DatabaseError, SourceNotFoundError
from apprentice.read._source import text_columns_frame, unique_names, value_text
from apprentice.read.hints import ReadHints
from apprentice.read.result import ReadResult

FETCH_ROWS = 10_000
"""Rows fetched per round trip: memory stays bounded by this many raw rows."""

CONNECT_TIMEOUT_S = 15

_URL_HELP = (
    "write it as dialect+driver://user:password@host:port/database, e.g. sqlite:///data.db "
    "(a file relative to the current directory), sqlite:////abs/path/data.db or "
    "postgresql+psycopg://user@localhost:5432/db"
)
_SQLITE_MAGIC = b"SQLite format 3\x00"


def redact_url(text: str) -> str:
    """``text`` with any password in ``scheme://user:password@host`` masked."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def _mask(message: str) -> str:
    """A database message's first line with quoted literals and key values masked.

    Database errors quote the offending value (``invalid input syntax for type integer:
    "Smith"``, ``Key (email)=(a@b.c) already exists``); data must never reach a message.
    """
    first = message.strip().splitlines()[0] if message.strip() else "no message"
    first = re.sub(r"'(?:[^']|'')*'", "'…'", first)
    first = re.sub(r'"[^"]*"', '"…"', first)
    first = re.sub(r"=\([^)]*\)", "=(…)", first)
    return redact_url(first)[:300]


def _db_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    return _mask(str(orig if orig is not None else exc))


def _listing(names: list[str], limit: int = 30) -> str:
    if not names:
        return "no tables"
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _sqlite_engine(url: Any, shown: str) -> tuple[Any, str]:
    """A read-only engine on an existing SQLite file (never creating one)."""
    import sqlalchemy as sa

    database = url.database
    if url.host:
        raise DatabaseError(
            f"{shown}: a SQLite URL has three slashes before a relative path "
            f"(sqlite:///{url.host}{'/' + database if database else ''}) and four before an "
            "absolute one (sqlite:////abs/path.db)"
        )
    if not database or database == ":memory:" or url.query.get("mode") == "memory":
        raise DatabaseError(
            f"{shown}: an in-memory SQLite database has no tables; give a database file, "
            "e.g. sqlite:///data.db"
        )
    path = Path(database).expanduser()
    if not path.exists():
        raise SourceNotFoundError(
            f"{shown}: no such SQLite database file {str(path)!r}; check the path "
            "(sqlite:///relative/path.db or sqlite:////absolute/path.db); apprentice never "
            "creates a database"
        )
    if path.is_dir():
        raise DatabaseError(f"{shown}: {str(path)!r} is a directory; give the database file")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise DatabaseError(f"{shown}: cannot open the file ({exc.strerror}); check it") from None
    if head and head != _SQLITE_MAGIC:
        raise DatabaseError(
            f"{shown}: {str(path)!r} is not a SQLite database; for a CSV, JSON, Excel or "
            "Parquet file give its path instead of a sqlite:// URL"
        )
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    engine = sa.create_engine("sqlite://", creator=connect, poolclass=sa.pool.NullPool)
    return engine, f"SQLite file {str(path)!r}"


def _engine(url_text: str) -> tuple[Any, str, str]:
    """The engine, the URL as shown in messages (no password), and a description."""
    import sqlalchemy as sa
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    spec = url_text.strip()
    if "://" not in spec:
        path = Path(spec).expanduser()
        if path.is_file():  # a bare path given with --format sql
            spec = "sqlite:///" + str(path)
        else:
            raise DatabaseError(f"{spec!r} is not a SQLAlchemy URL; {_URL_HELP}")
    shown = redact_url(spec)
    try:
        url = sa.make_url(spec)
    except (ArgumentError, ValueError):
        raise DatabaseError(f"{shown}: not a valid SQLAlchemy URL; {_URL_HELP}") from None
    backend = url.get_backend_name()
    if backend == "postgres":
        url = url.set(drivername="postgresql" + url.drivername[len("postgres") :])
        backend = "postgresql"
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    shown = url.render_as_string(hide_password=True)
    if backend == "sqlite":
        engine, what = _sqlite_engine(url, shown)
        return engine, shown, what
    kwargs: dict[str, Any] = {"poolclass": sa.pool.NullPool}
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = sa.create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise DatabaseError(
            f"{shown}: SQLAlchemy has no dialect or driver {url.drivername!r}; use sqlite:/// "
            "or postgresql+psycopg://, or install the dialect's package"
        ) from None
    except ImportError as exc:
        extra = " (pip install 'ml-apprentice[postgres]')" if backend == "postgresql" else ""
        raise DatabaseError(
            f"{shown}: the database driver is not installed ({exc.name or 'missing module'}); "
            f"install it{extra} or name another driver in the URL"
        ) from None
    except (ArgumentError, TypeError, ValueError) as exc:
        raise DatabaseError(
            f"{shown}: the URL's options are not valid ({type(exc).__name__}); {_URL_HELP}"
        ) from None
    return engine, shown, f"{backend} database {shown}"


def _tables(conn: Any, schema: str | None = None) -> list[str]:
    import sqlalchemy as sa

    inspector = sa.inspect(conn)
    names = list(inspector.get_table_names(schema=schema))
    names += [v for v in inspector.get_view_names(schema=schema) if v not in names]
    return names


def _resolve_table(conn: Any, name: str, shown: str, notes: list[str]) -> tuple[str | None, str]:
    """(schema, table) for ``name``: exact, ``schema.table``, or a unique case-folded match."""
    import sqlalchemy as sa

    available = _tables(conn)
    if name in available:
        return None, name
    if "." in name:
        schema, _, table = name.partition(".")
        try:
            if table in _tables(conn, schema):
                return schema, table
        except sa.exc.SQLAlchemyError:
            conn.rollback()
    folded = [t for t in available if t.casefold() == name.casefold()]
    if len(folded) == 1:
        notes.append(f"table {name!r} matched {folded[0]!r} ignoring case")
        return None, folded[0]
    raise SourceNotFoundError(
        f"{shown}: there is no table {name!r}; the database has {_listing(available)}; "
        "pass --table with one of these names, or --query with a SELECT"
    )


def read_sql(url: str, hints: ReadHints) -> ReadResult:
    """Read a table (``hints.table``) or a query's rows (``hints.query``) as text cells."""
    import sqlalchemy as sa

    engine, shown, what = _engine(url)
    notes: list[str] = []
    try:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(
                f"{shown}: could not connect ({_db_message(exc)}); check the host, port, "
                "database name, user and password, and that the server is running"
            ) from None
        with conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            return _read(conn, hints, shown, what, notes)
    finally:
        engine.dispose()


def _read(conn: Any, hints: ReadHints, shown: str, what: str, notes: list[str]) -> ReadResult:
    import sqlalchemy as sa

    table, query = hints.table, hints.query
    if table is not None and query is not None:
        raise DatabaseError(f"{shown}: give either --table or --query, not both")
    if table is None and query is None:
        try:
            available = _tables(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(f"{shown}: cannot list tables ({_db_message(exc)})") from None
        raise DatabaseError(
            f"{shown}: say what to read with --table NAME or --query SQL; the database has "
            f"{_listing(available)}"
        )
    options: dict[str, Any] = {"stream_results": True, "max_row_buffer": FETCH_ROWS}
    try:
        if table is not None:
            schema, name = _resolve_table(conn, table, shown, notes)
            statement = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema))
            result = conn.execution_options(**options).execute(statement)
            label = f"table {table!r} from"
        else:
            assert query is not None
            if not query.strip():
                raise DatabaseError(f"{shown}: the query is empty; give a SELECT statement")
            options["no_parameters"] = True  # the text goes to the driver as it is
            result = conn.execution_options(**options).exec_driver_sql(query)
            label = "query on"
    except sa.exc.SQLAlchemyError as exc:
        doing = "reading the table" if table is not None else "running the query"
        raise DatabaseError(
            f"{shown}: {doing} failed ({_db_message(exc)}); check the SQL and that the "
            "tables and columns exist"
        ) from None
    if not result.returns_rows:
        result.close()
        raise DatabaseError(f"{shown}: the query returns no rows; give a SELECT statement")
    keys = result.keys()
    names = [str(k) for k in keys]
    columns: list[list[str | None]] = [[] for _ in names]
    n = 0
    try:
        for part in result.partitions(FETCH_ROWS):
            for row in part:
                for j, value in enumerate(row):
                    columns[j].append(value_text(value))
            n += len(part)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(
            f"{shown}: fetching rows failed after {n:,} rows ({_db_message(exc)}); check the "
            "database"
        ) from None
    finally:
        result.close()
    notes.insert(0, f"{label} the {what}: {n:,} rows, {len(names)} column(s)")
    unique = unique_names(names, notes)
    return ReadResult(
        table=text_columns_frame(unique, columns),
        source=shown,
        format="sql",
        notes=notes,
        line_numbers=np.arange(1, n + 1, dtype=np.int64),
        original_columns=names,
    )
