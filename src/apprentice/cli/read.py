"""``apprentice read FILE -o OUT.csv``: structure only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from apprentice.cli._common import JsonOpt, QuietOpt, byte_progress, emit_json, err_console


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
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read any table: detect its dialect, header and encoding; quarantine broken rows."""
    from apprentice.read import read, write_csv
    from apprentice.read.result import QUARANTINE_COLUMNS

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


def register(app: typer.Typer) -> None:
    app.command("read")(read_command)
