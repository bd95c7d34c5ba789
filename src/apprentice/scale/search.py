"""The model search on Dask: every cross-validation fold of a candidate is a task on a worker.

:class:`DaskFoldRunner` is a :class:`apprentice.learn.search.FoldRunner`. The search itself
(the portfolio, Optuna's ask and tell, the ensemble, the final refit) stays in the client
process; only the fold fits, which are where the time goes, run on the workers:

* the training frame, its labels and the folds are scattered once to every worker
  (``client.scatter(..., broadcast=True)``);
* each fold fit is a task; a candidate's folds run side by side on the workers;
* the feature pipeline of a (view, fold) is fitted on the worker the first time a task needs
  it and kept there for the rest of the search (keyed by a token of the scattered data), so
  it is not fitted again for every candidate; fold i prefers the same worker every time;
* the budget is passed as *seconds left*, never as a clock reading (clocks differ between
  machines): each task turns its share into a deadline on its own clock, and the client
  stops waiting at the search's deadline, so tasks still running then are cancelled and
  their folds count as not run, as in-process;
* a fit uses one thread (a worker with T threads runs T folds at once): parallelism is never
  nested;
* a worker that dies mid-search fails the search with a :class:`ClusterError` (through
  :func:`apprentice.scale.gather`), never a partial result presented as complete.

With ``time_budget=None`` the cluster search gives the same candidates, fold scores and
models as the in-process one: the same code fits the same folds with the same seeds (with one
thread per fit in-process, ``n_jobs=1``, bit for bit; with more, LightGBM's multi-threaded
sums may differ in the last digits).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from apprentice.errors import ClusterError

if TYPE_CHECKING:
    from distributed import Client, Future

    from apprentice.learn.models import ModelConfig
    from apprentice.learn.search import FoldData, FoldOutcome

#: the most recent searches whose pipelines a worker keeps (older ones are dropped)
_KEPT_SEARCHES = 2
_CACHE_LOCK = threading.Lock()
_CACHE: dict[str, dict[tuple[str, int], tuple[Any, Any, list[int], float]]] = {}


def _where() -> str:
    try:
        from distributed import get_worker

        return f"{get_worker().address} pid {os.getpid()}"
    except (ImportError, ValueError):  # not on a worker (a test calling the task directly)
        return f"pid {os.getpid()}"


def _matrices(data: FoldData, token: str, view: str, i: int) -> tuple[Any, Any, list[int], float]:
    """The (view, fold) matrices, fitted on this worker once per search."""
    from apprentice.learn.search import fold_matrices

    with _CACHE_LOCK:
        entry = _CACHE.get(token, {}).get((view, i))
    if entry is not None:
        return entry
    entry = fold_matrices(data, view, i)
    with _CACHE_LOCK:
        if token not in _CACHE:
            while len(_CACHE) >= _KEPT_SEARCHES:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[token] = {}
        _CACHE[token][(view, i)] = entry
    return entry


def _fit_fold_task(
    data: FoldData,
    token: str,
    config: ModelConfig,
    i: int,
    seconds: float | None,
    n_threads: int,
) -> FoldOutcome:
    """One fold on a worker: ``seconds`` (or no limit) from the moment it starts."""
    from apprentice.learn.search import FoldOutcome, fit_fold

    deadline = None if seconds is None else time.monotonic() + seconds
    where = _where()
    try:
        Xtr, Xva, cats, pipeline_seconds = _matrices(data, token, config.view, i)
        outcome = fit_fold(
            data, config, i, (Xtr, Xva, cats), deadline=deadline, n_threads=n_threads
        )
    except Exception as exc:  # a candidate failing must not end the search
        return FoldOutcome(
            fold=i,
            status="failed",
            error=f"{type(exc).__name__}: {str(exc)[:120]}",
            where=where,
        )
    outcome.pipeline_seconds = pipeline_seconds
    outcome.where = where
    return outcome


def _forget(token: str) -> None:
    with _CACHE_LOCK:
        _CACHE.pop(token, None)


def _warm() -> None:
    """Import what the fold fits need, so the first candidate's time is not import time."""
    import apprentice.learn.features
    import apprentice.learn.models  # noqa: F401


