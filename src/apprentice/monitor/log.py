"""Current rows from the server's prediction log (SQLite or PostgreSQL, through SQLAlchemy).

Each logged prediction gives back the raw request fields (``inputs``, already PII-protected
by the server), its time (``__logged_at``), its latency (``__latency_ms``) and, when
``/feedback`` sent one, the actual value in the target column.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from apprentice.errors import ConfigError, DatabaseError

_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_ROWS = 2_000_000


def parse_period(text: str) -> timedelta:
    match = _PERIOD.match(text)
    if not match:
        raise ConfigError(f"--since {text!r} is not a period; write e.g. 30m, 12h, 7d or 2w")
    return timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})


def _url(db_url: str | None) -> str:
    if db_url:
        return db_url
    from apprentice.config import get_settings

    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    path = settings.workspace.expanduser().resolve() / "predictions.sqlite"
    return f"sqlite:///{path}"


def _query(url: str, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    import sqlalchemy as sa

    if url.startswith("sqlite:///"):
        from pathlib import Path

        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise DatabaseError(f"no prediction log at {path}; start apprentice serve first")
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            frame = pd.read_sql_query(sa.text(sql), conn, params=params)
        engine.dispose()
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(
            f"the prediction log could not be read ({type(exc).__name__}); check --db-url"
        ) from None
    return frame


def log_rows(
    db_url: str | None, since: timedelta | None = None, *, max_rows: int = MAX_ROWS
) -> pd.DataFrame:
    """Logged predictions (the newest ``max_rows``) joined with their latest feedback."""
    url = _url(db_url)
    cutoff = datetime.now(UTC) - since if since is not None else datetime(1970, 1, 1, tzinfo=UTC)
    bound: Any = cutoff.isoformat(timespec="microseconds") if url.startswith("sqlite") else cutoff
    sql = (
        "SELECT p.created_at, p.inputs, p.prediction, p.probabilities, p.latency_ms, "
        "f.actual FROM predictions p LEFT JOIN (SELECT request_id, MAX(actual) AS actual "
        "FROM feedback GROUP BY request_id) f ON f.request_id = p.request_id "
        f"WHERE p.created_at >= :cutoff ORDER BY p.created_at DESC LIMIT {int(max_rows)}"
    )
    frame = _query(url, sql, {"cutoff": bound})
    return frame.iloc[::-1].reset_index(drop=True)


def feedback_count(db_url: str | None, since: datetime) -> int:
    """How many feedback rows (labels) the log received after ``since``."""
    url = _url(db_url)
    bound: Any = since.isoformat(timespec="microseconds") if url.startswith("sqlite") else since
    frame = _query(url, "SELECT COUNT(*) AS n FROM feedback WHERE created_at > :cutoff",
                   {"cutoff": bound})  # fmt: skip
    return int(frame["n"].iloc[0]) if len(frame) else 0


def read_log(db_url: str | None, since: str, bundle: Any) -> pd.DataFrame:
    """Raw current rows of the last ``since`` period, in the bundle's input columns."""
    frame = log_rows(db_url, parse_period(since))
    if frame.empty:
        raise DatabaseError(f"the prediction log holds no prediction in the last {since}")
    return log_frame(frame, bundle)


def log_frame(frame: pd.DataFrame, bundle: Any) -> pd.DataFrame:
    """Logged rows (:func:`log_rows`) as raw request rows with time, latency and label."""
    records = [json.loads(v) if isinstance(v, str) else {} for v in frame["inputs"]]
    rows = pd.DataFrame.from_records(records)
    rows = rows.astype(object).where(rows.notna(), None)
    rows["__logged_at"] = pd.to_datetime(frame["created_at"], utc=True, format="mixed")
    rows["__latency_ms"] = frame["latency_ms"].to_numpy()
    if bundle.target is not None and frame["actual"].notna().any():
        actual = [json.loads(v) if isinstance(v, str) else None for v in frame["actual"]]
        rows[bundle.target] = pd.Series(actual, dtype=object).map(
            lambda v: None if v is None else str(v)
        )
    return rows


#: upper edges (ms) of the latency buckets of ``prediction_windows`` (the last is open)
LATENCY_EDGES = (0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 200, 500, 1000, 5000)


def read_windows(
    url: str, since: datetime | None = None, *, hourly: bool = False
) -> list[tuple[str, str, int, int]]:
    """The dashboard's aggregates: (minute ``YYYY-MM-DDTHH:MM`` in UTC, model version,
    latency bucket (index into :data:`LATENCY_EDGES`, ``len`` for the open one), count);
    ``hourly``: summed per hour in the database (minute ``HH:00``)."""
    from sqlalchemy import create_engine, text

    # (the backslash keeps text() from reading ":00" as a parameter)
    window = "substr(window_start, 1, 13) || '\\:00'" if hourly else "window_start"
    query = f"SELECT {window} AS w, model_version, bucket, SUM(n) FROM prediction_windows"
    params: dict[str, Any] = {}
    if since is not None:
        query += " WHERE window_start >= :since"
        params["since"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    query += " GROUP BY 1, 2, 3 ORDER BY 1"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                (str(r[0]), str(r[1]), int(r[2]), int(r[3]))
                for r in conn.execute(text(query), params)
            ]
    finally:
        engine.dispose()
