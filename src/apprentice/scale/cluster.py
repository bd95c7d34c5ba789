"""Where a job runs: in-process (the default), a LocalCluster, or an existing Dask cluster.

``--dask local`` starts a :class:`distributed.LocalCluster` with one single-threaded worker
process per CPU (``local:N`` for N workers); ``--dask tcp://HOST:8786`` connects to a
running scheduler. ``APPRENTICE_DASK_ADDRESS`` sets the same for every command. Nothing here
distributes work by itself: Dask's scheduler and workers do, this module only opens the
connection and turns what can go wrong into :class:`~apprentice.errors.ClusterError` with a
message that says what to do:

* an unreachable scheduler (connection refused, wrong host, timeout);
* a scheduler with no workers;
* client and workers running different versions of the libraries a job depends on (a model
  pickled by one LightGBM and read by another, or a worker without apprentice at all);
* a worker that dies mid-job: Dask re-runs its tasks elsewhere up to
  ``distributed.scheduler.allowed-failures`` times, then the job fails as a whole
  (:func:`gather` and :func:`compute`), never returning a partial result as complete.

Worker processes get ``OMP_NUM_THREADS=1`` (and the BLAS equivalents) and one thread each,
so that N workers use N cores and never nest parallelism.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from apprentice.config import Settings, get_settings
from apprentice.errors import ClusterError

if TYPE_CHECKING:
    from distributed import Client

#: Packages whose versions must agree between the client and every worker.
CHECKED_PACKAGES = (
    "apprentice",
    "python",
    "dask",
    "distributed",
    "pandas",
    "numpy",
    "pyarrow",
    "scikit-learn",
    "lightgbm",
)
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "APPRENTICE_THREADS": "1",
}
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ClusterSpec:
    """A parsed ``--dask`` value: ``local`` with a worker count, or a scheduler address."""

    kind: str  # "local" or "remote"
    workers: int | None = None
    address: str | None = None

    def describe(self) -> str:
        if self.kind == "local":
            return f"a local Dask cluster of {self.workers} worker processes"
        return f"the Dask scheduler at {self.address}"


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_address(spec: str) -> ClusterSpec:
    """``local``, ``local:N``, ``tcp://HOST:PORT`` (also ``tls://``, ``ws://``, ``HOST:PORT``)."""
    text = spec.strip()
    if not text:
        raise ClusterError("--dask is empty; give local, local:N or tcp://HOST:8786")
    if text == "local" or text.startswith("local:"):
        count = text.partition(":")[2]
        if not count:
            return ClusterSpec("local", workers=default_workers())
        if not count.isdigit() or int(count) < 1:
            raise ClusterError(
                f"--dask {text!r}: the worker count must be a whole number >= 1, e.g. local:2"
            )
        return ClusterSpec("local", workers=int(count))
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx"):
        raise ClusterError(
            f"--dask {text!r}: unknown scheme {scheme!r}; give local, local:N or tcp://HOST:8786"
        )
    host, colon, port = rest.rpartition(":")
    if scheme != "inproc" and (not colon or not host or not port.isdigit()):
        raise ClusterError(
            f"--dask {text!r} is not a scheduler address; give tcp://HOST:PORT "
            "(the port `dask scheduler` prints, 8786 by default)"
        )
    return ClusterSpec("remote", address=f"{scheme}://{rest}")


def resolve_address(dask: str | None, settings: Settings | None = None) -> str | None:
    """The ``--dask`` value if given, else ``APPRENTICE_DASK_ADDRESS``, else None (in-process)."""
    if dask is not None and dask.strip():
        return dask.strip()
    address = (settings or get_settings()).dask_address
    return address.strip() if address and address.strip() else None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the install
        raise ClusterError(
            "running on Dask needs the dask extra: pip install 'ml-apprentice[dask]'"
        ) from None
    return distributed


def _worker_environment() -> None:
    """Thread limits for worker processes started by a LocalCluster."""
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    environ.update(THREAD_ENV)
    dask.config.set({"distributed.nanny.pre-spawn-environ": environ})


def _apprentice_version() -> str:
    from apprentice._version import __version__

    return __version__


