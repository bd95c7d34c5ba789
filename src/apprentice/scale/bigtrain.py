"""``train --dask`` on a file of any size: the search on a sample, then every row on Dask.

A file whose rows fit the sample (``sample_rows``) is trained exactly as in-process, with the
search's folds fitted on the workers (:func:`~apprentice.scale.train.train_on_cluster`): the
same model, the same holdout, the same report. A bigger file is never loaded whole:

1. it is read in partitions on the workers (:func:`~apprentice.scale.read_partitioned`);
2. a sample of ``sample_rows`` raw rows, drawn from every partition in proportion to its rows,
   is the **template** run: the normal search (folds on the workers, ``time_budget`` for the
   search) learns the cleaning recipe, the feature pipeline and the LightGBM configuration;
3. every row is cleaned with the template's recipe partition by partition and LightGBM's Dask
   estimator trains the template's configuration on all training rows
   (:func:`~apprentice.scale.train_lightgbm_on_dask`: a hashed holdout, metrics with intervals
   from the holdout predicted on the workers);
4. the monitoring reference profile is built from the sample's rows that fall in that holdout
   (the split is a hash of each row's cleaned values, so the sample's rows get the same side
   as in step 3), so ``apprentice monitor`` works on the bundle like on any other.

The time budget bounds the search (step 2); the full-data fit's rounds are fixed by the
template, so its time grows linearly with the rows. Both figures are in the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from distributed import Client

    from apprentice.scale.lightgbm import DaskTrainResult
    from apprentice.workflows.train import TrainResult

DEFAULT_SAMPLE_ROWS = 200_000
VALIDATION_SIZE = 0.05  # of all rows: picks the full-data fit's number of rounds


@dataclass
class PartitionedTrainResult:
    """What :func:`train_partitioned` returns: the run on the sample (``template``) and, when
    the file is bigger than the sample, the full-data run (``full``)."""

    path: Path
    rows: int
    sample_rows: int
    template: TrainResult
    full: DaskTrainResult | None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.full.metrics if self.full is not None else self.template.metrics

    def to_dict(self) -> dict[str, Any]:
        from apprentice.bundle.io import json_safe
        from apprentice.evaluate import metrics_to_dict

        return dict(
            json_safe(
                {
                    "bundle": str(self.path),
                    "rows": self.rows,
                    "sample_rows": self.sample_rows,
                    "trained_on": "all rows (LightGBM Dask estimator)"
                    if self.full is not None
                    else "all rows (in-process refit, search on the workers)",
                    "metrics": metrics_to_dict(self.metrics),
                    "template_champion": self.template.champion,
                    "full": self.full.to_dict() if self.full is not None else None,
                    "timings": self.timings,
                    "notes": self.notes,
                }
            )
        )


def _has_lightgbm(template: TrainResult) -> bool:
    board = template.leaderboard
    if "family" not in board.columns or "status" not in board.columns:
        return False
    ok = board["status"].isin(["ok", "truncated", "not kept"])
    return bool((board["family"].eq("lightgbm") & ok).any())


def train_partitioned(
    source: str | Path,
    *,
    target: str,
    client: Client,
    out: str | Path,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    time_budget: float | None = 60.0,
    seed: int = 0,
    test_size: float = 0.25,
    blocksize: int = 64 * 2**20,
    progress: Any = None,
    label: str | None = None,
    **train_options: Any,
) -> PartitionedTrainResult:
    """Train on ``source`` (a CSV or Parquet file of any size) on the Dask ``client``.

    See the module docstring. ``train_options`` go to :func:`apprentice.train` for the run on
    the sample (``metric``, ``max_trials``, ``families``, ...).
    """
    import tempfile

    from apprentice.monitor.profile import attach_profile, build_profile
    from apprentice.scale.lightgbm import (
        HOLDOUT,
        clean_with_template,
        split_assignment,
        train_lightgbm_on_dask,
    )
    from apprentice.scale.partitions import read_partitioned, sample_partitions
    from apprentice.scale.train import train_on_cluster

    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    started = time.monotonic()
    table = read_partitioned(source, client=client, blocksize=blocksize)
    timings["read_s"] = time.monotonic() - started
    rows = table.rows_kept
    out_path = Path(out)

    def search(data: Any, where: Path, budget: float | None, **extra: Any) -> TrainResult:
        options = {**train_options, **extra}
        return train_on_cluster(
            data,
            target=target,
            client=client,
            label=label,
            time_budget=budget,
            seed=seed,
            test_size=test_size,
            out=where,
            progress=progress,
            **options,
        )

    if rows <= sample_rows:
        say(f"{rows:,} rows fit the sample: training as in-process, folds on the workers")
        t = time.monotonic()
        template = search(source, out_path, time_budget)
        timings["train_s"] = time.monotonic() - t
        timings["total_s"] = time.monotonic() - started
        return PartitionedTrainResult(out_path, rows, rows, template, None, timings)

    t = time.monotonic()
    sample = sample_partitions(table, sample_rows, client=client, seed=seed)
    sample = sample.reset_index(drop=True)
    timings["sample_s"] = time.monotonic() - t
    notes: list[str] = []
    say(f"searching on a sample of {len(sample):,} of {rows:,} rows (folds on the workers)")
    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="apprentice-template-") as folder:
        from apprentice.errors import BudgetError

        found: TrainResult | None
        try:
            found = search(sample, Path(folder) / "template", time_budget)
        except BudgetError:  # not even one learner on the sample: LightGBM below decides
            found = None
        if found is not None and _has_lightgbm(found):
            template = found
        else:
            # the budget ran out before LightGBM was tried on the sample: the full-data fit
            # needs a LightGBM configuration, so run that family's portfolio without a budget
            notes.append(
                "the time budget ran out before any LightGBM configuration was tried on the "
                "sample; the LightGBM portfolio was then run on it without a budget"
            )
            template = search(
                sample,
                Path(folder) / "template-lightgbm",
                None,
                families=["lightgbm"],
                max_trials=0,
            )
        timings["search_s"] = time.monotonic() - t
        say(f"training on all {rows:,} rows with LightGBM's Dask estimator")
        t = time.monotonic()
        cleaned = clean_with_template(table.frame, template)
        full = train_lightgbm_on_dask(
            cleaned,
            target=target,
            template=template,
            client=client,
            out=out_path,
            seed=seed,
            test_size=test_size,
            validation_size=VALIDATION_SIZE,
            progress=progress,
        )
        timings["full_fit_s"] = time.monotonic() - t
        t = time.monotonic()
        notes += full.notes
        try:
            import dask.dataframe as dd

            typed = clean_with_template(dd.from_pandas(sample, npartitions=1), template)
            side = split_assignment(
                typed.compute(scheduler="sync"),
                seed=seed,
                test_size=test_size,
                validation_size=VALIDATION_SIZE,
            )
            reference = sample.iloc[np.flatnonzero(side == HOLDOUT)].reset_index(drop=True)
            profile = build_profile(full.bundle, reference, seed=seed)
            attach_profile(out_path, profile, bundle=full.bundle)
            notes.append(
                f"monitoring reference profile from {len(reference):,} sample rows in the holdout"
            )
        except (ValueError, TypeError, KeyError) as exc:
            notes.append(f"no reference profile for monitoring ({type(exc).__name__})")
        timings["profile_s"] = time.monotonic() - t
    timings["total_s"] = time.monotonic() - started
    return PartitionedTrainResult(out_path, rows, len(sample), template, full, timings, notes)
