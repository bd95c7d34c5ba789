"""The prediction log: every prediction and every feedback row, written by a background thread.

Request handlers only append a tuple to an in-memory queue; a writer thread protects the
fields (:mod:`apprentice.serve.privacy`), batches them and inserts them in one transaction
per batch. :meth:`PredictionLog.close` (run by the server's shutdown) drains the queue: every
prediction whose response was sent is written before the process exits. When the database
cannot be reached at shutdown the rows are spilled to a JSON-lines file in the workspace
(already protected) and inserted by the next server that starts on that log.

Backends: SQLite (default, ``<workspace>/predictions.sqlite``, WAL mode, busy timeout) and
PostgreSQL (``postgresql+psycopg://...``). Schema migrations run under a lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory transaction lock on PostgreSQL), so several
workers can start at once.

Tables: ``predictions`` (request_id, created_at, model_version, endpoint, inputs: the raw
request fields, features: the typed values the model saw, prediction, probabilities,
latency_ms) and ``feedback`` (request_id, created_at, actual), keyed by request id.
"""

from __future__ import annotations

import abc
import contextlib
import os
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from apprentice.errors import ConfigError, DatabaseError

SCHEMA_VERSION = 1
LOCK_ID = 0x61707072  # "appr": the advisory lock of the log's migrations

PREDICTION_COLUMNS = (
    "request_id",
    "created_at",
    "model_version",
    "endpoint",
    "inputs",
    "features",
    "prediction",
    "probabilities",
    "latency_ms",
)
FEEDBACK_COLUMNS = ("request_id", "created_at", "model_version", "actual")

_MIGRATIONS: dict[str, list[list[str]]] = {
    "sqlite": [
        [
            """CREATE TABLE IF NOT EXISTS predictions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                request_id TEXT NOT NULL,
                created_at TEXT NOT NULL,
                model_version TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                inputs TEXT NOT NULL,
                features TEXT NOT NULL,
                prediction TEXT NOT NULL,
                probabilities TEXT,
                latency_ms REAL NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS predictions_request_id ON predictions (request_id)",
            "CREATE INDEX IF NOT EXISTS predictions_created_at ON predictions (created_at)",
            """CREATE TABLE IF NOT EXISTS feedback (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                request_id TEXT NOT NULL,
                created_at TEXT NOT NULL,
                model_version TEXT NOT NULL,
                actual TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS feedback_request_id ON feedback (request_id)",
        ]
    ],
    "postgresql": [
        [
            """CREATE TABLE IF NOT EXISTS predictions (
                id BIGSERIAL PRIMARY KEY,
                request_id TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                model_version TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                inputs TEXT NOT NULL,
                features TEXT NOT NULL,
                prediction TEXT NOT NULL,
                probabilities TEXT,
                latency_ms DOUBLE PRECISION NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS predictions_request_id ON predictions (request_id)",
            "CREATE INDEX IF NOT EXISTS predictions_created_at ON predictions (created_at)",
            """CREATE TABLE IF NOT EXISTS feedback (
                id BIGSERIAL PRIMARY KEY,
                request_id TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                model_version TEXT NOT NULL,
                actual TEXT NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS feedback_request_id ON feedback (request_id)",
        ]
    ],
}
_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS apprentice_log_schema (version INTEGER NOT NULL)"


def default_url(workspace: str | Path) -> str:
    return f"sqlite:///{Path(workspace).expanduser().resolve() / 'predictions.sqlite'}"


def _dialect(url: str) -> str:
    head = url.split(":", 1)[0].lower()
    name = head.split("+", 1)[0]
    if name == "sqlite":
        return "sqlite"
    if name in ("postgresql", "postgres"):
        return "postgresql"
    raise ConfigError(
        f"the prediction log supports SQLite and PostgreSQL URLs, not {name!r}; use "
        "sqlite:///path/to/log.sqlite or postgresql+psycopg://user@host/db"
    )


def _redact(url: str) -> str:
    """A URL safe to print (password hidden)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _sqlite_path(url: str) -> str:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigError(
            "the prediction log needs a SQLite file (sqlite:///path/to/log.sqlite), not an "
            "in-memory database: several workers and the monitor must see the same rows"
        )
    return database


# --------------------------------------------------------------------------- stores


class _Store(abc.ABC):
    """A prediction-log backend (SQLite or PostgreSQL)."""

    dialect: str

    @abc.abstractmethod
    def migrate(self) -> None:
        """Create or upgrade the tables (safe from several workers at once)."""

    @abc.abstractmethod
    def insert(
        self, predictions: Sequence[tuple[Any, ...]], feedback: Sequence[tuple[Any, ...]]
    ) -> None:
        """Write one batch of rows."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""


def _insert_sql(table: str, columns: Sequence[str], mark: Callable[[str], str]) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(mark(c) for c in columns)})"
    )


