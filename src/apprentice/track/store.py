"""The MLflow tracking store: one client per tracking URI, experiments, runs and child runs.

This package is the only code that imports mlflow, and it does so inside functions: opening a
store costs a few seconds (the import, and on first use the SQLite schema), which
:meth:`Tracker.open` can spend in a background thread while other work runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apprentice.config import Settings, get_settings
from apprentice.track.errors import TrackingError
from apprentice.track.uri import (
    CHECK_TIMEOUT,
    artifact_root,
    check_uri,
    display_uri,
    resolve_uri,
    sqlite_path,
)

#: MLflow's limits (the strictest of the versions in use): parameter values are cut to this
#: length, batches are split to these sizes.
MAX_PARAM_LENGTH = 500
MAX_PARAMS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
_QUIET_LOGGERS = ("mlflow", "alembic", "alembic.runtime.migration", "sqlalchemy.engine")


@contextlib.contextmanager
def _creation_lock(db: Path | None) -> Iterator[None]:
    """An exclusive lock on ``<store>.lock`` beside a SQLite store while it is opened (and
    its schema created or migrated); nothing for a server store. The kernel releases the
    lock when a process dies, so a crash leaves no stale lock."""
    if db is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with open(db.with_name(db.name + ".lock"), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _quiet() -> None:
    """MLflow and alembic log schema migrations at INFO on stderr; apprentice prints its own.

    MLflow sets its logger's level when imported, so this runs after the import too.
    """
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")


def mlflow_message(exc: BaseException) -> str:
    """The first line of an MLflow error, without its stack of context."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message).strip().splitlines()[0][:300]


def _error_code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", "") or "")


def is_not_found(exc: BaseException) -> bool:
    return _error_code(exc) == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(exc).lower()


def git_commit(folder: str | Path | None = None) -> dict[str, Any] | None:
    """The commit checked out in ``folder`` (default: the current one) and whether the tree
    has uncommitted changes; ``None`` outside a git repository or without git."""
    cwd = str(folder) if folder is not None else None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {
        "commit": head.stdout.strip(),
        "dirty": bool(status.stdout.strip()) if status.returncode == 0 else None,
    }


