"""``apprentice train FILE --target T``: search, evaluate, write a bundle."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from apprentice.cli._common import (
    DaskOpt,
    DropColumnOpt,
    FamiliesOpt,
    JobsOpt,
    JsonOpt,
    KeepColumnOpt,
    MetricOpt,
    QuietOpt,
    SeedOpt,
    SplitOpt,
    TaskOpt,
    TestSizeOpt,
    ThresholdOpt,
    emit_json,
    err_console,
)

#: the exit status of a finished train or run whose model is the constant baseline
CONSTANT_MODEL_EXIT = 3


def train_command(
    file: Annotated[str, typer.Argument(help="The training file (any format apprentice reads).")],
    target: Annotated[str, typer.Option("--target", "-t", help="The column to predict.")],
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget",
            help="Seconds for the whole run, final refit included (default 60; unlimited "
            "when only --max-trials is given).",
        ),
    ] = None,
    metric: MetricOpt = None,
    split: SplitOpt = None,
    test_size: TestSizeOpt = 0.25,
    seed: SeedOpt = 0,
    max_trials: Annotated[
        int | None,
        typer.Option(help="Optuna trials after the portfolio (a reproducible bound)."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            help="Bundle directory to write, or an s3://, gs://, az:// prefix (the bundle is "
            "written in the workspace, then uploaded).",
        ),
    ] = None,
    task: TaskOpt = None,
    keep_column: KeepColumnOpt = None,
    drop_column: DropColumnOpt = None,
    jobs: JobsOpt = None,
    families: FamiliesOpt = None,
    dask: DaskOpt = None,
    sample_rows: Annotated[
        int,
        typer.Option(
            "--sample-rows",
            help="With --dask: a file with more rows is searched on a sample of this many "
            "rows, then LightGBM's Dask estimator trains on every row.",
        ),
    ] = 200_000,
    threshold: ThresholdOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train honest baselines and a tuned model; evaluate on a holdout; write one bundle.

    Exits 3 when the model is the constant baseline (no learner beat it)."""
    from apprentice.workflows.train import command_started

    started = command_started()  # the budget counts from the process's start, imports included
    from apprentice.clock import exit_promptly

    exit_promptly()  # the budget counts to the process's exit: no interpreter teardown
    from apprentice.scale import connect, resolve_address
    from apprentice.workflows.train import train

    budget = time_budget if time_budget is not None else (None if max_trials is not None else 60.0)
    show = not quiet and not json_out

    def progress(message: str) -> None:
        if show:
            err_console.print(f"  {message}", markup=False, highlight=False)

    options: dict[str, Any] = dict(
        target=target,
        time_budget=budget,
        metric=metric,
        split=split,
        test_size=test_size,
        seed=seed,
        max_trials=max_trials,
        task=task,
        keep_columns=keep_column or (),
        drop_columns=drop_column or (),
        n_jobs=jobs,
        families=[f.strip() for f in families.split(",") if f.strip()] if families else None,
        progress=progress,
    )
    if threshold is not None:
        options["threshold"] = threshold
    from apprentice.storage import check_bundle_target, is_url

    remote = out if out is not None and is_url(out) else None
    if remote is not None:  # a bad bucket or prefix fails before any training
        from apprentice.workflows.train import default_bundle_dir

        check_bundle_target(remote)
        out = str(default_bundle_dir(file, target))
    address = resolve_address(dask)
    with connect(address) as client:
        if client is not None and _partitionable(file):
            from apprentice.scale.bigtrain import train_partitioned
            from apprentice.workflows.train import default_bundle_dir

            big = train_partitioned(
                file,
                client=client,
                label=address,
                out=Path(out) if out is not None else default_bundle_dir(file, target),
                sample_rows=sample_rows,
                **options,
            )
            if big.full is not None:
                if remote is not None and out is not None:
                    _upload_bundle(Path(out), remote, quiet=quiet or json_out)
                _show_full(big, json_out=json_out, quiet=quiet)
                return
            result = big.template
        else:
            result = train(
                file,
                out=Path(out) if out is not None else None,
                fold_runner=_fold_runner(client, address),
                started=started,
                **options,
            )
    if remote is not None and out is not None:
        _upload_bundle(Path(out), remote, quiet=quiet or json_out)
    _show(result, json_out=json_out, quiet=quiet)
    if result.constant:
        raise typer.Exit(CONSTANT_MODEL_EXIT)


