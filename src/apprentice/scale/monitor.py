"""Drift and performance checks over a big file on Dask: the mergeable statistics of each
partition are computed on the workers (:func:`apprentice.monitor.partial.partial_check`),
merged on the client in the partitions' order, and finished into the same
:class:`~apprentice.monitor.check.MonitorResult` as the in-process check.

Each worker loads the bundle once from its directory (see :mod:`apprentice.scale.predict`).
The partitions' statistics come back one at a time, in order, and are merged as they come:
the client holds the running total and one partition's statistics (a few MB per numeric
column, the reference's bins), plus, with labels and no time column, that partition's
per-row errors until its windows of ``window_rows`` rows close.
"""

from __future__ import annotations

import time
from typing import Any

import pandas as pd

from apprentice.scale.predict import BLOCKSIZE, _bundle_key, _read_parts, _worker_bundle


def _partial(
    key: tuple[str, str],
    part: pd.DataFrame,
    policy: Any,
    time_column: str | None,
    window: str,
) -> Any:
    from apprentice.monitor.partial import partial_check
    from apprentice.monitor.profile import load_profile

    bundle = _worker_bundle(*key)
    return partial_check(
        bundle,
        part,
        profile=load_profile(bundle),
        policy=policy,
        time_column=time_column,
        window=window,
    )


def monitor_partitioned(
    bundle: Any,
    source: Any,
    *,
    client: Any,
    policy: Any = None,
    time_column: str | None = None,
    window: str = "1D",
    blocksize: int = BLOCKSIZE,
) -> Any:
    """Compare the rows of ``source`` (a CSV or Parquet path, a Dask DataFrame of raw text
    cells, or a list of pandas frames) with ``bundle``'s reference profile, partition by
    partition on the workers of ``client`` (in-process, one partition at a time, when it is
    ``None``). A worker lost mid-job raises :class:`~apprentice.errors.ClusterError`."""
    import dask

    from apprentice.monitor.partial import PartialCheck, finish, merge
    from apprentice.monitor.policy import Policy
    from apprentice.monitor.profile import load_profile
    from apprentice.scale.cluster import gather

    started = time.monotonic()
    policy = policy or Policy()
    profile = load_profile(bundle)
    key = _bundle_key(bundle)
    parts, quarantined = _read_parts(source, client, blocksize)
    tasks = [dask.delayed(_partial)(key, part, policy, time_column, window) for part in parts]
    futures: list[Any] = tasks if client is None else client.compute(tasks)
    total: PartialCheck | None = None
    try:
        for i, future in enumerate(futures):
            if client is None:
                part = future.compute(scheduler="sync")
            else:
                part = gather(client, future)
                futures[i] = None
            total = part if total is None else merge(total, part, profile)
    except BaseException:
        if client is not None:
            client.cancel([f for f in futures if f is not None])
        raise
    if total is None:
        total = PartialCheck(0, None, {}, {}, None, None, None)
    result = finish(bundle, total, profile=profile, policy=policy, started=started)
    if quarantined:
        result.notes.append(f"{quarantined:,} malformed row(s) quarantined by the reader")
    return result
