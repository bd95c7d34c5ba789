"""``apprentice demo``: the main job (``apprentice run``) on the bundled Adult census table."""

from __future__ import annotations

from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console
from apprentice.cli.run import StageBars, TrackingUriOpt


def demo_command(
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for training.")
    ] = 45.0,
    tracking_uri: TrackingUriOpt = None,
    release: Annotated[
        bool,
        typer.Option(
            "--release/--no-release",
            help="Then serve the champion, send traffic and a shifted batch, monitor, retrain.",
        ),
    ] = True,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """apprentice run on a bundled real dataset (fairness on sex, race, age), then predict;
    then serve it, send traffic and a shifted batch, monitor (alert) and retrain (decision)."""
    from apprentice.workflows.demo import DEMO_SENSITIVE, DEMO_TARGET, run_demo
    from apprentice.workflows.run import STAGES

    show = not quiet and not json_out
    if show:
        err_console.print(
            f"[bold]apprentice run[/] adult.csv.gz --target {DEMO_TARGET} --sensitive "
            f"{','.join(DEMO_SENSITIVE)} --time-budget {time_budget:g}",
            highlight=False,
        )
    with StageBars(enabled=show, stages=STAGES) as bars:
        result = run_demo(time_budget=time_budget, tracking_uri=tracking_uri, observer=bars)  # type: ignore[arg-type]
    after = None
    if release:
        from apprentice.read import read
        from apprentice.workflows.lifecycle import after_release

        if show:
            err_console.rule("[bold]after release")

        def say(message: str) -> None:
            if show:
                err_console.print(f"  {message}", markup=False, highlight=False)

        after = after_release(
            result.run.name,
            read(result.source).table,
            target=DEMO_TARGET,
            time_budget=min(time_budget, 30.0),
            say=say,
        )
    if json_out:
        payload = result.to_dict()
        payload["after_release"] = after.to_dict() if after is not None else None
        emit_json(payload)
        return
    if not show:
        return
    err = err_console
    err.rule("[bold]summary")
    for line in result.run.summary_lines():
        err.print(line, markup=False, highlight=False, soft_wrap=True)
    for warning in result.run.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    err.rule("[bold]five raw rows, exactly as the file has them, through the model")
    shown = ["age", "workclass", "education", "occupation", "race", "sex"]
    table = result.rows[[c for c in shown if c in result.rows.columns]].join(
        result.predictions.round(3)
    )
    err.print(table.to_string(), markup=False, highlight=False, soft_wrap=True)
    r = result.run
    if after is not None:
        err.rule("[bold]after release")
        err.print(
            f"  served {after.served} predictions at {after.address} "
            f"({after.shifted} of them shifted), {after.feedback} outcomes fed back",
            markup=False,
            highlight=False,
        )
        for alert in after.monitor.alerts[:6]:
            err.print(f"  monitor alert: {alert.get('message')}", markup=False, highlight=False)
        err.print(
            "  retrain: " + decision_line(after.decision.promoted, after.decision.gate.reason),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        err.print(f"  decision report: {after.decision.report}", markup=False)
    err.rule("[bold]next")
    steps = [
        f"apprentice models show {r.name}",
        f"apprentice report {r.run_id}",
        f"apprentice serve {r.name}",
    ]
    if after is not None:
        steps.append(f"apprentice monitor {r.name} --since 1h --html monitor.html")
    version = int((r.model or {}).get("version") or 0)
    if version > 1:
        steps.append(f"apprentice compare {r.name}/{version - 1} {r.name}/{version}")
    else:
        steps.append("make demo again, then: apprentice compare adult-income/1 adult-income/2")
    for line in steps:
        err.print(f"  {line}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


def decision_line(promoted: bool, reason: str) -> str:
    """The retrain gate's decision as a person reads it."""
    return ("promote the challenger: " if promoted else "keep the champion: ") + reason