class _SQLiteStore(_Store):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        self.path = _sqlite_path(url)
        Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._insert_p = _insert_sql("predictions", PREDICTION_COLUMNS, lambda c: "?")
        self._insert_f = _insert_sql("feedback", FEEDBACK_COLUMNS, lambda c: "?")

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 60000")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode and str(mode[0]).lower() != "wal":
                raise DatabaseError(f"SQLite could not switch {self.path} to WAL mode")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    def migrate(self) -> None:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(_VERSION_TABLE)
            row = conn.execute("SELECT MAX(version) FROM apprentice_log_schema").fetchone()
            current = int(row[0]) if row and row[0] is not None else 0
            if current > SCHEMA_VERSION:
                raise DatabaseError(
                    f"the prediction log at {self.path} has schema version {current}, newer "
                    f"than this apprentice ({SCHEMA_VERSION}); upgrade apprentice"
                )
            for version, steps in enumerate(_MIGRATIONS["sqlite"], start=1):
                if version <= current:
                    continue
                for sql in steps:
                    conn.execute(sql)
                conn.execute("DELETE FROM apprentice_log_schema")
                conn.execute("INSERT INTO apprentice_log_schema (version) VALUES (?)", (version,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def insert(
        self, predictions: Sequence[tuple[Any, ...]], feedback: Sequence[tuple[Any, ...]]
    ) -> None:
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if predictions:
                conn.executemany(self._insert_p, predictions)
            if feedback:
                conn.executemany(self._insert_f, feedback)
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _SQLAlchemyStore(_Store):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine, text

        self._text = text
        try:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=2)
        except Exception as exc:
            raise DatabaseError(
                f"cannot use the prediction log database {_redact(url)}: "
                f"{type(exc).__name__}; check the URL and that its driver is installed "
                "(pip install 'ml-apprentice[postgres]')"
            ) from None
        self._insert_p = text(_insert_sql("predictions", PREDICTION_COLUMNS, lambda c: f":{c}"))
        self._insert_f = text(_insert_sql("feedback", FEEDBACK_COLUMNS, lambda c: f":{c}"))

    def migrate(self) -> None:
        text = self._text
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_ID})
            conn.execute(text(_VERSION_TABLE))
            current = conn.execute(text("SELECT MAX(version) FROM apprentice_log_schema")).scalar()
            current = int(current or 0)
            if current > SCHEMA_VERSION:
                raise DatabaseError(
                    f"the prediction log has schema version {current}, newer than this "
                    f"apprentice ({SCHEMA_VERSION}); upgrade apprentice"
                )
            for version, steps in enumerate(_MIGRATIONS["postgresql"], start=1):
                if version <= current:
                    continue
                for sql in steps:
                    conn.execute(text(sql))
                conn.execute(text("DELETE FROM apprentice_log_schema"))
                conn.execute(
                    text("INSERT INTO apprentice_log_schema (version) VALUES (:v)"), {"v": version}
                )

    def insert(
        self, predictions: Sequence[tuple[Any, ...]], feedback: Sequence[tuple[Any, ...]]
    ) -> None:
        with self.engine.begin() as conn:
            if predictions:
                conn.execute(
                    self._insert_p,
                    [dict(zip(PREDICTION_COLUMNS, r, strict=True)) for r in predictions],
                )
            if feedback:
                conn.execute(
                    self._insert_f, [dict(zip(FEEDBACK_COLUMNS, r, strict=True)) for r in feedback]
                )

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> _Store:
    return _SQLiteStore(url) if _dialect(url) == "sqlite" else _SQLAlchemyStore(url)


def migrate(url: str) -> None:
    """Create or upgrade the log's tables at ``url`` (safe from several processes at once)."""
    store = open_store(url)
    try:
        store.migrate()
    finally:
        store.close()


