"""``apprentice demo``: the whole lifecycle on the bundled Adult census table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console


def demo_command(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the ledger, schema and bundle.")
    ] = Path("demo-out"),
    time_budget: Annotated[
        float, typer.Option("--time-budget", help="Seconds for training.")
    ] = 30.0,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read, clean, guard, train, evaluate and predict on a bundled real dataset."""
    from apprentice.workflows.demo import run_demo

    show = not quiet and not json_out
    err = err_console

    def step(name: str) -> None:
        if show:
            err.rule(f"[bold]{name}")

    def progress(message: str) -> None:
        if show:
            err.print(f"  {message}", markup=False, highlight=False)

    result = run_demo(out, time_budget=time_budget, step=step, progress=progress)
    if json_out:
        emit_json(
            {
                "read": result.read.summary(),
                "clean": result.cleaned.summary(),
                "train": result.trained.to_dict(),
                "predictions": result.predictions.to_dict(orient="records"),
            }
        )
        return
    if not show:
        return
    r = result.read
    err.rule("[bold]what happened")
    err.print(
        f"[bold]read[/] {r.source}: {r.rows_read:,} rows, {r.table.shape[1]} columns, "
        f"encoding {r.encoding}, {r.rows_quarantined} quarantined"
    )
    for note in r.notes:
        err.print(f"  - {note}", markup=False)
    err.print("[bold]clean[/] (every change is in the ledger)")
    for line in result.cleaned.describe()[:25]:
        err.print(f"  {line}", markup=False)
    t = result.trained
    err.print(f"[bold]train[/] champion {t.champion} for '{t.target}' ({t.task})")
    for name, interval in t.metrics.items():
        err.print(f"  {name:<18} {interval}")
    for comparison in t.comparisons:
        err.print(f"  {comparison.wording}", markup=False)
    for warning in t.warnings:
        err.print(f"  [yellow]warning:[/] {warning}", highlight=False)
    err.print("[bold]predict[/] five raw rows, exactly as the file has them:")
    err.print(result.predictions.to_string(), markup=False)
    err.print(f"\nledger {out / 'ledger.json'}, schema {out / 'schema.json'}, bundle {t.path}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
