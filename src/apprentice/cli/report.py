"""``apprentice report RUN``: rebuild a run's HTML report and model card from its run.json."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console


def report_command(
    run: Annotated[
        str,
        typer.Argument(
            help="A run folder (holding run.json), a run.json file, or a run id under the "
            "workspace (.apprentice/runs/<id>)."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder to write to (default: the run's folder)."),
    ] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Rebuild report.html and model_card.md of a run from its record alone."""
    from apprentice.report import load_record, write_report

    record, folder = load_record(run)
    paths = write_report(record, out if out is not None else folder)
    if json_out:
        emit_json({"run": str(record.get("run_id") or run), "html": str(paths.html),
                   "model_card": str(paths.model_card)})  # fmt: skip
        return
    if not quiet:
        err_console.print(f"report: {paths.html}\nmodel card: {paths.model_card}")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
