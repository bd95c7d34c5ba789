"""What every command shares: the --json/--quiet options, output, and progress bars."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON document for scripts.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing but errors; no progress bars.")
]

# options shared by the commands that train (train, run)
MetricOpt = Annotated[
    str | None,
    typer.Option(help="Selection metric (default: roc_auc, log_loss or rmse by task)."),
]
SplitOpt = Annotated[
    str | None, typer.Option(help="Holdout split: random, stratified, group:COL or time:COL.")
]
TestSizeOpt = Annotated[float, typer.Option(help="Share of rows held out.")]
SeedOpt = Annotated[int, typer.Option(help="Random seed.")]
TaskOpt = Annotated[
    str | None, typer.Option(help="binary, multiclass or regression (detected if unset).")
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option(
        "--threshold",
        help="Binary target: predict the positive class from this probability (0-1; default: "
        "tuned to maximise F1 on out-of-fold predictions).",
    ),
]
KeepColumnOpt = Annotated[
    list[str] | None,
    typer.Option("--keep-column", help="Keep a column the leakage guard would exclude."),
]
DropColumnOpt = Annotated[
    list[str] | None, typer.Option("--drop-column", help="Never use this column.")
]
JobsOpt = Annotated[int | None, typer.Option("--jobs", help="Threads per fit (default: the CPUs).")]
FamiliesOpt = Annotated[
    str | None,
    typer.Option(
        help="Restrict the portfolio, comma-separated: linear, lightgbm, xgboost, catboost, "
        "hist_gradient_boosting, random_forest, extra_trees (the dummy baseline always runs)."
    ),
]

# the model a command works on, named as predict, serve and watch take it (positional), or with
# --model as before; one_model() says when it is missing or named twice
ModelArg = Annotated[
    str | None,
    typer.Argument(
        help="A bundle folder or a registered model (NAME, NAME@ALIAS, NAME/VERSION); or --model.",
        show_default=False,
    ),
]


def one_model(positional: str | None, option: str | None, command: str) -> str:
    """The model named once, positionally or with ``--model``."""
    from apprentice.errors import ConfigError

    if positional is None and option is None:
        raise ConfigError(
            f"name the model: apprentice {command} MODEL (a bundle folder or a registered NAME)"
        )
    if positional is not None and option is not None and positional != option:
        raise ConfigError(
            f"the model is named twice ({positional!r} and --model {option!r}); name it once"
        )
    return str(positional if positional is not None else option)


# options shared by the commands that read the prediction log (monitor, watch)
DbUrlOpt = Annotated[
    str | None,
    typer.Option("--db-url", help="Prediction log database (default: the workspace's)."),
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option("--policy", help="Monitor thresholds (TOML); keys and defaults: README, Monitor."),
]

DaskOpt = Annotated[
    str | None,
    typer.Option(
        "--dask",
        help="Run on Dask: local (a LocalCluster, one worker per CPU), local:N, or "
        "tcp://HOST:8786 (default: $APPRENTICE_DASK_ADDRESS, else in-process).",
    ),
]

# soft wrap: a line longer than the terminal (a path) is never split in two, and off a
# terminal (a file, a pipe) nothing is wrapped at Rich's default 80 columns
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def emit_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


@contextmanager
def byte_progress(description: str, *, enabled: bool) -> Iterator[Any]:
    """A Rich byte progress bar on stderr, or a no-op callback when disabled or not a TTY."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update
