"""``apprentice compare A B``: both models on the same rows, the difference with a paired
bootstrap interval, and a plain verdict."""

from __future__ import annotations

from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, emit_json, err_console, out_console
from apprentice.cli.run import TrackingUriOpt


def compare_command(
    a: Annotated[
        str,
        typer.Argument(
            help="Model A: a run id or folder, a registered NAME/VERSION or NAME@ALIAS, or a "
            "bundle folder."
        ),
    ],
    b: Annotated[str, typer.Argument(help="Model B, the same kinds as A.")],
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            help="Labelled rows to score both on (default: the holdout of the newer run).",
        ),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="The metric to compare on (default: the newer model's)."),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed of the bootstrap.")] = 0,
    tracking_uri: TrackingUriOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Is B really better than A? Both scored on the same rows, with a paired bootstrap."""
    from apprentice.errors import ConfigError
    from apprentice.workflows.compare import compare

    if n_boot < 100:
        raise ConfigError("--n-boot must be at least 100")
    result = compare(
        a, b, data=data, metric=metric, n_boot=n_boot, seed=seed, tracking_uri=tracking_uri
    )
    if json_out:
        emit_json(result.to_dict())
        return
    if quiet:
        return
    err_console.print(f"A  {result.a.label}", markup=False, highlight=False)
    err_console.print(f"B  {result.b.label}", markup=False, highlight=False)
    err_console.print(
        f"{result.metric} on {result.rows:,} rows ({result.data}): "
        f"A {result.value_a['value']:.4f}, B {result.value_b['value']:.4f}",
        markup=False,
        highlight=False,
    )
    out_console.print(result.verdict, markup=False, highlight=False)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)