def check_versions(client: Client, packages: Sequence[str] = CHECKED_PACKAGES) -> None:
    """Raise :class:`ClusterError` when a worker runs other versions than this client."""
    try:
        versions = cast(dict[str, Any], client.get_versions(check=False))
    except Exception as exc:
        raise ClusterError(f"could not ask the Dask workers for their versions: {exc}") from None
    try:
        remote_apprentice = cast(dict[str, str], client.run(_apprentice_version))
    except Exception as exc:
        raise ClusterError(
            "the Dask workers cannot import apprentice "
            f"({type(exc).__name__}: {str(exc)[:120]}); install ml-apprentice "
            f"{_apprentice_version()} on every worker"
        ) from None
    mine = dict(versions["client"]["packages"])
    mine["apprentice"] = _apprentice_version()
    theirs: dict[str, dict[str, str | None]] = {}
    for worker, info in versions.get("workers", {}).items():
        packages_of = dict(info.get("packages", {}))
        packages_of["apprentice"] = remote_apprentice.get(worker)
        theirs[worker] = packages_of
    wrong: list[str] = []
    for package in packages:
        local = mine.get(package)
        if local is None:
            continue
        differing = sorted(
            {str(info.get(package)) for info in theirs.values() if info.get(package) != local}
        )
        if differing:
            wrong.append(f"{package} {local} here, {', '.join(differing)} on the workers")
    if wrong:
        raise ClusterError(
            "the Dask workers run other versions than this client: "
            + "; ".join(wrong)
            + ". Install the same versions on every worker (pip install the same "
            "ml-apprentice and its pinned dependencies) and start the workers again"
        )


@contextmanager
def connect(
    address: str | None,
    *,
    timeout: float = CONNECT_TIMEOUT,
    memory_limit: str | None = "auto",
    check: bool = True,
) -> Iterator[Client | None]:
    """A Dask client for ``address`` (see :func:`parse_address`), or None for in-process.

    A LocalCluster lives as long as the ``with`` block; a remote cluster is only connected to.
    """
    if address is None:
        yield None
        return
    spec = parse_address(address)
    distributed = _import_distributed()
    cluster = None
    if spec.kind == "local":
        _worker_environment()
        try:
            cluster = distributed.LocalCluster(
                n_workers=spec.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # a free port: never collide with a running 8787
                memory_limit=memory_limit,
                silence_logs=logging.ERROR,
            )
            client = distributed.Client(cluster, timeout=timeout)
        except Exception as exc:
            if cluster is not None:
                cluster.close()
            raise ClusterError(f"could not start {spec.describe()}: {exc}") from None
    else:
        try:
            client = distributed.Client(spec.address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"could not reach the Dask scheduler at {spec.address} within {timeout:g} s "
                f"({type(exc).__name__}); start it with `dask scheduler` and one or more "
                "`dask worker ADDRESS`, or check the host and port"
            ) from None
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except (TimeoutError, OSError):
            raise ClusterError(
                f"{spec.describe()} has no workers after {timeout:g} s; "
                f"start one with `dask worker {spec.address or ''}`".rstrip()
            ) from None
        if check:
            check_versions(client)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _failure(exc: BaseException) -> ClusterError | None:
    from distributed.scheduler import KilledWorker

    if isinstance(exc, KilledWorker):
        return ClusterError(
            "a Dask worker died while running this job (out of memory, or killed) and "
            "its tasks failed on every retry; nothing was written. Give the workers more "
            "memory (--dask local:N with fewer workers, or `dask worker --memory-limit`) "
            "or smaller partitions, and run the job again"
        )
    name = type(exc).__name__
    if name in ("CommClosedError", "StreamClosedError") or isinstance(exc, OSError):
        return ClusterError(
            f"the connection to the Dask cluster was lost mid-job ({name}); nothing was "
            "written. Check that the scheduler is still running and run the job again"
        )
    if name == "CancelledError" or name == "FutureCancelledError":
        return ClusterError(
            "the Dask cluster cancelled this job's tasks (the scheduler restarted or the "
            "client was disconnected); nothing was written. Run the job again"
        )
    return None


def gather(client: Client, futures: Any) -> Any:
    """``client.gather`` where a lost worker or connection becomes a :class:`ClusterError`."""
    try:
        return client.gather(futures)
    except Exception as exc:
        error = _failure(exc)
        if error is None:
            raise
        raise error from None


def compute(client: Client, *collections: Any) -> Any:
    """Compute Dask collections on ``client``; a lost worker becomes a :class:`ClusterError`."""
    try:
        futures = client.compute(list(collections))
        return gather(client, futures)
    except ClusterError:
        raise
    except Exception as exc:
        error = _failure(exc)
        if error is None:
            raise
        raise error from None
