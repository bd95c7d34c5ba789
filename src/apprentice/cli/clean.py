"""``apprentice clean FILE -o OUT --ledger L.json`` and ``apprentice why FILE --row R -c C``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from apprentice.cli._common import (
    DaskOpt,
    JsonOpt,
    QuietOpt,
    byte_progress,
    emit_json,
    err_console,
    out_console,
)

if TYPE_CHECKING:
    from apprentice.scale import PartitionedClean
    from apprentice.workflows import CleanFileResult

OUTPUT_KINDS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}

FormatOpt = Annotated[
    str | None, typer.Option("--format", help="csv, json, jsonl, excel, parquet or sql.")
]
EncodingOpt = Annotated[str | None, typer.Option(help="Text encoding (detected if unset).")]
DelimiterOpt = Annotated[str | None, typer.Option(help="Field delimiter (detected if unset).")]
HeaderOpt = Annotated[int | None, typer.Option(help="Number of header rows (0: no header).")]


def _read_options(
    format: str | None, encoding: str | None, delimiter: str | None, header: int | None
) -> dict[str, Any]:
    opts = {"format": format, "encoding": encoding, "delimiter": delimiter, "header": header}
    return {k: v for k, v in opts.items() if v is not None}


def _pairs(items: list[str] | None, what: str) -> list[tuple[str, str]]:
    from apprentice.errors import ConfigError

    out = []
    for item in items or []:
        col, sep, value = item.rpartition("=")
        if not sep or not col:
            raise ConfigError(f"{what} {item!r} must be written COLUMN=VALUE")
        out.append((col, value))
    return out


def local_file(spec: str | None) -> Path | None:
    """A file option as a local path: a storage URL (``s3://...``) is copied to a temporary
    file under the object's name, removed when the command ends."""
    if spec is None:
        return None
    from apprentice.storage import is_url, local_input

    if not is_url(spec):
        return Path(spec)
    import atexit
    import contextlib

    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    return Path(stack.enter_context(local_input(spec)))


def _type_hints(types_file: Path | None, type_pairs: list[str] | None) -> dict[str, str] | None:
    from apprentice.errors import ConfigError, InputError, SchemaError

    hints: dict[str, str] = {}
    if types_file is not None:
        if not types_file.is_file():
            raise InputError(f"types file {str(types_file)!r} does not exist")
        try:
            data = json.loads(types_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SchemaError(
                f"types file {str(types_file)!r} is not valid JSON; write an object "
                '{"column": "type", ...}'
            ) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise SchemaError(
                f"types file {str(types_file)!r} must hold one JSON object mapping column names "
                'to type names, e.g. {"zip": "identifier", "when": "date:dayfirst"}'
            )
        hints.update(data)
    for col, value in _pairs(type_pairs, "--type"):
        if not value:
            raise ConfigError(f"--type {col}= names no type")
        hints[col] = value
    return hints or None


def _sentinel_policy(mode: str, pairs: list[str] | None, rejected: list[str] | None = None) -> Any:
    from apprentice.errors import ConfigError

    confirmed = _pairs(pairs, "--sentinel")
    if not confirmed and not rejected:
        return mode
    out: dict[str, list[float]] = {col: [] for col in rejected or []}
    for col, value in confirmed:
        try:
            out.setdefault(col, []).append(float(value))
        except ValueError:
            raise ConfigError(f"--sentinel {col}=... must give a number") from None
    return out


def check_output(path: Path) -> None:
    """Refuse an output whose extension names no format we write."""
    from apprentice.errors import ConfigError

    if path.suffix.lower() not in OUTPUT_KINDS:
        raise ConfigError(
            f"output {str(path)!r}: unknown extension {path.suffix!r}; use .parquet or .csv"
        )


def _ledger_settings(ledger: Path | None) -> dict[str, Any]:
    """The cleaning settings recorded in a ledger (so `why` learns the same recipe again)."""
    from apprentice.errors import InputError, SchemaError

    if ledger is None:
        return {}
    if not ledger.is_file():
        raise InputError(f"ledger file {str(ledger)!r} does not exist")
    try:
        data = json.loads(ledger.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SchemaError(
            f"ledger {str(ledger)!r} is not valid JSON; pass the file written by "
            "`apprentice clean --ledger`"
        ) from None
    recipe = data.get("recipe") if isinstance(data, dict) else None
    if not isinstance(recipe, dict) or not isinstance(recipe.get("settings"), dict):
        raise SchemaError(
            f"{str(ledger)!r} is not a ledger of `apprentice clean` (it holds no recipe settings)"
        )
    settings = recipe["settings"]
    return {
        "type_hints": settings.get("type_hints") or None,
        "percent_as": settings.get("percent_as", "fraction"),
        "sentinels": settings.get("sentinels", "flag"),
        "dayfirst": settings.get("dayfirst"),
    }


def clean_command(
    file: Annotated[str, typer.Argument(help="A file path, '-' for stdin, or a SQLAlchemy URL.")],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the cleaned table (.parquet or .csv; a path or an s3:// URL).",
        ),
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option("--ledger", help="Write the ledger of every decision (JSON; a path or URL)."),
    ] = None,
    recipe: Annotated[
        str | None,
        typer.Option(
            "--recipe",
            help="Apply a saved recipe (a ledger or Cleaner.recipe_to_json() file; a path or "
            "URL) instead of learning one.",
        ),
    ] = None,
    types: Annotated[
        str | None,
        typer.Option("--types", help='JSON file {"column": "type"} of type hints (path or URL).'),
    ] = None,
    type_: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            help="Type hint COLUMN=TYPE (integer, float, boolean, date, date:dayfirst, "
            "datetime, time, category, identifier, text); repeatable.",
        ),
    ] = None,
    percent_as: Annotated[
        str, typer.Option("--percent-as", help="What 12% becomes: fraction (0.12) or points (12).")
    ] = "fraction",
    sentinels: Annotated[
        str,
        typer.Option(
            "--sentinels",
            help="Suspected sentinels (-200, 9999): flag (report, keep), missing, or ignore. "
            "With --sentinel/--reject-sentinel, columns not named are flagged.",
        ),
    ] = "flag",
    sentinel: Annotated[
        list[str] | None,
        typer.Option(
            "--sentinel", help="Confirm a sentinel COLUMN=VALUE (becomes missing); repeatable."
        ),
    ] = None,
    reject_sentinel: Annotated[
        list[str] | None,
        typer.Option(
            "--reject-sentinel",
            help="A column whose suspected sentinel is a real value (not flagged); repeatable.",
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="The target column (must exist and hold values).")
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep", help="Keep a PII identifier column as keyed pseudonyms; repeatable."
        ),
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="Declare a column flagged as PII to be no PII; repeatable."),
    ] = None,
    format: FormatOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    sample_rows: Annotated[
        int,
        typer.Option(
            "--sample-rows", help="With --dask: rows drawn across partitions to fit the recipe."
        ),
    ] = 100_000,
    blocksize: Annotated[
        int, typer.Option("--blocksize", help="With --dask: bytes per CSV partition.")
    ] = 64 * 2**20,
    dask: DaskOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Type every column with evidence; write the cleaned table and the ledger."""
    from apprentice.storage import check_writable

    if output is not None:
        check_output(Path(output))
    for dest in (output, ledger):  # a missing bucket fails before any work
        if dest is not None:
            check_writable(dest)
    with _local_targets(output, ledger) as (local_output, local_ledger, shown):
        _clean(
            file,
            local_output,
            local_ledger,
            shown,
            recipe=local_file(recipe),
            types=local_file(types),
            type_=type_,
            keep=keep,
            allow=allow,
            percent_as=percent_as,
            sentinels=sentinels,
            sentinel=sentinel,
            reject_sentinel=reject_sentinel,
            target=target,
            format=format,
            encoding=encoding,
            delimiter=delimiter,
            header=header,
            sample_rows=sample_rows,
            blocksize=blocksize,
            dask=dask,
            json_out=json_out,
            quiet=quiet,
        )


@contextlib.contextmanager
def _local_targets(
    output: str | None, ledger: str | None
) -> Iterator[tuple[Path | None, Path | None, dict[str, str]]]:
    """Local paths to write ``output`` and ``ledger`` to (a storage URL: a temporary file
    uploaded once the command succeeds), and the name to show for each local path."""
    from apprentice.storage import local_output

    with contextlib.ExitStack() as stack:
        shown: dict[str, str] = {}
        paths: list[Path | None] = []
        for spec in (output, ledger):
            if spec is None:
                paths.append(None)
                continue
            local = stack.enter_context(local_output(spec))
            shown[str(local)] = spec
            paths.append(local)
        yield paths[0], paths[1], shown


def _clean(
    file: str,
    output: Path | None,
    ledger: Path | None,
    shown: dict[str, str],
    *,
    recipe: Path | None,
    types: Path | None,
    type_: list[str] | None,
    keep: list[str] | None,
    allow: list[str] | None,
    percent_as: Any,
    sentinels: Any,
    sentinel: Any,
    reject_sentinel: Any,
    target: str | None,
    format: str | None,
    encoding: str | None,
    delimiter: str | None,
    header: int | None,
    sample_rows: int,
    blocksize: int,
    dask: str | None,
    json_out: bool,
    quiet: bool,
) -> None:
    from apprentice.scale import resolve_address

    read_options = _read_options(format, encoding, delimiter, header)
    address = resolve_address(dask)
    if address is not None:
        if recipe is not None:
            from apprentice.errors import ConfigError

            raise ConfigError(
                "--recipe cannot be combined with --dask yet; apply a saved recipe without --dask"
            )
        _clean_on_dask(
            file,
            address,
            read_options,
            output=output,
            ledger=ledger,
            shown=shown,
            sample_rows=sample_rows,
            blocksize=blocksize,
            json_out=json_out,
            quiet=quiet,
            options={
                "keep": keep or (),
                "allow": allow or (),
                "type_hints": _type_hints(types, type_),
                "percent_as": percent_as,
                "sentinels": _sentinel_policy(sentinels, sentinel, reject_sentinel),
                "target": target,
            },
        )
        return
    if recipe is not None:
        _apply_recipe(file, read_options, recipe, output, ledger, json_out, quiet, shown)
        return
    from apprentice.read import read
    from apprentice.workflows import clean_file

    with byte_progress(f"reading {file}", enabled=not quiet and not json_out) as progress:
        raw = read(file, progress=progress, **read_options)
    result = clean_file(
        raw,
        keep=keep or (),
        allow=allow or (),
        type_hints=_type_hints(types, type_),
        percent_as=percent_as,
        sentinels=_sentinel_policy(sentinels, sentinel, reject_sentinel),
        target=target,
    )
    written = result.write(output=output, ledger=ledger)
    _show_clean(
        result,
        {k: shown.get(v, v) for k, v in written.items()},
        json_out=json_out,
        quiet=quiet,
        preview=(lambda: result.preview(10).to_string(max_colwidth=30)) if output is None else None,
    )


def _clean_on_dask(
    file: str,
    address: str,
    read_options: dict[str, Any],
    *,
    output: Path | None,
    ledger: Path | None,
    shown: dict[str, str],
    sample_rows: int,
    blocksize: int,
    json_out: bool,
    quiet: bool,
    options: dict[str, Any],
) -> None:
    """``clean --dask``: fit on a sample, clean every partition, merge the ledger exactly."""
    from apprentice.scale import clean_partitioned, connect, read_partitioned
    from apprentice.storage import local_input

    with connect(address) as client, local_input(file) as local:
        assert client is not None
        table = read_partitioned(str(local), client=client, blocksize=blocksize, **read_options)
        result = clean_partitioned(table, client=client, sample_rows=sample_rows, **options)
        written = result.write(client=client, output=output, ledger=ledger)
    _show_clean(
        result,
        {k: shown.get(v, v) for k, v in written.items()},
        json_out=json_out,
        quiet=quiet,
        heading=(
            f"{table.source}: {table.n_partitions} partition(s) on Dask; recipe fitted on "
            f"{result.sample_rows:,} of {result.rows_total:,} rows"
        ),
    )


def _show_clean(
    result: CleanFileResult | PartitionedClean,
    written: dict[str, str],
    *,
    json_out: bool,
    quiet: bool,
    heading: str | None = None,
    preview: Callable[[], str] | None = None,
) -> None:
    """Print a clean's account: the JSON summary with the files written and each column's
    type, or (unless quiet) ``heading``, the PII-safe description and ``preview()``."""
    if json_out:
        payload = result.summary()
        payload["output"] = written.get("output")
        payload["ledger_file"] = written.get("ledger")
        payload["column_types"] = {
            c.name: {
                "kind": c.kind,
                "dtype": c.dtype,
                "semantic": c.semantic,
                "missing": c.n_missing,
            }
            for c in result.ledger.columns
        }
        emit_json(payload)
        return
    if quiet:
        return
    if heading is not None:
        err_console.print(heading, markup=False)
    for line in result.describe():
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    if preview is not None:
        err_console.print(preview(), markup=False)


def _apply_recipe(
    file: str,
    read_options: dict[str, Any],
    recipe_path: Path,
    output: Path | None,
    ledger: Path | None,
    json_out: bool,
    quiet: bool,
    shown: dict[str, str] | None = None,
) -> None:
    """Clean new rows with a saved recipe; report counts only (no cell values: PII-safe)."""
    from apprentice.clean import Cleaner
    from apprentice.clean.names import clean_names
    from apprentice.errors import InputError
    from apprentice.read import read

    if not recipe_path.is_file():
        raise InputError(f"recipe file {str(recipe_path)!r} does not exist")
    cleaner = Cleaner.from_recipe(recipe_path.read_text(encoding="utf-8"))
    raw = read(file, **read_options)
    frame = raw.table.copy(deep=False)
    originals = list(raw.original_columns) or list(frame.columns)
    if len(originals) == frame.shape[1]:
        frame.columns = [n for n, _, _ in clean_names(originals)]
    table, report = cleaner.transform_with_report(frame)
    counts = {
        col: {k: v for k, v in info.items() if k != "examples"}
        for col, info in report.columns.items()
    }
    if output is not None:
        path = output
        if path.suffix.lower() in (".parquet", ".pq"):
            table.to_parquet(path, index=False)
        else:
            from apprentice.clean.output import csv_frame

            csv_frame(table, cleaner.recipe_).to_csv(path, index=False)
    payload = {
        "source": raw.source,
        "recipe": str(recipe_path),
        "output": (shown or {}).get(str(output), str(output)) if output else None,
        "rows": len(table),
        "columns_with_issues": counts,
        "extra_columns": report.extra_columns,
    }
    if ledger is not None:
        ledger.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    if json_out:
        emit_json(payload)
    elif not quiet:
        err_console.print(
            f"{raw.source}: {len(table):,} rows cleaned with {recipe_path}", markup=False
        )
        for col, info in counts.items():
            parts = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in info.items() if v)
            err_console.print(f"  {col}: {parts}", markup=False)
        if not counts:
            err_console.print("  every cell fits the recipe", markup=False)


def why_command(
    file: Annotated[str, typer.Argument(help="The file that was cleaned.")],
    column: Annotated[str, typer.Option("--column", "-c", help="Column name or 0-based position.")],
    row: Annotated[
        int | None, typer.Option("--row", "-r", help="0-based data row (as in the cleaned table).")
    ] = None,
    line: Annotated[
        int | None, typer.Option("--line", help="Line of the source file where the row starts.")
    ] = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="Learn the recipe with the settings recorded in this ledger (path or URL).",
        ),
    ] = None,
    format: FormatOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Where one cell's cleaned value (or NaN) came from: raw text, cleaned value, rule."""
    import numpy as np

    from apprentice.errors import ConfigError, InputError
    from apprentice.read import read
    from apprentice.workflows import clean_file

    if (row is None) == (line is None):
        raise ConfigError("give exactly one of --row (0-based data row) or --line (source line)")
    settings = _ledger_settings(local_file(ledger))
    raw = read(file, **_read_options(format, encoding, delimiter, header))
    if line is not None:
        lines = np.asarray(raw.line_numbers)
        if len(lines) != len(raw.table):
            raise InputError(
                "the reader recorded no line numbers for this file; give --row (0-based) instead"
            )
        hits = np.flatnonzero(lines == line)
        if hits.size == 0:
            raise InputError(
                f"line {line} holds no data row (it may be the header, a quarantined row or "
                "inside a quoted field); `apprentice read FILE` lists the rows"
            )
        row = int(hits[0])
    result = clean_file(raw, **settings)
    col: str | int = column
    if column not in [str(c) for c in result.table.columns] and column.isdigit():
        col = int(column)
    assert row is not None
    ans = result.explain(row, col)
    if json_out:
        emit_json(ans.to_dict())
        return
    if quiet:  # like every command: nothing but errors (the exit status says it was found)
        return
    for text in ans.lines():
        out_console.print(text, markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("clean")(clean_command)
    app.command("why")(why_command)
