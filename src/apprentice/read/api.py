"""``apprentice.read``: any table a user has, as text cells plus an account of the parse."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from apprentice.config import Settings, get_settings
from apprentice.errors import EmptyInputError, UnsupportedFormatError
from apprentice.read._source import open_source
from apprentice.read.hints import ReadHints
from apprentice.read.result import ReadResult, RowSample, take_rows
from apprentice.storage import is_url, local_input

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes done, bytes total or None) during long reads."""

FORMATS = ("csv", "json", "jsonl", "excel", "parquet", "sql")


def _is_sql_url(spec: str) -> bool:
    head = spec.split("://", 1)[0].lower()
    return "://" in spec and head.split("+", 1)[0] in {
        "sqlite",
        "postgresql",
        "postgres",
        "mysql",
        "mssql",
        "oracle",
        "duckdb",
    }


def read(
    source: str | Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    quotechar: str | None = None,
    escapechar: str | None = None,
    header: int | None = None,
    skip_rows: int | None = None,
    sheet: str | int | None = None,
    table: str | None = None,
    query: str | None = None,
    settings: Settings | None = None,
    progress: ProgressCallback | None = None,
    sample_rows: RowSample = None,
    seed: int = 0,
) -> ReadResult:
    """Read ``source`` into a table of text cells.

    ``source`` is a file path (CSV/TSV/any delimited text, JSON, JSONL, Excel, Parquet, each
    optionally ``.gz/.bz2/.xz/.zip`` compressed), ``-`` for stdin, or a SQLAlchemy URL
    (``sqlite:///file.db`` with ``table`` or ``query``), or a storage URL (``s3://``,
    ``gs://``, ``az://``, ``file://``; see :mod:`apprentice.storage`). Every keyword other
    than ``source`` is a hint that overrides detection. No row is ever dropped silently: rows
    that cannot be parsed unambiguously are in ``result.quarantine`` with their line number
    and reason.
    Input with nothing in it (a 0-byte file, an empty archive) gives an empty table whose
    notes say so; every other problem raises an :class:`~apprentice.errors.ApprenticeError`.

    ``sample_rows`` (the most rows to keep, or a function of the column count giving it) keeps
    a random part of the rows (``seed``) when the source holds more: ``rows_sampled_from``
    then gives how many it holds and a note says so. Parquet files and large delimited files
    draw the rows before turning cells into text; other sources are read whole first.
    """
    settings = settings or get_settings()
    hints = ReadHints(
        encoding=encoding,
        delimiter=delimiter,
        quotechar=quotechar,
        escapechar=escapechar,
        header=header,
        skip_rows=skip_rows,
        sheet=sheet,
        table=table,
        query=query,
    )
    if format is not None and format not in FORMATS:
        raise UnsupportedFormatError(
            f"format {format!r} is not supported; choose one of {', '.join(FORMATS)}"
        )
    spec = str(source)
    if format == "sql" or _is_sql_url(spec):
        from apprentice.read.sql import read_sql

        return take_rows(read_sql(spec, hints), sample_rows, seed)
    try:
        if is_url(spec):
            # a storage URL: a local copy under the object's name, read, then removed
            with local_input(spec) as local:
                result = _read_source(
                    str(local), format, hints, settings, progress, (sample_rows, seed), name=spec
                )
            result.source = spec
        else:
            result = _read_source(source, format, hints, settings, progress, (sample_rows, seed))
    except EmptyInputError as exc:
        # nothing to read is an answer, not a failure: an empty table that says why
        return ReadResult(
            table=pd.DataFrame(), source=spec, format=format or "empty", notes=[exc.message]
        )
    return take_rows(result, sample_rows, seed)


def _read_source(
    source: str | Path,
    format: str | None,
    hints: ReadHints,
    settings: Settings,
    progress: ProgressCallback | None,
    sample: tuple[RowSample, int],
    *,
    name: str | None = None,
) -> ReadResult:
    src = open_source(source, format=format, max_bytes=settings.max_decompressed_bytes, name=name)
    reader: Callable[..., ReadResult]
    kwargs: dict[str, Any] = {}
    if src.format == "csv":
        from apprentice.read.delimited import read_delimited

        reader = read_delimited
        kwargs = {"settings": settings, "progress": progress, "sample": sample}
    elif src.format == "json":
        from apprentice.read.jsonfile import read_json

        reader = read_json
    elif src.format == "jsonl":
        from apprentice.read.jsonfile import read_jsonl

        reader = read_jsonl
    elif src.format == "excel":
        from apprentice.read.excel import read_excel

        reader = read_excel
    elif src.format == "parquet":
        from apprentice.read.parquet import read_parquet

        reader = read_parquet
        kwargs = {"sample": sample}
    else:
        raise UnsupportedFormatError(
            f"{src.name}: format {src.format!r} is not supported; convert it to CSV or Parquet"
        )
    return reader(src, hints, **kwargs)
