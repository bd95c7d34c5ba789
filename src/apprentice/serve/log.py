"""The prediction log: every prediction and every feedback row, stored before it is answered.

Request handlers append a tuple to an in-memory queue and await its commit; a writer thread
wakes at once, protects the fields (:mod:`apprentice.serve.privacy`), and inserts every queued
row in one transaction (group commit: concurrent requests share one commit), then releases
their responses. A 200 means the row is stored: a kill at any moment loses no answered
prediction and no acknowledged feedback (feedback rows share the queue and its order). When
the database cannot be reached for ``retry_for`` seconds (or at shutdown) the rows are spilled
to an fsynced JSON-lines file in the workspace (already protected) and inserted by the next
server that starts on that log.

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
import asyncio
import contextlib
import heapq
import itertools
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from apprentice.errors import ConfigError, DatabaseError
from apprentice.monitor.log import LATENCY_EDGES

SCHEMA_VERSION = 2
LOCK_ID = 0x61707072  # "appr": the advisory lock of the log's migrations
_LOG = logging.getLogger("apprentice.serve.log")
CHECKPOINT_S = 1.0

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


def _bucket_sql(cast: str) -> str:
    return " + ".join(f"{cast.format(f'latency_ms >= {e}')}" for e in LATENCY_EDGES)


_WINDOWS_TABLE = """CREATE TABLE IF NOT EXISTS prediction_windows (
    window_start TEXT NOT NULL,
    model_version TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (window_start, model_version, bucket))"""
_SQLITE_BUCKET = _bucket_sql("({})")
_PG_BUCKET = _bucket_sql("CAST({} AS INTEGER)")
_PG_MINUTE = "to_char({}created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI')"
# version 2: incremental aggregates for the dashboard, per minute, model version and latency
# bucket, kept by the database itself on every insert (whoever inserts: the writer, a spill
# file's re-insertion, another worker), and back-filled from the rows already logged
_MIGRATIONS["sqlite"].append(
    [
        _WINDOWS_TABLE + " WITHOUT ROWID",  # one b-tree: fewer pages written per commit
        f"""INSERT INTO prediction_windows (window_start, model_version, bucket, n)
            SELECT substr(created_at, 1, 16), model_version, {_SQLITE_BUCKET}, COUNT(*)
            FROM predictions GROUP BY 1, 2, 3""",
        f"""CREATE TRIGGER IF NOT EXISTS predictions_windows AFTER INSERT ON predictions
            BEGIN
                INSERT INTO prediction_windows (window_start, model_version, bucket, n)
                VALUES (substr(NEW.created_at, 1, 16), NEW.model_version,
                        {_SQLITE_BUCKET.replace("latency_ms", "NEW.latency_ms")}, 1)
                ON CONFLICT (window_start, model_version, bucket) DO UPDATE SET n = n + 1;
            END""",
    ]
)
_MIGRATIONS["postgresql"].append(
    [
        _WINDOWS_TABLE,
        f"""INSERT INTO prediction_windows (window_start, model_version, bucket, n)
            SELECT {_PG_MINUTE.format("")}, model_version, {_PG_BUCKET}, COUNT(*)
            FROM predictions GROUP BY 1, 2, 3""",
        f"""CREATE OR REPLACE FUNCTION apprentice_prediction_window() RETURNS trigger AS $$
            BEGIN
                INSERT INTO prediction_windows (window_start, model_version, bucket, n)
                VALUES ({_PG_MINUTE.format("NEW.")}, NEW.model_version,
                        {_PG_BUCKET.replace("latency_ms", "NEW.latency_ms")}, 1)
                ON CONFLICT (window_start, model_version, bucket)
                DO UPDATE SET n = prediction_windows.n + 1;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""",
        "DROP TRIGGER IF EXISTS predictions_windows ON predictions",
        """CREATE TRIGGER predictions_windows AFTER INSERT ON predictions
            FOR EACH ROW EXECUTE FUNCTION apprentice_prediction_window()""",
    ]
)
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

    def __init__(
        self, url: str, *, busy_timeout_ms: int = 60_000, autocheckpoint: bool = True
    ) -> None:
        self.busy_timeout_ms = busy_timeout_ms
        self.autocheckpoint = autocheckpoint
        self.path = _sqlite_path(url)
        Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._insert_p = _insert_sql("predictions", PREDICTION_COLUMNS, lambda c: "?")
        self._insert_f = _insert_sql("feedback", FEEDBACK_COLUMNS, lambda c: "?")

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_ms / 1000.0,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode and str(mode[0]).lower() != "wal":
                raise DatabaseError(f"SQLite could not switch {self.path} to WAL mode")
            conn.execute("PRAGMA synchronous = NORMAL")
            if not self.autocheckpoint:  # the writer thread checkpoints (see checkpoint)
                conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._local.conn = conn
            self._all.append(conn)
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
            with contextlib.suppress(ValueError):
                self._all.remove(conn)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without blocking writers (PASSIVE)."""
        self._connect().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close_all(self) -> None:
        """Close the connections of every thread (they are opened without the same-thread
        check)."""
        for conn in self._all:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._all.clear()
        self._local = threading.local()


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


