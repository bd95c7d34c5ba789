"""Parquet files through pyarrow, batch by batch, every column turned into text.

Parquet is already typed, but the read stage hands the clean stage text cells for every
format so that one set of rules (and one ledger) decides types. We convert with Arrow compute
kernels instead of ``pandas.read_parquet(...).astype(str)``, which would write a missing value
as ``"None"``/``"nan"``, integers with a null as ``"1.0"``, and fail on nested columns. Here
nulls stay missing, numbers keep their shortest form, timestamps are ISO 8601, nested values
(lists, structs, maps) become JSON text, and the original Arrow types are noted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import ParseError
from apprentice.read._source import Source, open_binary, unique_names, value_text
from apprentice.read.hints import ReadHints
from apprentice.read.result import ReadResult, RowSample, draw_rows, rows_wanted, sample_note

_BATCH_ROWS = 64 * 1024
_FRACTION_ZEROS = r"\.0+(Z|[+-]\d\d:?\d\d)?$"


def _python_text(array: Any) -> Any:
    """Slow path: each value through :func:`value_text` (nested, binary, durations)."""
    import pyarrow as pa

    return pa.array([value_text(v) for v in array.to_pylist()], type=pa.large_string())


def arrow_text(array: Any) -> Any:
    """An Arrow array as a ``large_string`` array of text cells (nulls stay null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):
        return arrow_text(array.dictionary_decode())
    if pa.types.is_large_string(kind):
        return array
    if pa.types.is_string(kind) or pa.types.is_string_view(kind):
        return pc.cast(array, pa.large_string())
    if pa.types.is_null(kind):
        return pa.nulls(len(array), type=pa.large_string())
    if (
        pa.types.is_boolean(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_date(kind)
    ):
        try:
            return pc.cast(array, pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _python_text(array)
    if pa.types.is_timestamp(kind) or pa.types.is_time(kind):
        try:
            text = pc.cast(array, pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _python_text(array)
        return pc.replace_substring_regex(text, pattern=_FRACTION_ZEROS, replacement=r"\1")
    return _python_text(array)


def type_notes(schema: Any) -> str:
    parts = [f"{field.name}: {field.type}" for field in schema]
    shown = "; ".join(parts[:40])
    more = f"; and {len(parts) - 40} more" if len(parts) > 40 else ""
    return f"original Arrow types: {shown}{more}"


def open_parquet(source: Any, name: str) -> Any:
    """``pyarrow.parquet.ParquetFile`` of ``source``, or a :class:`ParseError` saying why not."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(source)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ParseError(
            f"{name}: not a readable Parquet file ({type(exc).__name__}); check that it was "
            "written completely, or write it again"
        ) from None


def _sampled_batches(pfile: Any, positions: np.ndarray) -> Any:
    """The rows at ``positions`` (sorted), row group by row group: only the groups that hold
    one are decoded, and only the rows drawn become text."""
    starts = np.cumsum(
        [0] + [pfile.metadata.row_group(i).num_rows for i in range(pfile.num_row_groups)]
    )
    for i in range(pfile.num_row_groups):
        lo, hi = np.searchsorted(positions, [starts[i], starts[i + 1]])
        if hi <= lo:
            continue
        group = pfile.read_row_group(i, use_pandas_metadata=False)
        yield from group.take(positions[lo:hi] - starts[i]).to_batches()


def read_parquet(
    src: Source, hints: ReadHints, *, sample: tuple[RowSample, int] = (None, 0)
) -> ReadResult:
    """Read a Parquet file as text cells (hints other than none apply to text formats only);
    ``sample`` (``(sample_rows, seed)`` of :func:`apprentice.read`): a random part of the
    rows, drawn from the file's row count before any cell becomes text."""
    import pyarrow as pa

    del hints  # Parquet carries its own schema; dialect hints do not apply
    stream = open_binary(src)
    try:
        pfile = open_parquet(stream, src.name)
        schema = pfile.schema_arrow
        names = [str(n) for n in schema.names]
        chunks: list[list[Any]] = [[] for _ in names]
        positions = draw_rows(
            pfile.metadata.num_rows, rows_wanted(sample[0], len(names)), sample[1]
        )
        try:
            if positions is None:
                batches = pfile.iter_batches(batch_size=_BATCH_ROWS, use_pandas_metadata=False)
            else:
                batches = _sampled_batches(pfile, positions)
            for batch in batches:
                for j in range(batch.num_columns):
                    chunks[j].append(arrow_text(batch.column(j)))
        except (pa.ArrowException, OSError) as exc:
            raise ParseError(
                f"{src.name}: the Parquet data is damaged ({type(exc).__name__}); check that "
                "the file was written completely, or write it again"
            ) from None
        n_rows = pfile.metadata.num_rows
        row_groups = pfile.num_row_groups
    finally:
        stream.close()
    columns = {}
    for j, parts in enumerate(chunks):
        chunked = pa.chunked_array(parts, type=pa.large_string())
        columns[j] = pd.Series(chunked.to_pandas(), dtype="str")
    notes = [f"{n_rows:,} rows in {row_groups} row group(s)", type_notes(schema)]
    if src.compression:
        notes.insert(0, f"read from {src.describe()}")
    kept = n_rows if positions is None else len(positions)
    if positions is not None:
        notes.append(sample_note(kept, n_rows, sample[1]))
    table = pd.DataFrame(columns) if columns else pd.DataFrame(index=pd.RangeIndex(kept))
    table.columns = pd.Index(unique_names(names, notes), dtype="object")
    return ReadResult(
        table=table,
        source=src.name,
        format="parquet",
        notes=notes,
        line_numbers=(
            np.arange(1, len(table) + 1, dtype=np.int64)
            if positions is None
            else np.asarray(positions + 1, dtype=np.int64)
        ),
        original_columns=names,
        rows_sampled_from=None if positions is None else n_rows,
    )
