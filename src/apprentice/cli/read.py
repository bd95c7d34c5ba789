"""``apprentice read FILE -o OUT.csv``: structure only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from apprentice.cli._common import (
    DaskOpt,
    JsonOpt,
    QuietOpt,
    byte_progress,
    emit_json,
    err_console,
)

if TYPE_CHECKING:
    import pandas as pd

    from apprentice.read import ReadResult
    from apprentice.scale import PartitionedTable


def read_command(
    file: Annotated[str, typer.Argument(help="A file path, '-' for stdin, or a SQLAlchemy URL.")],
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write the table as RFC 4180 CSV (a path or an s3:// URL)."
        ),
    ] = None,
    quarantine: Annotated[
        str | None,
        typer.Option("--quarantine", help="Write quarantined rows as CSV (a path or a URL)."),
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
    from apprentice.scale import resolve_address
    from apprentice.storage import check_writable, local_output

    for target in (output, quarantine):  # a missing bucket fails before the read
        if target is not None:
            check_writable(target)
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
        with local_output(output) as local:  # a URL: uploaded once complete
            write_csv(result.table, local, header=_written_names(result))
    _show_read(
        result,
        output=output,
        quarantine=quarantine,
        json_out=json_out,
        quiet=quiet,
        n_columns=result.table.shape[1],
        preview=(result.table.head(10), result.table) if output is None else None,
    )


def _written_names(result: ReadResult) -> list[str] | None:
    """The header ``read -o`` writes: the source's names, except that a repeated name is
    written as the table names it (``a_2``), never twice."""
    originals = list(result.original_columns)
    if not originals or len(originals) != result.table.shape[1]:
        return None
    seen: set[str] = set()
    out = []
    for orig, name in zip(originals, result.table.columns, strict=True):
        out.append(str(name) if orig in seen else orig)
        seen.add(orig)
    return out


def _read_on_dask(
    file: str,
    address: str,
    hints: dict[str, Any],
    *,
    output: str | None,
    quarantine: str | None,
    blocksize: int,
    json_out: bool,
    quiet: bool,
) -> None:
    """``read --dask``: the file in partitions on the cluster, written partition by partition."""
    from apprentice.scale import compute, connect, read_partitioned, write_partitioned
    from apprentice.storage import local_input, local_output

    with connect(address) as client, local_input(file) as local_file:
        assert client is not None
        table = read_partitioned(str(local_file), client=client, blocksize=blocksize, **hints)
        if output is not None:
            with local_output(output) as local:
                write_partitioned(
                    table.frame,
                    local,
                    client=client,
                    kind="text",
                    header=table.original_columns or None,
                )
        head = None
        if output is None and not json_out and not quiet:
            (head,) = compute(client, table.frame.head(10, compute=False))
    if head is not None:
        head = head.astype("str").reset_index(drop=True)
    _show_read(
        table,
        output=output,
        quarantine=quarantine,
        json_out=json_out,
        quiet=quiet,
        n_columns=len(table.columns),
        where=f"; {table.n_partitions} partition(s) on Dask",
        preview=(head, head) if head is not None else None,
    )


def _show_read(
    account: ReadResult | PartitionedTable,
    *,
    output: str | None,
    quarantine: str | None,
    json_out: bool,
    quiet: bool,
    n_columns: int,
    where: str = "",
    preview: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> None:
    """Write the quarantined rows, then print the read's account: the JSON summary, or
    (unless quiet) the format, dialect, row counts and notes, and ``preview = (head, scan)``:
    ``head`` with the values of the columns PII is found in (in ``scan``) masked."""
    from apprentice.read import write_csv
    from apprentice.read.result import QUARANTINE_COLUMNS
    from apprentice.storage import local_output

    if quarantine is not None:
        with local_output(quarantine) as local:
            write_csv(account.quarantine[list(QUARANTINE_COLUMNS)], local)
    if json_out:
        payload = account.summary()
        payload["output"] = str(output) if output else None
        emit_json(payload)
        return
    if quiet:
        return
    err = err_console
    err.print(f"[bold]{account.source}[/]: {account.format}", end="")
    if account.encoding:
        err.print(f", encoding {account.encoding}", end="")
    err.print(where)
    if account.dialect is not None:
        err.print(f"  dialect: {account.dialect.describe()}")
    err.print(
        f"  rows read {account.rows_read:,} = kept {account.rows_kept:,} + quarantined "
        f"{account.rows_quarantined:,}; {n_columns} columns"
        + (f"; {account.rows_repaired:,} repaired" if account.rows_repaired else "")
    )
    lines = getattr(account, "lines", None)
    if lines is not None:
        err.print(f"  {lines.describe()}", markup=False)
    for note in account.notes:
        err.print(f"  - {note}", markup=False)
    for other in getattr(account, "other_tables", []):
        names = ", ".join(other.header[:6]) + (", ..." if len(other.header) > 6 else "")
        err.print(
            f"  - another table on lines {other.first_line}-{other.last_line}: "
            f"{other.n_columns} columns ({names}); not read",
            markup=False,
        )
    if preview is not None:
        from apprentice.guard import detect_pii, mask_frame

        # a preview is a display: values of columns that hold PII are masked
        head, scan = preview
        masked = mask_frame(head, detect_pii(scan, sample=5000))
        err.print(masked.to_string(max_colwidth=30), markup=False)


def register(app: typer.Typer) -> None:
    app.command("read")(read_command)
