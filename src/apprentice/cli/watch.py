"""``apprentice watch``: monitor the prediction log on a schedule and retrain on a confirmed
degradation, promoting only on evidence; one record per cycle."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from apprentice.cli._common import (
    DbUrlOpt,
    JsonOpt,
    PolicyOpt,
    QuietOpt,
    emit_json,
    err_console,
    out_console,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, *, option: str = "--every") -> float:
    """``15m`` -> 900.0 seconds."""
    from apprentice.errors import ConfigError

    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"{option} {text!r} is not a duration; write e.g. 30s, 15m, 1h or 1d")
    return float(match.group(1)) * _SECONDS[match.group(2).lower()]


def watch_command(
    model: Annotated[
        str, typer.Argument(help="A registered model NAME (its champion is watched).")
    ],
    every: Annotated[
        str, typer.Option("--every", help="Time between scheduled checks (30s, 15m, 1h).")
    ] = "15m",
    min_feedback: Annotated[
        int, typer.Option("--min-feedback", help="New labels that trigger a check sooner.")
    ] = 200,
    since: Annotated[
        str, typer.Option("--since", help="The period of the log each check reads (e.g. 7d).")
    ] = "7d",
    cycles: Annotated[
        int | None, typer.Option("--cycles", help="Stop after this many cycles (default: run on).")
    ] = None,
    retrain_budget: Annotated[
        float | None,
        typer.Option(
            "--retrain-budget",
            help="Seconds a retrain may take (default: the champion's time budget, else 3 x "
            "its training time, at least 60).",
        ),
    ] = None,
    db_url: DbUrlOpt = None,
    policy_file: PolicyOpt = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow tracking URI.")
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Watch a registered model: check, retrain on a confirmed degradation, promote on evidence."""
    from apprentice.errors import ApprenticeError
    from apprentice.monitor import load_policy
    from apprentice.workflows.watch import Cycle, WatchOptions, watch

    def say(cycle: Cycle) -> None:
        if not quiet and not json_out:
            out_console.print(cycle.line(), soft_wrap=True, markup=False)

    try:
        options = WatchOptions(
            every=parse_duration(every),
            min_feedback=min_feedback,
            since=since,
            retrain_budget=retrain_budget,
            db_url=db_url,
            tracking_uri=tracking_uri,
            policy=load_policy(policy_file),
        )
        done = watch(model, options, cycles=cycles, say=say)
    except ApprenticeError as exc:
        err_console.print(f"error: {exc.message}", soft_wrap=True)
        raise typer.Exit(2) from None
    if json_out:
        emit_json([c.to_dict() for c in done])


def register(app: typer.Typer) -> None:
    app.command("watch")(watch_command)
