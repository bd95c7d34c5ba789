"""Where runs and models are recorded, and whether that place can be reached.

Nothing here imports mlflow: the reachability check of a remote tracking server is a plain
HTTP request with a short timeout, so an unreachable URI fails in a second or so, before any
training starts.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from apprentice.config import Settings, get_settings
from apprentice.track.errors import TrackingError

DB_NAME = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
CHECK_TIMEOUT = 5.0
_SQL_SCHEMES = ("postgresql", "mysql", "mssql")


def default_uri(workspace: str | Path) -> str:
    """The embedded store: ``sqlite:///<workspace>/mlflow.db`` (absolute path)."""
    return f"sqlite:///{(Path(workspace).expanduser().resolve() / DB_NAME).as_posix()}"


def scheme_of(uri: str) -> str:
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    return scheme.split("+", 1)[0]


def resolve_uri(uri: str | None = None, settings: Settings | None = None) -> str:
    """The tracking URI to use: ``uri``, else the settings' (``APPRENTICE_TRACKING_URI`` or
    ``MLFLOW_TRACKING_URI``), else the workspace's SQLite store.

    A path to a ``.db`` file becomes a SQLite URI; other bare paths are refused (MLflow's
    file store is deprecated).
    """
    settings = settings or get_settings()
    chosen = (uri or "").strip() or (settings.tracking_uri or "").strip()
    if not chosen:
        return default_uri(settings.workspace)
    scheme = scheme_of(chosen)
    if scheme in ("http", "https", "sqlite", "file", "databricks", "databricks-uc"):
        return chosen
    if scheme in _SQL_SCHEMES:
        return chosen
    if scheme == "" and chosen.endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{Path(chosen).expanduser().resolve().as_posix()}"
    raise TrackingError(
        f"the tracking URI {chosen!r} is not understood; use http(s)://HOST:PORT for an MLflow "
        "server, sqlite:///PATH.db or postgresql://... for a database, or unset "
        "MLFLOW_TRACKING_URI and --tracking-uri for the workspace's own store"
    )


def sqlite_path(uri: str) -> Path | None:
    """The database file of a SQLite URI (``None`` for other URIs or ``:memory:``).

    As in SQLAlchemy, ``sqlite:///rel.db`` is relative to the current folder and
    ``sqlite:////abs/path.db`` is absolute.
    """
    if scheme_of(uri) != "sqlite" or "://" not in uri:
        return None
    rest = uri.split("://", 1)[1].split("?", 1)[0]
    if not rest.startswith("/"):
        return None
    path = rest[1:]
    if path in ("", ":memory:"):
        return None
    return Path(path).resolve()


def artifact_root(uri: str) -> str | None:
    """Where a SQLite store keeps its artifacts (``mlartifacts`` beside the database), as a
    ``file://`` URI; ``None`` where the server or MLflow decides."""
    db = sqlite_path(uri)
    if db is None:
        return None
    return (db.parent / ARTIFACTS_DIR).resolve().as_uri()


def display_uri(uri: str) -> str:
    """The URI without a password, for messages and records."""
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}:***@{netloc}"
    if parts.port:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _auth_headers() -> dict[str, str]:
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        raw = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {raw}"}
    return {}


def _check_http(uri: str, timeout: float) -> None:
    shown = display_uri(uri)
    url = uri.rstrip("/") + "/api/2.0/mlflow/experiments/search"
    body = json.dumps({"max_results": 1}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **_auth_headers()},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(4096)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise TrackingError(
                f"the tracking server at {shown} refused the request (HTTP {exc.code}); set "
                "MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
            ) from None
        if exc.code == 404:
            raise TrackingError(
                f"{shown} answered but is not an MLflow tracking server (no "
                "/api/2.0/mlflow/experiments/search); check the tracking URI"
            ) from None
        raise TrackingError(
            f"the tracking server at {shown} answered HTTP {exc.code}; check the server, or "
            "unset MLFLOW_TRACKING_URI and --tracking-uri to use the workspace's own store"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            what = f"did not answer within {timeout:g} s"
        else:
            what = f"cannot be reached ({reason})"
        raise TrackingError(
            f"the tracking server at {shown} {what}; start it or fix the URI, or unset "
            "MLFLOW_TRACKING_URI and --tracking-uri to use the workspace's own store"
        ) from None


def _check_sqlite(uri: str) -> None:
    db = sqlite_path(uri)
    if db is None:
        raise TrackingError(
            f"the tracking URI {uri!r} names no database file; use sqlite:///ABSOLUTE/PATH.db"
        )
    if db.exists() and not db.is_file():
        raise TrackingError(f"the tracking database {db} is not a file; choose another path")
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrackingError(
            f"cannot create the folder of the tracking database {db} ({exc.strerror}); choose "
            "a writable workspace (APPRENTICE_WORKSPACE) or tracking URI"
        ) from None
    target = db if db.exists() else db.parent
    if not os.access(target, os.W_OK):
        raise TrackingError(
            f"the tracking database {db} is not writable; choose a writable workspace "
            "(APPRENTICE_WORKSPACE) or tracking URI"
        )


def _check_sql(uri: str, timeout: float) -> None:
    import sqlalchemy

    shown = display_uri(uri)
    scheme = scheme_of(uri)
    connect_args = {"connect_timeout": max(1, round(timeout))} if scheme != "mssql" else {}
    try:
        engine = sqlalchemy.create_engine(uri, connect_args=connect_args)
    except (ImportError, ModuleNotFoundError) as exc:
        raise TrackingError(
            f"the database driver for {scheme} is not installed ({exc}); install it, e.g. "
            "pip install 'ml-apprentice[postgres]'"
        ) from None
    except Exception as exc:
        raise TrackingError(
            f"the tracking URI {shown} is not a valid database URL ({exc})"
        ) from None
    try:
        with engine.connect():
            pass
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrackingError(
            f"the tracking database at {shown} cannot be reached ({first}); start it or fix "
            "the URI, or unset MLFLOW_TRACKING_URI and --tracking-uri"
        ) from None
    finally:
        engine.dispose()


def check_uri(uri: str, *, timeout: float = CHECK_TIMEOUT) -> None:
    """Raise :class:`TrackingError` unless the tracking store at ``uri`` can be used.

    HTTP servers get one request (``timeout`` seconds at most); a SQLite store's folder must
    be writable; a database server must accept a connection. Other schemes are left to MLflow.
    """
    scheme = scheme_of(uri)
    if scheme in ("http", "https"):
        _check_http(uri, timeout)
    elif scheme == "sqlite":
        _check_sqlite(uri)
    elif scheme in _SQL_SCHEMES:
        _check_sql(uri, timeout)