class NotLoggedError(DatabaseError):
    """A prediction could not be stored in the log in time: it must not be answered as 200."""


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


_INT64 = 2**63
_MAX_DEPTH = 64


def _safe_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: kept visible, never raised
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _safe(value: Any, depth: int = 0) -> Any:
    """A JSON-able copy of ``value`` that orjson always accepts: integers beyond 64 bits as
    text (or their size, beyond Python's digit limit), lone surrogates escaped, nesting cut at
    64 levels, anything else by its type name."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return int(value)
        try:
            return str(value)
        except ValueError:  # more digits than int->str allows
            return f"<integer of {value.bit_length()} bits>"
    if isinstance(value, str):
        return _safe_text(value)
    if depth >= _MAX_DEPTH:
        return "<nested too deep>"
    if isinstance(value, Mapping):
        return {_safe_text(str(k)): _safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "ndim", 1) == 0:
        with contextlib.suppress(Exception):
            return _safe(item(), depth + 1)
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        with contextlib.suppress(Exception):
            return _safe(tolist(), depth + 1)
    return f"<{type(value).__name__}>"


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class PredictionLog:
    """A group-commit writer of predictions and feedback.

    A request handler queues its row (:meth:`add`, one append, returns a sequence number) and
    awaits :meth:`wait_logged` before answering: the writer thread wakes at once, takes every
    queued row, commits them in one transaction and then releases all their requests together
    (group commit: concurrent requests share one commit). A 200 therefore means the row is in
    the database (or, when the database is down, in an fsynced spill file): a kill at any
    moment loses no answered prediction. SQLite runs in WAL mode with ``synchronous=NORMAL``,
    which survives the death of the process (not a power cut).

    No value can stop the writer: a row that cannot be serialised exactly is logged in a safe
    form (:func:`_safe`) and counted in :attr:`unserialisable`; any other error is counted and
    the writer carries on.

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
        high_water: int = 50_000,
        inline: bool = True,
    ) -> None:
        self.url = url
        self.dialect = _dialect(url)
        self.model_version = model_version
        self.spill_dir = Path(spill_dir)
        self.protector = protector
        self.interval = interval
        self.batch_rows = batch_rows
        self.retry_for = retry_for
        self.high_water = high_water
        # (sequence number, model version, item, is feedback), in the order they were queued
        self._queue: deque[tuple[int, str, tuple[Any, ...], bool]] = deque()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._store: _Store | None = None
        self.written = 0
        self.feedback_written = 0
        self.spilled = 0
        self.failures = 0
        self.unserialisable = 0
        self.writer_errors = 0
        self.last_error: str | None = None
        self.failing_since: float | None = None
        self.on_write: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        self._add_lock = threading.Lock()
        self._seq = 0  # the last sequence number given to a queued row
        self._done = 0  # every row up to this number is stored (committed or spilled)
        self._done_cond = threading.Condition()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap by sequence
        self._waiter_ids = itertools.count()
        self._waiter_lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer at a time: rows are stored in order
        self._pending: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int] = ([], [], 0)
        self.inline = inline and self.dialect == "sqlite"
        self._inline_store: _SQLiteStore | None = None
        self._flush_scheduled = False

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
        if self.inline:
            # no checkpoint on the event loop (it can wait on the disk): the writer thread
            # runs them, every CHECKPOINT_S, while commits go on
            self._inline_store = _SQLiteStore(self.url, busy_timeout_ms=0, autocheckpoint=False)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="apprentice-log", daemon=True)
        self._thread.start()
        _LOG.info("prediction log open: %s", _redact(self.url))

    def close(self, timeout: float = 60.0) -> None:
        """Drain the queue into the database (or a spill file) and stop the writer."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._stop.set()
            self._wake.set()
            thread.join(timeout)
            self._thread = None
            inline, self._inline_store = self._inline_store, None
        if inline is not None:
            with self._write_lock, contextlib.suppress(Exception):
                inline.close_all()
        if self._queue:  # the writer could not finish in time
            last = self._queue[-1][0]
            self._spill(self._take(len(self._queue))[:2])
            self._mark_done(last)
        self._release_all()
        _LOG.info(
            "prediction log closed: %d written, %d spilled, %d in a safe form",
            self.written,
            self.spilled,
            self.unserialisable,
        )

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def last_seq(self) -> int:
        """The sequence number of the last queued row (prediction or feedback)."""
        return self._seq

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def healthy(self) -> bool:
        """The writer runs, the database takes rows and the backlog is under the high-water
        mark."""
        return self.running and self.failing_since is None and self.pending < self.high_water

    def status(self) -> dict[str, Any]:
        """What ``/ready`` reports about the log."""
        return {
            "running": self.running,
            "healthy": self.healthy,
            "pending": self.pending,
            "written": self.written,
            "spilled": self.spilled,
            "unserialisable": self.unserialisable,
            "failing_for_s": None
            if self.failing_since is None
            else round(time.monotonic() - self.failing_since, 3),
            "last_error": self.last_error,
        }

    # -- request side (cheap: one append)

    def add(self, item: tuple[Any, ...], *, version: str | None = None) -> int:
        """Queue one prediction: (request_id, ts, endpoint, raw, typed, prediction, proba,
        latency_ms); ``version`` is the model version that made it (default: the log's).
        Returns its sequence number for :meth:`wait_logged`."""
        with self._add_lock:
            seq = self._seq + 1
            self._seq = seq
            self._queue.append((seq, version or self.model_version, item, False))
        if self._inline_store is None:
            self._wake.set()
        return seq

    def add_feedback(self, request_id: str, actual: Any, ts: float | None = None) -> int:
        """Queue the actual outcome of prediction ``request_id``. Returns its sequence number:
        await :meth:`wait_logged` with it before acknowledging the feedback."""
        item = (request_id, time.time() if ts is None else ts, actual)
        with self._add_lock:
            seq = self._seq + 1
            self._seq = seq
            self._queue.append((seq, self.model_version, item, True))
        if self._inline_store is None:
            self._wake.set()
        return seq

    async def wait_logged(self, seq: int, timeout: float | None = None) -> None:
        """Return once row ``seq`` (a prediction or feedback) is stored;
        :class:`NotLoggedError` when the writer is not running or the row is not stored within
        ``timeout`` (default: the retry window plus 30 s)."""
        if self._done >= seq:
            return
        if not self.running:
            raise NotLoggedError(
                "the prediction log is not running, so the prediction was not answered; "
                "check the server log and /ready"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._waiter_lock:
            if self._done >= seq:
                return
            heapq.heappush(self._waiters, (seq, next(self._waiter_ids), future))
        if self._inline_store is not None:
            if not self._flush_scheduled:  # after the other requests of this turn
                self._flush_scheduled = True
                loop.call_soon(self._flush_inline)
        else:
            self._wake.set()
        limit = self.retry_for + 30.0 if timeout is None else timeout
        # a timer on the future, not asyncio.timeout(): a fraction of the CPU per request
        timer = loop.call_later(limit, _expire, future, limit)
        try:
            await future
        finally:
            timer.cancel()
        if self._done < seq:
            raise NotLoggedError(
                "the prediction log stopped before storing the prediction, so it was not "
                "answered; check the server log"
            )

    def wait_logged_sync(self, seq: int, timeout: float | None = None) -> None:
        """:meth:`wait_logged` for a worker thread."""
        self._wake.set()
        limit = self.retry_for + 30.0 if timeout is None else timeout
        with self._done_cond:
            if (
                not self._done_cond.wait_for(lambda: self._done >= seq or not self.running, limit)
                or self._done < seq
            ):
                raise NotLoggedError(
                    "the prediction log did not store the prediction, so it was not answered; "
                    "check the database and /ready"
                )

    # -- writer side

    def _mark_done(self, seq: int) -> None:
        if seq <= self._done:
            return
        self._done = seq
        with self._done_cond:
            self._done_cond.notify_all()
        ready: list[asyncio.Future[None]] = []
        with self._waiter_lock:
            waiters = self._waiters
            while waiters and waiters[0][0] <= seq:
                ready.append(heapq.heappop(waiters)[2])
        if ready:
            _release_threadsafe(ready)

    def _release_all(self) -> None:
        """Wake every waiter (the log stopped): each sees whether its row was stored."""
        with self._done_cond:
            self._done_cond.notify_all()
        with self._waiter_lock:
            ready = [w[2] for w in self._waiters]
            self._waiters.clear()
        if ready:
            _release_threadsafe(ready)

    def _row_exact(self, version: str, item: tuple[Any, ...]) -> tuple[Any, ...]:
        rid, ts, endpoint, raw, typed, prediction, proba, latency = item
        protector = self.protector
        if protector is not None:
            raw = protector.raw(raw)
            typed = protector.features(typed)
        return (
            rid,
            _iso(ts) if self.dialect == "sqlite" else datetime.fromtimestamp(ts, UTC),
            version,
            endpoint,
            _dumps(raw),
            _dumps(typed),
            _dumps(prediction),
            None if proba is None else _dumps(proba),
            float(latency),
        )

    def _row_safe(self, version: str, item: tuple[Any, ...]) -> tuple[Any, ...]:
        """The row of a prediction whose values cannot be written as they are."""
        fields = list(item) + [None] * (8 - len(item))
        rid, ts, endpoint, raw, typed, prediction, proba, latency = fields[:8]
        raw, typed = _safe(raw), _safe(typed)
        protector = self.protector
        if protector is not None:
            try:
                raw = protector.raw(raw)
                typed = protector.features(typed)
            except Exception as exc:  # never write values that could not be protected
                raw = typed = {"unloggable": f"protection failed ({type(exc).__name__})"}
        try:
            when = float(ts)
        except (TypeError, ValueError):
            when = time.time()
        try:
            ms = float(latency)
        except (TypeError, ValueError):
            ms = 0.0
        return (
            _safe_text(str(rid)),
            _iso(when) if self.dialect == "sqlite" else datetime.fromtimestamp(when, UTC),
            version,
            _safe_text(str(endpoint)),
            _dumps(_safe(raw)),
            _dumps(_safe(typed)),
            _dumps(_safe(prediction)),
            None if proba is None else _dumps(_safe(proba)),
            ms,
        )

    def _row(self, queued: tuple[Any, ...]) -> tuple[Any, ...]:
        _, version, item, _ = queued
        try:
            return self._row_exact(version, item)
        except Exception as exc:
            self.unserialisable += 1
            self.last_error = f"a row was logged in a safe form ({type(exc).__name__})"
            _LOG.warning(
                "a prediction row could not be serialised (%s); logged in a safe form",
                type(exc).__name__,
            )
            return self._row_safe(version, item)

    def _feedback_row(self, version: str, item: tuple[Any, ...]) -> tuple[Any, ...]:
        rid, ts, actual = item
        try:
            text = orjson.dumps(actual).decode()
        except Exception:
            self.unserialisable += 1
            text = _dumps(_safe(actual))
        return (
            rid,
            _iso(ts) if self.dialect == "sqlite" else datetime.fromtimestamp(ts, UTC),
            version,
            text,
        )

    def _take(self, limit: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
        """Up to ``limit`` queued rows, in order: the prediction rows, the feedback rows, and
        the sequence number of the last row taken (0: none)."""
        rows: list[tuple[Any, ...]] = []
        feedback: list[tuple[Any, ...]] = []
        queue = self._queue
        last = n = 0
        while queue and n < limit:
            queued = queue.popleft()
            last = queued[0]
            n += 1
            if queued[3]:
                feedback.append(self._feedback_row(queued[1], queued[2]))
            else:
                rows.append(self._row(queued))
        return rows, feedback, last

    def _run(self) -> None:
        assert self._store is not None
        store = self._store
        checkpointed = time.monotonic()
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                stopping = self._stop.is_set()
                if (
                    self._inline_store is not None
                    and time.monotonic() - checkpointed > CHECKPOINT_S
                ):
                    checkpointed = time.monotonic()
                    if isinstance(store, _SQLiteStore):
                        with contextlib.suppress(sqlite3.Error):
                            store.checkpoint()
                failed = False
                try:
                    with self._write_lock:
                        failed = self._drain(store, stopping)
                except Exception as exc:  # never let the writer die
                    self.writer_errors += 1
                    self.last_error = f"writer error ({type(exc).__name__})"
                    _LOG.error("prediction log writer error: %s", type(exc).__name__)
                    failed = True
                if failed:
                    time.sleep(min(1.0, self.interval * 4))
                    self._wake.set()  # try again at once
                    continue
                pending = self._pending
                if stopping and not self._queue and not pending[0] and not pending[1]:
                    return
        finally:
            with self._write_lock:
                pending, self._pending = self._pending, ([], [], 0)
            if pending[0] or pending[1]:
                with contextlib.suppress(Exception):
                    self._spill(pending[:2])
                    self._mark_done(pending[2])
            with contextlib.suppress(Exception):
                store.close()

    def _drain(self, store: _Store, stopping: bool) -> bool:
        """Write batches until the queue is empty; True when the database failed (the rows
        stay in ``_pending`` for the next try). Called with ``_write_lock`` held."""
        while True:
            pending = self._pending
            if not pending[0] and not pending[1]:
                pending = self._pending = self._take(self.batch_rows)
            if not pending[0] and not pending[1]:
                return False
            try:
                store.insert(pending[0], pending[1])
            except Exception as exc:
                self.failures += 1
                self.last_error = f"{type(exc).__name__}"
                now = time.monotonic()
                self.failing_since = self.failing_since or now
                if stopping or now - self.failing_since > self.retry_for:
                    self._spill(pending[:2])
                    self._pending = ([], [], 0)
                    self._mark_done(pending[2])
                    continue
                return True
            self._stored(pending)

    def _stored(self, pending: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]) -> None:
        self.failing_since = None
        self._pending = ([], [], 0)
        self.written += len(pending[0])
        self.feedback_written += len(pending[1])
        self._mark_done(pending[2])
        if self.on_write is not None:
            with contextlib.suppress(Exception):
                self.on_write(len(pending[0]))

    def _flush_inline(self) -> None:
        """Group commit on the event loop (SQLite): every prediction queued during this turn
        of the loop in one transaction, no thread hand-off. Skipped when the writer thread
        is busy or holds rows it failed to write (it stores these rows too, in order); a
        failure here (a busy database: no waiting on the loop) hands the rows to it."""
        self._flush_scheduled = False
        store = self._inline_store
        if store is None or not self._write_lock.acquire(blocking=False):
            self._wake.set()
            return
        try:
            if self._pending[0] or self._pending[1] or self.failing_since is not None:
                self._wake.set()
                return
            pending = self._pending = self._take(self.batch_rows)
            if not pending[0] and not pending[1]:
                return
            try:
                store.insert(pending[0], pending[1])
            except Exception as exc:
                self.last_error = f"{type(exc).__name__} (handed to the writer thread)"
                self._wake.set()
                return
            self._stored(pending)
            if self._queue:  # more than one batch: the writer takes the rest
                self._wake.set()
        finally:
            self._write_lock.release()

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


def _release(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def _expire(future: asyncio.Future[None], limit: float) -> None:
    if not future.done():
        future.set_exception(
            NotLoggedError(
                f"the prediction log did not store the prediction within {limit:g} s, so it "
                "was not answered; check the database and /ready"
            )
        )


def _release_threadsafe(futures: list[asyncio.Future[None]]) -> None:
    """Resolve futures from the writer thread: one callback per event loop."""
    loops: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for future in futures:
        loops.setdefault(future.get_loop(), []).append(future)
    running = asyncio._get_running_loop()
    for loop, mine in loops.items():
        if loop is running:
            _release(mine)
            continue
        with contextlib.suppress(RuntimeError):  # the loop has closed
            loop.call_soon_threadsafe(_release, mine)


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