# --------------------------------------------------------------------------- the writer


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


class PredictionLog:
    """A background batch writer of predictions and feedback.

    ``prepare`` turns a queued prediction into its row (protection and JSON, on the writer's
    thread); it is set by the server from the bundle's protection plan.
    """

    def __init__(
        self,
        url: str,
        *,
        model_version: str,
        spill_dir: str | Path,
        protector: Any = None,
        interval: float = 0.05,
        batch_rows: int = 2000,
        retry_for: float = 30.0,
    ) -> None:
        self.url = url
        self.dialect = _dialect(url)
        self.model_version = model_version
        self.spill_dir = Path(spill_dir)
        self.protector = protector
        self.interval = interval
        self.batch_rows = batch_rows
        self.retry_for = retry_for
        self._queue: deque[tuple[Any, ...]] = deque()
        self._feedback: deque[tuple[Any, ...]] = deque()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: _Store | None = None
        self.written = 0
        self.feedback_written = 0
        self.spilled = 0
        self.failures = 0
        self.last_error: str | None = None
        self.on_write: Callable[[int], None] | None = None
        self._lock = threading.Lock()

    # -- life cycle

    def start(self) -> None:
        """Open the database, run migrations, re-insert spilled rows, start the writer."""
        self._store = open_store(self.url)
        try:
            self._store.migrate()
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseError(
                f"the prediction log {_redact(self.url)} cannot be opened: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        except DatabaseError:
            raise
        except Exception as exc:
            raise DatabaseError(
                f"the prediction log {_redact(self.url)} cannot be opened ({type(exc).__name__}); "
                "check the URL and that the server is running"
            ) from None
        self._store.close()
        self._reingest()
        self._thread = threading.Thread(target=self._run, name="apprentice-log", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 60.0) -> None:
        """Drain the queue into the database (or a spill file) and stop the writer."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._stop.set()
            thread.join(timeout)
            self._thread = None
        if self._queue or self._feedback:  # the writer could not finish in time
            self._spill(self._take(len(self._queue), self._feedback_all()))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._feedback)

    # -- request side (cheap: one append)

    def add(self, item: tuple[Any, ...]) -> None:
        """Queue one prediction: (request_id, ts, endpoint, raw, typed, prediction, proba,
        latency_ms)."""
        self._queue.append(item)

    def add_feedback(self, request_id: str, actual: Any, ts: float | None = None) -> None:
        self._feedback.append((request_id, time.time() if ts is None else ts, actual))

    # -- writer side

    def _row(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        rid, ts, endpoint, raw, typed, prediction, proba, latency = item
        protector = self.protector
        if protector is not None:
            raw = protector.raw(raw)
            typed = protector.features(typed)
        return (
            rid,
            _iso(ts) if self.dialect == "sqlite" else datetime.fromtimestamp(ts, UTC),
            self.model_version,
            endpoint,
            orjson.dumps(raw, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
            orjson.dumps(typed, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
            orjson.dumps(prediction, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
            None if proba is None else orjson.dumps(proba).decode(),
            float(latency),
        )

    def _feedback_row(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        rid, ts, actual = item
        return (
            rid,
            _iso(ts) if self.dialect == "sqlite" else datetime.fromtimestamp(ts, UTC),
            self.model_version,
            orjson.dumps(actual).decode(),
        )

    def _feedback_all(self) -> list[tuple[Any, ...]]:
        out = []
        while self._feedback:
            out.append(self._feedback.popleft())
        return out

    def _take(
        self, limit: int, feedback: list[tuple[Any, ...]]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rows: list[tuple[Any, ...]] = []
        queue = self._queue
        while queue and len(rows) < limit:
            rows.append(self._row(queue.popleft()))
        return rows, [self._feedback_row(f) for f in feedback]

    def _run(self) -> None:
        assert self._store is not None
        store = self._store
        pending: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] = ([], [])
        failing_since: float | None = None
        try:
            while True:
                stopping = self._stop.wait(self.interval)
                while True:
                    if not pending[0] and not pending[1]:
                        pending = self._take(self.batch_rows, self._feedback_all())
                    if not pending[0] and not pending[1]:
                        break
                    try:
                        store.insert(*pending)
                    except Exception as exc:
                        self.failures += 1
                        self.last_error = f"{type(exc).__name__}"
                        now = time.monotonic()
                        failing_since = failing_since or now
                        if stopping or now - failing_since > self.retry_for:
                            self._spill(pending)
                            pending = ([], [])
                            failing_since = None
                            continue
                        time.sleep(min(1.0, self.interval * 4))
                        break
                    failing_since = None
                    self.written += len(pending[0])
                    self.feedback_written += len(pending[1])
                    if self.on_write is not None:
                        self.on_write(len(pending[0]))
                    pending = ([], [])
                if stopping and not self._queue and not self._feedback and not pending[0]:
                    return
        finally:
            if pending[0] or pending[1]:
                self._spill(pending)
            store.close()

    # -- spill files: rows that could not be written, kept for the next start

    def _spill(self, rows: tuple[Sequence[tuple[Any, ...]], Sequence[tuple[Any, ...]]]) -> None:
        predictions, feedback = rows
        if not predictions and not feedback:
            return
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.spill_dir / f"spill-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        with open(path, "ab") as fh:
            for row in predictions:
                fh.write(orjson.dumps({"table": "predictions", "row": _jsonable(row)}) + b"\n")
            for row in feedback:
                fh.write(orjson.dumps({"table": "feedback", "row": _jsonable(row)}) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.spilled += len(predictions) + len(feedback)

    def _reingest(self) -> None:
        if not self.spill_dir.is_dir():
            return
        for path in sorted(self.spill_dir.glob("spill-*.jsonl")):
            claimed = path.with_name(f"claimed-{os.getpid()}-{path.name}")
            try:
                os.replace(path, claimed)  # one worker claims each file
            except OSError:
                continue
            predictions: list[tuple[Any, ...]] = []
            feedback: list[tuple[Any, ...]] = []
            for line in claimed.read_bytes().splitlines():
                if not line.strip():
                    continue
                entry = orjson.loads(line)
                row = list(entry["row"])
                if self.dialect != "sqlite":
                    row[1] = datetime.fromisoformat(row[1])
                (predictions if entry["table"] == "predictions" else feedback).append(tuple(row))
            store = open_store(self.url)
            try:
                store.insert(predictions, feedback)
            except Exception:
                os.replace(claimed, path)  # keep it for a later start
                raise
            finally:
                store.close()
            claimed.unlink()


def _jsonable(row: tuple[Any, ...]) -> list[Any]:
    return [v.isoformat() if isinstance(v, datetime) else v for v in row]


# --------------------------------------------------------------------------- reading


def read_log(url: str, table: str = "predictions", *, since: datetime | None = None) -> Any:
    """The rows of ``predictions`` or ``feedback`` as a DataFrame (JSON columns as text)."""
    import pandas as pd
    from sqlalchemy import create_engine, text

    if table not in ("predictions", "feedback"):
        raise ConfigError(f"the prediction log has no table {table!r}; use predictions or feedback")
    engine = create_engine(url)
    try:
        query = f"SELECT * FROM {table}"
        params: dict[str, Any] = {}
        if since is not None:
            query += " WHERE created_at >= :since"
            params["since"] = _iso(since.timestamp()) if _dialect(url) == "sqlite" else since
        with engine.connect() as conn:
            return pd.read_sql(text(query + " ORDER BY id"), conn, params=params)
    finally:
        engine.dispose()


def count_rows(url: str, table: str = "predictions") -> int:
    """How many rows ``table`` holds."""
    from sqlalchemy import create_engine, text

    if table not in ("predictions", "feedback"):
        raise ConfigError(f"the prediction log has no table {table!r}")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0)
    finally:
        engine.dispose()


_LOOKUP_ENGINES: dict[str, Any] = {}  # one engine per log for has_prediction


def has_prediction(url: str, request_id: str) -> bool:
    """Whether the log at ``url`` holds a committed prediction with ``request_id``."""
    from sqlalchemy import create_engine, text

    engine = _LOOKUP_ENGINES.get(url)
    if engine is None:
        engine = _LOOKUP_ENGINES.setdefault(url, create_engine(url))
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM predictions WHERE request_id = :rid LIMIT 1"), {"rid": request_id}
        ).first()
    return found is not None
