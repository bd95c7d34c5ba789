"""Reading the registry of a local SQLite store without importing MLflow.

Importing mlflow costs seconds on one core (about 5.7 s measured), which made ``models list``,
``models show`` and ``predict NAME`` take 10 to 18 s although they only read a few rows. For the
embedded store (``sqlite:///<workspace>/mlflow.db``) this module reads those rows with the
standard library's ``sqlite3``, read-only, from the tables MLflow's SQL store keeps
(``registered_models``, ``model_versions``, their tags and ``registered_model_aliases``), with
MLflow's own rules: soft-deleted versions (stage ``Deleted_Internal``) are not versions, and the
latest version is the highest live one.

Nothing is written, and no schema is guessed: when a table or column this reader needs is
absent (a store MLflow has not created yet, or a schema from another MLflow version), the
reader says so (``None``) and the caller uses the MLflow client. Writing (register, promote)
always goes through MLflow.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from apprentice.track.errors import TrackingError

log = logging.getLogger(__name__)

DELETED = "Deleted_Internal"
DEFAULT_WORKSPACE = "default"
_NEEDED: dict[str, tuple[str, ...]] = {
    "registered_models": ("name", "creation_time", "last_updated_time", "description"),
    "model_versions": (
        "name",
        "version",
        "creation_time",
        "description",
        "current_stage",
        "source",
        "run_id",
    ),
    "registered_model_tags": ("name", "key", "value"),
    "model_version_tags": ("name", "version", "key", "value"),
    "registered_model_aliases": ("name", "alias", "version"),
}


def stamp(ms: int | None) -> str | None:
    """An MLflow millisecond timestamp as ISO 8601 (UTC, seconds)."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


@contextmanager
def _connect(db: Path) -> Iterator[sqlite3.Connection]:
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        raise TrackingError(f"cannot open the registry at {db} ({exc})") from None
    try:
        yield con
    finally:
        con.close()


class SqliteRegistry:
    """Read-only view of the registry tables of one MLflow SQLite store.

    :meth:`open` returns ``None`` when the file's schema is not one this reader knows; the
    rows come back as plain tuples and dicts that :mod:`apprentice.track.registry` turns into
    its records.
    """

    def __init__(self, db: Path, workspace_column: bool) -> None:
        self.db = db
        self._workspace = workspace_column

    @classmethod
    def open(cls, db: Path) -> SqliteRegistry | None:
        if not db.is_file():
            return None
        try:
            with _connect(db) as con:
                columns: dict[str, set[str]] = {}
                for table in _NEEDED:
                    rows = con.execute(f"PRAGMA table_info({table})").fetchall()
                    columns[table] = {str(r[1]) for r in rows}
        except (sqlite3.Error, TrackingError) as exc:
            log.debug("registry fast path off for %s: %s", db, exc)
            return None
        for table, needed in _NEEDED.items():
            missing = [c for c in needed if c not in columns[table]]
            if missing:
                log.debug("registry fast path off: %s lacks %s", table, missing)
                return None
        workspace = all("workspace" in columns[t] for t in _NEEDED)
        return cls(db, workspace)

    def _where(self, alias: str = "") -> tuple[str, tuple[str, ...]]:
        if not self._workspace:
            return "1=1", ()
        prefix = f"{alias}." if alias else ""
        return f"{prefix}workspace = ?", (DEFAULT_WORKSPACE,)

    def _query(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        try:
            with _connect(self.db) as con:
                return con.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise TrackingError(f"cannot read the registry at {self.db} ({exc})") from None

    def models(self, name: str | None = None) -> list[dict[str, object]]:
        """Registered models (one, or all), each with its tags, aliases and latest version."""
        where, base = self._where()
        args: tuple[object, ...] = base
        sql = (
            "SELECT name, creation_time, last_updated_time, description "
            f"FROM registered_models WHERE {where}"
        )
        if name is not None:
            sql += " AND name = ?"
            args = (*args, name)
        out: list[dict[str, object]] = []
        for model_name, created, updated, description in self._query(sql, args):
            out.append(
                {
                    "name": str(model_name),
                    "created": created,
                    "updated": updated,
                    "description": description or "",
                    "tags": self._pairs("registered_model_tags", str(model_name)),
                    "aliases": self.aliases(str(model_name)),
                    "latest": self._latest(str(model_name)),
                }
            )
        return out

    def _pairs(self, table: str, name: str, version: int | None = None) -> dict[str, str]:
        where, base = self._where()
        sql = f"SELECT key, value FROM {table} WHERE {where} AND name = ?"
        args: tuple[object, ...] = (*base, name)
        if version is not None:
            sql += " AND version = ?"
            args = (*args, version)
        return {str(k): "" if v is None else str(v) for k, v in self._query(sql, args)}

    def aliases(self, name: str) -> dict[str, int]:
        where, args = self._where()
        rows = self._query(
            f"SELECT alias, version FROM registered_model_aliases WHERE {where} AND name = ?",
            (*args, name),
        )
        return {str(a): int(str(v)) for a, v in rows}

    def _latest(self, name: str) -> int | None:
        where, args = self._where()
        rows = self._query(
            f"SELECT MAX(version) FROM model_versions WHERE {where} AND name = ? "
            "AND current_stage != ?",
            (*args, name, DELETED),
        )
        value = rows[0][0] if rows else None
        return None if value is None else int(str(value))

    def versions(self, name: str) -> list[dict[str, object]]:
        """The live versions of ``name``, oldest first, each with its tags."""
        where, args = self._where()
        rows = self._query(
            "SELECT version, creation_time, description, source, run_id FROM model_versions "
            f"WHERE {where} AND name = ? AND current_stage != ? ORDER BY version",
            (*args, name, DELETED),
        )
        return [
            {
                "version": int(str(version)),
                "created": created,
                "description": description or "",
                "source": "" if source is None else str(source),
                "run_id": None if not run_id else str(run_id),
                "tags": self._pairs("model_version_tags", name, int(str(version))),
            }
            for version, created, description, source, run_id in rows
        ]