def _upload_bundle(local: Path, url: str, *, quiet: bool) -> None:
    """The bundle written in the workspace, uploaded to ``url`` (manifest last)."""
    from apprentice.storage import upload_dir

    upload_dir(local, url)
    if not quiet:
        err_console.print(f"bundle uploaded to {url} (local copy {local})", soft_wrap=True)


def _show(result: Any, *, json_out: bool, quiet: bool) -> None:
    """The account of an in-process training: leaderboard, holdout, comparisons, warnings."""
    if json_out:
        emit_json(result.to_dict())
        return
    if quiet:
        return
    from rich.table import Table

    err = err_console
    err.print(
        f"[bold]{result.champion}[/] for '{result.target}' ({result.task}), "
        f"{result.timings.get('total_s', math.nan):.1f} s"
    )
    compute = result.compute
    if compute.get("runner") == "dask":
        err.print(
            f"search on Dask ({compute.get('address')}): {compute.get('workers')} workers, "
            f"{compute.get('fold_tasks')} fold fits",
            markup=False,
        )
    board = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    columns = ["rank", "model", f"cv_{result.metric}", "cv_std", "fit_s", "status"]
    for name in columns:
        board.add_column(name)
    for row in result.leaderboard.head(15).to_dict(orient="records"):
        board.add_row(*[_cell(row.get(c)) for c in columns])
    err.print(board)
    err.print("[bold]holdout[/] (95% bootstrap intervals)")
    for name, interval in result.metrics.items():
        err.print(f"  {name:<18} {interval}")
    if result.threshold is not None:
        from apprentice.evaluate.metrics import threshold_text

        source = result.bundle.manifest.get("decision_threshold_source")
        err.print(f"  decision threshold {threshold_text(result.threshold, source)}", markup=False)
    for comparison in result.comparisons:
        err.print(f"  {comparison.wording}", markup=False)
    if result.calibration is not None:
        err.print(f"  calibration error (ECE) {result.calibration.ece:.4f}")
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    err.print(f"bundle: {result.path}")


def _partitionable(file: str) -> bool:
    """A local CSV/TSV/text or Parquet file (what the partitioned path reads)."""
    path = Path(file)
    return path.is_file() and path.suffix.lower() in (".csv", ".tsv", ".txt", ".parquet", ".pq")


def _show_full(big: Any, *, json_out: bool, quiet: bool) -> None:
    """The account of a run whose model was trained on every row on Dask."""
    if json_out:
        emit_json(big.to_dict())
        return
    if quiet:
        return
    full = big.full
    err = err_console
    err.print(
        f"[bold]{full.config}[/] for '{full.target}' ({full.task}) on all {big.rows:,} rows "
        f"(LightGBM Dask estimator, {len(full.workers)} workers; search on a sample of "
        f"{big.sample_rows:,} rows), {big.timings.get('total_s', math.nan):.1f} s"
    )
    err.print(
        f"[bold]holdout[/] of {full.n_holdout:,} rows (95% bootstrap intervals)", highlight=False
    )
    for name, interval in full.metrics.items():
        err.print(f"  {name:<18} {interval}")
    for note in big.notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    err.print(f"bundle: {big.path}")


def _fold_runner(client: Any, address: str | None) -> Any:
    """The search's folds on the cluster's workers, or None (in-process)."""
    if client is None:
        return None
    from apprentice.scale import DaskFoldRunner

    return DaskFoldRunner(client, label=address)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4f}"
    if isinstance(value, bool):
        return "*" if value else ""
    return "" if value is None else str(value)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