@dataclass
class ChildRun:
    """One candidate model, logged as a child run of the main one."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class RunLog:
    """Everything one ``apprentice run`` logs to MLflow."""

    experiment: str
    run_name: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    #: (local file or folder, artifact folder in the run or "" for its root)
    artifacts: list[tuple[Path, str]] = field(default_factory=list)
    children: list[ChildRun] = field(default_factory=list)


@dataclass(frozen=True)
class TrackedRun:
    """Where a run was recorded."""

    uri: str
    experiment: str
    experiment_id: str
    run_id: str
    artifact_uri: str
    children: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": display_uri(self.uri),
            "experiment": self.experiment,
            "experiment_id": self.experiment_id,
            "run_id": self.run_id,
            "artifact_uri": self.artifact_uri,
            "children": list(self.children),
        }


def _param_value(value: Any) -> str:
    text = (
        value if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    )
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 3] + "..."


def _finite(metrics: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if number == number and abs(number) != float("inf"):
            out[key] = number
    return out


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Tracker:
    """A tracking store (runs) and model registry behind one URI.

    ``uri`` overrides the settings (``APPRENTICE_TRACKING_URI`` / ``MLFLOW_TRACKING_URI``);
    without either, the store is ``sqlite:///<workspace>/mlflow.db`` with its artifacts in
    ``<workspace>/mlartifacts``.
    """

    def __init__(self, uri: str | None = None, *, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.uri = resolve_uri(uri, self.settings)
        self._client: Any = None
        self._lock = threading.Lock()
        self._opening: threading.Thread | None = None
        self._open_error: BaseException | None = None
        #: :meth:`cancel` against the opening's first write to the store
        self._gate = threading.Lock()
        self._cancelled = False
        self._writing = False
        #: set while the opening may write (:meth:`hold_writes`, :meth:`allow_writes`)
        self._go = threading.Event()
        self._go.set()
        self.open_seconds: float | None = None
        db = sqlite_path(self.uri)
        #: a SQLite store that does not exist yet holds no registered model
        self.new_store = db is not None and not db.exists()

    def __repr__(self) -> str:
        return f"Tracker({display_uri(self.uri)!r})"

    @property
    def display_uri(self) -> str:
        return display_uri(self.uri)

    @property
    def opened(self) -> bool:
        """Whether MLflow's client is open (or opening) on this store."""
        return self._client is not None or self._opening is not None

    @property
    def is_local(self) -> bool:
        """Whether the store is a SQLite file on this machine."""
        return sqlite_path(self.uri) is not None

    # -- opening ------------------------------------------------------------------------------

    def check(self, *, timeout: float = CHECK_TIMEOUT) -> None:
        """Fail fast (:class:`TrackingError`) when the store cannot be reached; no mlflow import.

        An artifact root in object storage (``APPRENTICE_ARTIFACT_ROOT``) must have its bucket
        (:class:`~apprentice.errors.StorageError` otherwise)."""
        check_uri(self.uri, timeout=timeout)
        if self.settings.artifact_root:
            from apprentice.storage import check_writable

            check_writable(self.settings.artifact_root)

    def open(self, *, background: bool = False) -> Tracker:
        """Import mlflow and open the store (creating a SQLite schema on first use).

        With ``background=True`` this happens in a thread; :attr:`client` (or :meth:`wait`)
        waits for it and raises what it raised.
        """
        if self._client is not None:
            return self
        if background:
            if self._opening is None:
                self._opening = threading.Thread(
                    target=self._open_quietly, name="apprentice-tracking-open", daemon=True
                )
                self._opening.start()
            return self
        self._open()
        return self

    def wait(self) -> Tracker:
        """Wait for a background :meth:`open` and raise its error, if any."""
        self._go.set()  # the store is needed now: writes held back go ahead
        if self._opening is not None:
            self._opening.join()
        if self._open_error is not None:
            error = self._open_error
            self._open_error = None
            self._opening = None
            raise error
        return self

    def hold_writes(self) -> None:
        """A background :meth:`open` started after this imports MLflow but waits before its
        first write to the store until :meth:`allow_writes` (or :meth:`wait`, or any use of
        the store); :meth:`cancel` then stops it without a write. A command that may still
        refuse to run imports MLflow early and creates a new store only once it will run."""
        self._go.clear()

    def allow_writes(self) -> None:
        """Let a background opening held by :meth:`hold_writes` write to the store."""
        self._go.set()

    def cancel(self) -> bool:
        """Stop a background :meth:`open` before it writes to the store (creating a SQLite
        schema, say): ``True`` when nothing will be written, so a failed command need not wait
        for the thread (importing MLflow takes seconds; the thread stops after it). ``False``
        when the opening has begun writing (or is done): :meth:`wait` for it then."""
        with self._gate:
            self._cancelled = True
            writing = self._writing
        self._go.set()  # a held opening wakes up, and stops
        return not writing

    def _begin_writing(self) -> None:
        self._go.wait()
        with self._gate:
            if self._cancelled:
                raise TrackingError("the tracking store's opening was cancelled")
            self._writing = True

    def _open_quietly(self) -> None:
        try:
            self._open()
        except BaseException as exc:  # re-raised by wait()
            self._open_error = exc

    def _open(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            started = time.monotonic()
            _quiet()
            db = sqlite_path(self.uri)
            if db is not None:
                check_uri(self.uri)
            try:
                from mlflow.tracking import MlflowClient

                _quiet()
                self._begin_writing()
                # the first opening of a SQLite store creates its schema: two commands
                # started at once on a new workspace would both create it ("table
                # experiments already exists"), so the creation is one process at a time
                with _creation_lock(db):
                    client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
                    client.search_experiments(max_results=1)
                    client.search_registered_models(max_results=1)
            except ImportError as exc:  # pragma: no cover - mlflow is a dependency
                raise TrackingError(
                    f"MLflow is not installed ({exc}); pip install 'ml-apprentice'"
                ) from None
            except TrackingError:
                raise
            except Exception as exc:
                raise TrackingError(
                    f"the tracking store at {self.display_uri} cannot be opened "
                    f"({mlflow_message(exc)}); fix the URI or unset MLFLOW_TRACKING_URI and "
                    "--tracking-uri to use the workspace's own store"
                ) from None
            self._client = client
            self.open_seconds = time.monotonic() - started

    @property
    def client(self) -> Any:
        """The ``mlflow.MlflowClient`` of this store (opened on first use)."""
        if self._client is None:
            if self._opening is not None:
                self.wait()
            if self._client is None:
                self._open()
        return self._client

    # -- experiments and runs -----------------------------------------------------------------

    def experiment_id(self, name: str, *, create: bool = True) -> str | None:
        """The id of experiment ``name``, created (or restored) when needed."""
        client = self.client
        try:
            experiment = client.get_experiment_by_name(name)
            if experiment is not None:
                if experiment.lifecycle_stage == "deleted":
                    client.restore_experiment(experiment.experiment_id)
                return str(experiment.experiment_id)
            if not create:
                return None
            root = (self.settings.artifact_root or "").rstrip("/") or artifact_root(self.uri)
            location = f"{root}/{_safe(name)}" if root else None
            try:
                return str(client.create_experiment(name, artifact_location=location))
            except Exception as exc:
                if _error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise
                again = client.get_experiment_by_name(name)
                return str(again.experiment_id)
        except TrackingError:
            raise
        except Exception as exc:
            raise TrackingError(
                f"cannot use the experiment {name!r} at {self.display_uri} ({mlflow_message(exc)})"
            ) from None

    def log_run(
        self, log: RunLog, *, status: str = "FINISHED", keep_open: bool = False
    ) -> TrackedRun:
        """Record ``log`` as one MLflow run with its children; returns where it is.

        ``keep_open`` leaves the main run RUNNING, to add artifacts with :meth:`add_artifacts`
        and close it with :meth:`finish`.
        """
        from mlflow.entities import Metric, Param

        client = self.client
        experiment_id = self.experiment_id(log.experiment)
        assert experiment_id is not None
        now = int(time.time() * 1000)
        run_id = None
        try:
            run = client.create_run(
                experiment_id, run_name=log.run_name, tags=dict(log.tags), start_time=now
            )
            run_id = run.info.run_id
            self._log_batch(
                run_id,
                [Param(k, _param_value(v)) for k, v in log.params.items() if v is not None],
                [Metric(k, v, now, 0) for k, v in _finite(log.metrics).items()],
            )
            children = []
            for child in log.children:
                tags = {"mlflow.parentRunId": run_id, **child.tags}
                child_run = client.create_run(
                    experiment_id, run_name=child.name, tags=tags, start_time=now
                )
                self._log_batch(
                    child_run.info.run_id,
                    [Param(k, _param_value(v)) for k, v in child.params.items() if v is not None],
                    [Metric(k, v, now, 0) for k, v in _finite(child.metrics).items()],
                )
                client.set_terminated(child_run.info.run_id, "FINISHED")
                children.append(child_run.info.run_id)
            for local, folder in log.artifacts:
                self._upload(run_id, Path(local), folder)
            if not keep_open:
                client.set_terminated(run_id, status)
            return TrackedRun(
                uri=self.uri,
                experiment=log.experiment,
                experiment_id=experiment_id,
                run_id=run_id,
                artifact_uri=str(run.info.artifact_uri),
                children=tuple(children),
            )
        except TrackingError:
            self._fail(run_id)
            raise
        except Exception as exc:
            self._fail(run_id)
            raise TrackingError(
                f"recording the run at {self.display_uri} failed ({mlflow_message(exc)})"
            ) from None

    def _log_batch(self, run_id: str, params: list[Any], metrics: list[Any]) -> None:
        client = self.client
        for chunk in _chunks(params, MAX_PARAMS_PER_BATCH):
            client.log_batch(run_id, params=chunk)
        for chunk in _chunks(metrics, MAX_METRICS_PER_BATCH):
            client.log_batch(run_id, metrics=chunk)

    def _upload(self, run_id: str, local: Path, folder: str) -> None:
        if local.is_dir():
            self.client.log_artifacts(run_id, str(local), folder or None)
        elif local.is_file():
            self.client.log_artifact(run_id, str(local), folder or None)

    def add_artifacts(self, run_id: str, artifacts: Iterable[tuple[Path, str]]) -> None:
        try:
            for local, folder in artifacts:
                self._upload(run_id, Path(local), folder)
        except Exception as exc:
            raise TrackingError(
                f"uploading artifacts to run {run_id} failed ({mlflow_message(exc)})"
            ) from None

    def log_metrics(self, run_id: str, metrics: Mapping[str, Any]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        try:
            self._log_batch(run_id, [], [Metric(k, v, now, 0) for k, v in _finite(metrics).items()])
        except Exception as exc:
            raise TrackingError(
                f"logging metrics to run {run_id} failed ({mlflow_message(exc)})"
            ) from None

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_tag(run_id, key, value)

    def finish(self, run_id: str, status: str = "FINISHED") -> None:
        try:
            self.client.set_terminated(run_id, status)
        except Exception as exc:
            raise TrackingError(f"closing run {run_id} failed ({mlflow_message(exc)})") from None

    def _fail(self, run_id: str | None) -> None:
        if run_id is None:
            return
        with contextlib.suppress(Exception):  # the original error matters more
            self.client.set_terminated(run_id, "FAILED")

    def get_run(self, run_id: str) -> Any:
        try:
            return self.client.get_run(run_id)
        except Exception as exc:
            if is_not_found(exc):
                return None
            raise TrackingError(
                f"cannot read run {run_id} at {self.display_uri} ({mlflow_message(exc)})"
            ) from None

    def run_url(self, tracked: TrackedRun) -> str | None:
        """The run's page on an MLflow server (``None`` for a local store)."""
        if not self.uri.startswith(("http://", "https://")):
            return None
        base = self.uri.rstrip("/")
        return f"{base}/#/experiments/{tracked.experiment_id}/runs/{tracked.run_id}"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "experiment"