class DaskFoldRunner:
    """Fit the search's cross-validation folds as tasks on the workers of ``client``.

    ``label`` names the cluster in the run's record (e.g. ``local:2``); the default is the
    scheduler's address. Creating the runner prepares the workers (imports the learners
    there, as starting the cluster would), so that this is not counted against a search's
    budget. :attr:`tasks` lists, for every fold fitted, the candidate, the fold
    and the worker (address and process id) that fitted it.
    """

    def __init__(self, client: Client, *, label: str | None = None) -> None:
        self.client = client
        self.label = label
        self.parallelism = 1
        self.workers = 0
        self.tasks: list[dict[str, Any]] = []
        self._addresses: list[str] = []
        self._data: Future | None = None
        self._token = ""
        self._cancelled = 0
        try:
            self.client.run(_warm)
        except Exception as exc:
            raise ClusterError(
                "the Dask workers could not load apprentice's learners "
                f"({type(exc).__name__}: {str(exc)[:120]}); install the same ml-apprentice "
                "on every worker"
            ) from None

    # -- the FoldRunner protocol

    def start(self, data: FoldData) -> None:
        self._refresh_workers()
        try:
            self._data = self.client.scatter(data, broadcast=True, hash=False)
        except Exception as exc:
            raise ClusterError(
                f"could not send the training data to the Dask workers ({type(exc).__name__}: "
                f"{str(exc)[:120]}); check that the workers are running and have the memory "
                "for it"
            ) from None
        self._token = uuid.uuid4().hex

    def finish(self) -> None:
        token, self._token = self._token, ""
        if self._data is not None:
            self._data.release()
            self._data = None
        if token:
            # a worker gone at the end: its cache went with it
            with contextlib.suppress(Exception):
                self.client.run(_forget, token)

    def describe(self) -> dict[str, Any]:
        used = sorted({t["where"] for t in self.tasks})
        address = self.label or str(getattr(self.client.scheduler, "address", "") or "")
        return {
            "runner": "dask",
            "address": address,
            "workers": self.workers,
            "threads": self.parallelism,
            "fold_tasks": len(self.tasks),
            "worker_processes_used": len(used),
            "cancelled_at_deadline": self._cancelled,
        }

    def run(
        self, config: ModelConfig, folds: Sequence[int], seconds_left: float | None
    ) -> list[FoldOutcome]:
        from apprentice.learn.models import INTERRUPTIBLE
        from apprentice.learn.search import FoldOutcome, fold_share
        from apprentice.scale.cluster import gather

        if self._data is None:
            raise RuntimeError("start() first")
        folds = list(folds)
        if not folds:
            return []
        if seconds_left is not None and seconds_left <= 0:
            return [FoldOutcome(fold=folds[0], status="timeout")]
        waves = math.ceil(len(folds) / max(self.parallelism, 1))
        seconds: float | None = seconds_left
        if seconds_left is not None and config.family in INTERRUPTIBLE:
            seconds = fold_share(config.family, seconds_left, waves)
        threads = max(1, self.parallelism // len(folds)) if self.workers == 1 else 1
        submitted = time.monotonic()
        futures = [
            self.client.submit(
                _fit_fold_task,
                self._data,
                self._token,
                config,
                i,
                seconds,
                threads,
                key=f"apprentice-fold-{config.name}-{i}-{uuid.uuid4().hex[:8]}",
                pure=False,
                # fold i prefers the same worker every time: its pipelines are cached there
                workers=[self._addresses[i % len(self._addresses)]],
                allow_other_workers=True,
            )
            for i in folds
        ]
        timeout = None if seconds_left is None else seconds_left + 0.5 + 0.02 * seconds_left
        self._wait(futures, timeout)
        done = [(i, f) for i, f in zip(folds, futures, strict=True) if f.done()]
        late = [f for f in futures if not f.done()]
        if late:  # still running at the search's deadline: cancelled, their folds not run
            self._cancelled += len(late)
            self.client.cancel(late)
        results: dict[int, FoldOutcome] = {}
        if done:
            outcomes = gather(self.client, [f for _, f in done])
            results = {i: outcome for (i, _), outcome in zip(done, outcomes, strict=True)}
        out: list[FoldOutcome] = []
        for i in folds:
            outcome = results.get(i)
            if outcome is None:
                out.append(FoldOutcome(fold=i, status="timeout"))
                break
            self.tasks.append(
                {
                    "candidate": config.name,
                    "fold": i,
                    "where": outcome.where,
                    "status": outcome.status,
                    "seconds": round(time.monotonic() - submitted, 3),
                }
            )
            out.append(outcome)
            if outcome.status != "ok":
                break
        return out

    # -- helpers

    def _refresh_workers(self) -> None:
        try:
            info = self.client.scheduler_info()
        except Exception as exc:
            raise ClusterError(
                f"lost the Dask scheduler ({type(exc).__name__}); check that it is running"
            ) from None
        workers = info.get("workers", {})
        if not workers:
            raise ClusterError(
                "the Dask cluster has no workers; start one with `dask worker ADDRESS`"
            )
        self.workers = len(workers)
        self._addresses = sorted(workers)
        self.parallelism = max(1, sum(int(w.get("nthreads", 1) or 1) for w in workers.values()))

    def _wait(self, futures: list[Future], timeout: float | None) -> None:
        from distributed import wait

        # at the search's deadline, what is not done by now is cancelled
        with contextlib.suppress(TimeoutError):
            wait(futures, timeout=timeout)
