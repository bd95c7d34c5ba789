"""``apprentice read FILE -o OUT.csv``: structure only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from apprentice.cli._common import (
    DaskOpt,
    JsonOpt,
    QuietOpt,
    byte_progress,
    emit_json,
    err_console,
)


def read_command(
    file: Annotated[str, typer.Argument(help="A file path, '-' for stdin, or a SQLAlchemy URL.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the table as RFC 4180 CSV.")
    ] = None,
    quarantine: Annotated[
        Path | None, typer.Option("--quarantine", help="Write quarantined rows as CSV.")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="csv, json, jsonl, excel, parquet or sql.")
    ] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (detected if unset).")] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="Field delimiter, e.g. ',', ';', tab, pipe, space.")
    ] = None,
    quotechar: Annotated[str | None, typer.Option(help="Quote character; '' for none.")] = None,
    escapechar: Annotated[
        str | None, typer.Option(help="Escape character; '' for doubled quotes.")
    ] = None,
    header: Annotated[
        int | None, typer.Option(help="Number of header rows (0: no header).")
    ] = None,
    skip_rows: Annotated[int | None, typer.Option(help="Preamble lines to skip.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name or 0-based index.")] = None,
    table: Annotated[str | None, typer.Option(help="SQL table to read.")] = None,
    query: Annotated[str | None, typer.Option(help="SQL query to run.")] = None,
    blocksize: Annotated[
        int, typer.Option("--blocksize", help="With --dask: bytes per CSV partition.")
    ] = 64 * 2**20,
    dask: DaskOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read any table: detect its dialect, header and encoding; quarantine broken rows."""
    from apprentice.read import read, write_csv
    from apprentice.read.result import QUARANTINE_COLUMNS
    from apprentice.scale import resolve_address

    address = resolve_address(dask)
    if address is not None:
        hints = {
            "format": format,
            "encoding": encoding,
            "delimiter": delimiter,
            "quotechar": quotechar,
            "escapechar": escapechar,
            "header": header,
            "skip_rows": skip_rows,
        }
        _read_on_dask(
            file,
            address,
            {k: v for k, v in hints.items() if v is not None},
            output=output,
            quarantine=quarantine,
            blocksize=blocksize,
            json_out=json_out,
            quiet=quiet,
        )
        return
    sheet_arg: str | int | None = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    with byte_progress(f"reading {file}", enabled=not quiet and not json_out) as progress:
        result = read(
            file,
            format=format,
            encoding=encoding,
            delimiter=delimiter,
            quotechar=quotechar,
            escapechar=escapechar,
            header=header,
            skip_rows=skip_rows,
            sheet=sheet_arg,
            table=table,
            query=query,
            progress=progress,
        )
    if result.table.shape[1] == 0:
        from apprentice.errors import EmptyInputError

        raise EmptyInputError(result.notes[0] if result.notes else f"{file}: no table found")
    if output is not None:
        write_csv(result.table, output, header=result.original_columns or None)
    if quarantine is not None:
        write_csv(result.quarantine[list(QUARANTINE_COLUMNS)], quarantine)
    if json_out:
        payload = result.summary()
        payload["output"] = str(output) if output else None
        emit_json(payload)
        return
    if quiet:
        return
    err = err_console
    err.print(f"[bold]{result.source}[/]: {result.format}", end="")
    if result.encoding:
        err.print(f", encoding {result.encoding}", end="")
    err.print()
    if result.dialect is not None:
        err.print(f"  dialect: {result.dialect.describe()}")
    err.print(
        f"  rows read {result.rows_read:,} = kept {result.rows_kept:,} + quarantined "
        f"{result.rows_quarantined:,}; {result.table.shape[1]} columns"
        + (f"; {result.rows_repaired:,} repaired" if result.rows_repaired else "")
    )
    for note in result.notes:
        err.print(f"  - {note}", markup=False)
    if output is None:
        from apprentice.guard import detect_pii, mask_frame

        # a preview is a display: values of columns that hold PII are masked
        head = result.table.head(10)
        preview = mask_frame(head, detect_pii(result.table, sample=5000))
        err.print(preview.to_string(max_colwidth=30), markup=False)


def _read_on_dask(
    file: str,
    address: str,
    hints: dict[str, Any],
    *,
    output: Path | None,
    quarantine: Path | None,
    blocksize: int,
    json_out: bool,
    quiet: bool,
) -> None:
    """``read --dask``: the file in partitions on the cluster, written partition by partition."""
    from apprentice.read import write_csv
    from apprentice.read.result import QUARANTINE_COLUMNS
    from apprentice.scale import compute, connect, read_partitioned, write_partitioned

    with connect(address) as client:
        assert client is not None
        table = read_partitioned(file, client=client, blocksize=blocksize, **hints)
        if output is not None:
            write_partitioned(
                table.frame,
                output,
                client=client,
                kind="text",
                header=table.original_columns or None,
            )
        head = None
        if output is None and not json_out and not quiet:
            (head,) = compute(client, table.frame.head(10, compute=False))
    if quarantine is not None:
        write_csv(table.quarantine[list(QUARANTINE_COLUMNS)], quarantine)
    if json_out:
        payload = table.summary()
        payload["output"] = str(output) if output else None
        emit_json(payload)
        return
    if quiet:
        return
    err = err_console
    err.print(f"[bold]{table.source}[/]: {table.format}", end="")
    if table.encoding:
        err.print(f", encoding {table.encoding}", end="")
    err.print(f"; {table.n_partitions} partition(s) on Dask")
    if table.dialect is not None:
        err.print(f"  dialect: {table.dialect.describe()}")
    err.print(
        f"  rows read {table.rows_read:,} = kept {table.rows_kept:,} + quarantined "
        f"{table.rows_quarantined:,}; {len(table.columns)} columns"
        + (f"; {table.rows_repaired:,} repaired" if table.rows_repaired else "")
    )
    for note in table.notes:
        err.print(f"  - {note}", markup=False)
    if head is not None:
        from apprentice.guard import detect_pii, mask_frame

        head = head.astype("str").reset_index(drop=True)
        preview = mask_frame(head, detect_pii(head, sample=5000))
        err.print(preview.to_string(max_colwidth=30), markup=False)


def register(app: typer.Typer) -> None:
    app.command("read")(read_command)
