"""``apprentice run FILE --target T``: the main job, with a progress bar per stage."""

from __future__ import annotations

import threading
import time
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
    out_console,
)

TrackingUriOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, else the workspace's SQLite "
        "store .apprentice/mlflow.db).",
    ),
]


def split_names(values: list[str] | None) -> list[str]:
    """``--sensitive sex,race --sensitive age`` -> ``[sex, race, age]``."""
    out: list[str] = []
    for value in values or []:
        out += [v.strip() for v in value.split(",") if v.strip()]
    return out


class StageBars:
    """A Rich progress bar per stage on a terminal; one plain line per stage otherwise."""

    def __init__(self, *, enabled: bool, stages: tuple[str, ...]) -> None:
        self.enabled = enabled
        self.live = enabled and err_console.is_terminal
        self.stages = stages
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._stage_start = 0.0

    def __enter__(self) -> StageBars:
        if self.live:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]{task.fields[stage]:<9}"),
                BarColumn(bar_width=30),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=err_console,
            )
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_ticker()
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    # -- the RunObserver protocol

    def stage_started(self, stage: str, *, budget: float | None = None) -> None:
        self._stage_start = time.monotonic()
        if not self.progress:
            return
        total = budget if budget else 1.0
        self.tasks[stage] = self.progress.add_task("", total=total, stage=stage)
        if budget:
            self._start_ticker(stage, budget)

    def message(self, stage: str, text: str) -> None:
        if self.progress is not None and stage in self.tasks:
            self.progress.update(self.tasks[stage], description=_short(text))

    def stage_finished(self, stage: str, seconds: float, summary: str = "") -> None:
        self._stop_ticker()
        if self.progress is not None and stage in self.tasks:
            task = self.tasks[stage]
            total = self.progress.tasks[task].total or 1.0
            self.progress.update(task, completed=total, description=_short(summary))
        elif self.enabled:
            err_console.print(f"{stage:<9} {seconds:6.1f} s  {summary}", markup=False)

    def stage_skipped(self, stage: str, reason: str) -> None:
        if self.progress is not None:
            self.tasks[stage] = self.progress.add_task(
                f"skipped: {_short(reason)}", total=1.0, completed=1.0, stage=stage
            )
        elif self.enabled:
            err_console.print(f"{stage:<9}      -    skipped: {reason}", markup=False)

    # -- the training bar moves with the clock

    def _start_ticker(self, stage: str, budget: float) -> None:
        self._stop.clear()

        def tick() -> None:
            while not self._stop.wait(0.25):
                elapsed = time.monotonic() - self._stage_start
                self.progress.update(self.tasks[stage], completed=min(elapsed, budget * 0.99))

        self._ticker = threading.Thread(target=tick, daemon=True)
        self._ticker.start()

    def _stop_ticker(self) -> None:
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_command(
    file: Annotated[str, typer.Argument(help="The training file (any format apprentice reads).")],
    target: Annotated[str, typer.Option("--target", "-t", help="The column to predict.")],
    sensitive: Annotated[
        list[str] | None,
        typer.Option(
            "--sensitive",
            "-s",
            help="Columns to assess group fairness on, comma-separated (e.g. sex,race).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Registered model name (default: <file stem>-<target>)."),
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget",
            help="Seconds for training (default 60; unlimited when only --max-trials is given).",
        ),
    ] = None,
    max_trials: Annotated[
        int | None,
        typer.Option(help="Optuna trials after the portfolio (a reproducible bound)."),
    ] = None,
    metric: MetricOpt = None,
    split: SplitOpt = None,
    test_size: TestSizeOpt = 0.25,
    seed: SeedOpt = 0,
    task: TaskOpt = None,
    keep_column: KeepColumnOpt = None,
    drop_column: DropColumnOpt = None,
    jobs: JobsOpt = None,
    families: FamiliesOpt = None,
    dask: DaskOpt = None,
    tracking_uri: TrackingUriOpt = None,
    track: Annotated[
        bool,
        typer.Option("--track/--no-track", help="Record the run and register the model."),
    ] = True,
    threshold: ThresholdOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The main job: read, clean, guard, train, evaluate, explain, fairness, register, report.

    Exits 3 when the model is the constant baseline (no learner beat it)."""
    from apprentice.cli.train import CONSTANT_MODEL_EXIT, _fold_runner
    from apprentice.scale import connect, resolve_address
    from apprentice.workflows.run import STAGES, run

    budget = time_budget if time_budget is not None else (None if max_trials is not None else 60.0)
    show = not quiet and not json_out
    address = resolve_address(dask)
    from apprentice.workflows.train import command_started

    started = command_started()  # the budget counts from the process's start, imports included
    from apprentice.clock import exit_promptly

    exit_promptly()  # the budget counts to the process's exit: no interpreter teardown
    with connect(address) as client, StageBars(enabled=show, stages=STAGES) as bars:
        result = run(
            file,
            started=started,
            target=target,
            sensitive=split_names(sensitive),
            name=name,
            time_budget=budget,
            max_trials=max_trials,
            metric=metric,
            split=split,
            test_size=test_size,
            seed=seed,
            task=task,
            keep_columns=keep_column or (),
            drop_columns=drop_column or (),
            n_jobs=jobs,
            families=[f.strip() for f in families.split(",") if f.strip()] if families else None,
            tracking_uri=tracking_uri,
            track=track,
            observer=bars,  # type: ignore[arg-type]
            fold_runner=_fold_runner(client, address),
            threshold=threshold,
        )
    if json_out:
        emit_json(result.to_dict())
    elif not quiet:
        # the result on stdout (`> out.txt` keeps it); progress and warnings on stderr
        out_console.rule("[bold]summary")
        for line in result.summary_lines():
            out_console.print(line, markup=False, highlight=False, soft_wrap=True)
        for warning in result.warnings:
            err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if result.constant_model:
        raise typer.Exit(CONSTANT_MODEL_EXIT)


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
