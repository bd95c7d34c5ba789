"""``apprentice predict BUNDLE FILE -o OUT.csv``: batch predictions from raw rows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from apprentice.cli._common import DaskOpt, JsonOpt, QuietOpt, emit_json, err_console


def predict_command(
    bundle: Annotated[Path, typer.Argument(help="A bundle directory written by apprentice train.")],
    file: Annotated[str, typer.Argument(help="Rows to predict (any format apprentice reads).")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="CSV to write: prediction, proba_<class>.")
    ],
    keep: Annotated[
        list[str] | None,
        typer.Option("--keep", help="Copy this input column into the output (e.g. an id)."),
    ] = None,
    dask: DaskOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Predict every row of FILE with a verified bundle; rows keep their order."""
    from apprentice.bundle import load_bundle
    from apprentice.errors import ConfigError
    from apprentice.read import read, write_csv

    model = load_bundle(bundle)
    from apprentice.scale import resolve_address

    address = resolve_address(dask)
    if address is not None:
        _predict_on_cluster(model, bundle, file, output, address, keep, json_out, quiet)
        return
    result = read(file)
    table = result.table
    predictions = model.predict_frame(table)
    for name in reversed(keep or []):
        if name not in table.columns:
            raise ConfigError(f"--keep column '{name}' is not in {file}")
        predictions.insert(0, name, table[name].to_numpy())
    text = predictions.astype(object).where(predictions.notna(), None)
    text = text.map(lambda v: v if v is None or isinstance(v, str) else _fmt(v))
    write_csv(text.astype("str"), output)
    summary = {
        "bundle": str(bundle),
        "rows": len(predictions),
        "quarantined": int(result.rows_quarantined),
        "output": str(output),
        "columns": list(predictions.columns),
    }
    if json_out:
        emit_json(summary)
        return
    if not quiet:
        err_console.print(f"{len(predictions):,} prediction(s) written to {output}")
        if result.rows_quarantined:
            err_console.print(
                f"[yellow]warning:[/] {result.rows_quarantined:,} malformed row(s) were "
                "quarantined by the reader and have no prediction"
            )


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _predict_on_cluster(
    model: Any,
    bundle: Path,
    file: str,
    output: Path,
    address: str,
    keep: list[str] | None,
    json_out: bool,
    quiet: bool,
) -> None:
    """Partition by partition on the Dask workers; the output written in row order."""
    from apprentice.scale import connect, predict_partitioned

    with connect(address) as client:
        summary = predict_partitioned(model, file, output, client=client, keep=keep)
    summary["bundle"] = str(bundle)
    if json_out:
        emit_json(summary)
    elif not quiet:
        err_console.print(
            f"{summary['rows']:,} prediction(s) written to {output} "
            f"({summary['partitions']} partition(s) on {address})"
        )
        if summary["quarantined"]:
            err_console.print(
                f"[yellow]warning:[/] {summary['quarantined']:,} malformed row(s) were "
                "quarantined by the reader and have no prediction"
            )


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_command)
