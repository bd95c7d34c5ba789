"""Read a CSV or Parquet file that does not fit in memory as a partitioned Dask table.

The table of text cells is a :mod:`dask.dataframe` whose partitions are built on the
workers, so no process ever holds the whole file. Why the design is as it is:

* **Detection happens once, on the client.** The dialect, preamble and header are detected
  on the first megabyte by the same code as the in-process reader
  (:func:`apprentice.read.blocks.parse_table`, as its pyarrow fast path does), so every
  partition is read with one dialect and one header, never re-guessed from a slice.
* **CSV is split into byte blocks aligned to line ends** and each block is parsed on a worker
  by the in-process fast path's rules: pyarrow with every column as text, rows of the wrong
  width handed to the same repair scorer (the reader's own repair scorer) and
  quarantined with the same reasons. Because that parser treats each physical line as one
  record (``newlines_in_values=False``), a block boundary never changes how a line is read:
  the blocks together give exactly what one pass over the file gives.
* **Line numbers stay in the file's terms.** A first pass over the blocks (on the workers)
  counts each block's lines and collects its quarantined rows and row counts; the client adds
  up the line counts, so block *k* starts at an exactly known line. Each partition's index is
  the 1-based source line of its rows (the Parquet row number for Parquet), which is what the
  ledger's examples cite. ``rows_read == rows_kept + rows_quarantined`` holds exactly.
* **Parquet partitions are row groups**, each turned into text by the in-process reader's own
  converter (:func:`apprentice.read.parquet.arrow_text`), so cells match ``apprentice.read``.

Known limits, refused with a clear error rather than mis-parsed: compressed input (a
compressed stream cannot be split; decompress it, or run in-process), stdin and pipes,
UTF-16/32 text, a file holding several tables, a multi-character delimiter pyarrow cannot
split on, CR-only line ends, and quoted fields that span lines when the sample shows them.
A quoted field with a line break that the sample did not show (further into the file) is
read line by line like the in-process fast path does: its pieces are repaired or quarantined
with their line numbers and a note says so; nothing is silently mis-parsed or dropped.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apprentice.errors import InputError, UnsupportedFormatError

if TYPE_CHECKING:
    from distributed import Client

    from apprentice.read.blocks import Format, TableProfile
    from apprentice.read.result import Dialect

_SCAN = 1 << 16
_UTF8 = ("ascii", "utf-8", "utf-8-sig")


@dataclass
class PartitionedTable:
    """A table of text cells in partitions (what :func:`read_partitioned` returns).

    ``frame`` is a lazy Dask DataFrame of text cells (pandas ``str`` dtype) whose index is
    the 1-based source line of each row (the 1-based record number for Parquet).
    ``partition_rows`` holds the exact number of kept rows of each partition, so the global
    position of any row is known without a pass over the data.
    """

    frame: Any
    columns: list[str]
    source: str
    format: str
    dialect: Dialect | None
    encoding: str | None
    quarantine: pd.DataFrame
    n_partitions: int
    partition_rows: list[int]
    rows_repaired: int = 0
    original_columns: list[str] = field(default_factory=list)
    header_generated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def rows_kept(self) -> int:
        return int(sum(self.partition_rows))

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def rows_read(self) -> int:
        return self.rows_kept + self.rows_quarantined

    @property
    def row_offsets(self) -> list[int]:
        """0-based data row of the first row of each partition."""
        return [int(x) for x in np.concatenate([[0], np.cumsum(self.partition_rows)[:-1]])][
            : self.n_partitions
        ]

    def summary(self) -> dict[str, Any]:
        """JSON-able account of the read (as :meth:`ReadResult.summary`, plus partitions)."""
        return {
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "dialect": self.dialect.to_dict() if self.dialect else None,
            "columns": list(self.columns),
            "header_generated": self.header_generated,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "rows_repaired": self.rows_repaired,
            "n_partitions": self.n_partitions,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------
# CSV: one dialect, byte blocks, parsed on the workers


@dataclass(frozen=True)
class _CsvSpec:
    """Everything a worker needs to parse a block like the in-process fast path."""

    path: str
    names: list[str]
    fmt: Format
    encoding: str
    profile: TableProfile
    floor: float
    trim: bool


@dataclass
class _BlockInfo:
    newlines: int
    kept: int
    repaired: int
    blanks: int
    quarantine: list[tuple[int, str, str]]


def _empty_frame(names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({i: pd.Series(dtype="str") for i in range(len(names))})
    frame.columns = pd.Index(names, dtype="object")
    frame.index = pd.Index(np.zeros(0, dtype=np.int64))
    return frame


def _parse_block(
    spec: _CsvSpec, start: int, end: int, first_line: int
) -> tuple[pd.DataFrame, _BlockInfo]:
    """Parse bytes ``start:end`` (whole lines) of the file; ``first_line`` is the 1-based
    line the block starts on. Mirrors the in-process pyarrow fast path."""
    import pyarrow.csv as pacsv

    from apprentice.read.blocks import (
        drop_blank_rows,
        place_rows,
        settle_invalid_rows,
        text_column_names,
        text_csv_options,
        trim_after_delimiter,
    )

    with open(spec.path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    newlines = data.count(b"\n")
    if spec.encoding not in _UTF8:
        data = data.decode(spec.encoding, errors="replace").encode("utf-8")
    width = len(spec.names)
    if not data:
        return _empty_frame(spec.names), _BlockInfo(newlines, 0, 0, 0, [])
    fmt = spec.fmt
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    cols = text_column_names(width)
    parse_options, convert_options = text_csv_options(fmt, cols, on_invalid)
    table = pacsv.read_csv(
        io.BytesIO(data),
        pacsv.ReadOptions(column_names=cols, block_size=8 * 1024 * 1024, use_threads=False),
        parse_options,
        convert_options,
    )
    n_total = table.num_rows + len(invalid)
    invalid_lines: list[int] = []
    used: set[int] = set()
    for raw in invalid:
        needle = raw.encode("utf-8")
        pos = data.find(needle)
        while pos in used and pos >= 0:
            pos = data.find(needle, pos + 1)
        used.add(pos)
        invalid_lines.append(first_line + data.count(b"\n", 0, pos) if pos >= 0 else 0)
    repaired_rows, quarantined = settle_invalid_rows(
        invalid, invalid_lines, fmt, width, spec.profile.row_logp, spec.floor
    )
    placed = place_rows(table, first_line, n_total, invalid_lines, repaired_rows)
    if placed is None:
        raise InputError(
            f"{spec.path}: the rows of lines {first_line}.. could not be placed exactly (a "
            "line break inside a quoted field?); read this file without --dask"
        )
    table, lines = placed
    if spec.trim:
        table = trim_after_delimiter(table)
    table, lines, blanks = drop_blank_rows(table, lines)
    frame = table.to_pandas() if width else _empty_frame(spec.names)
    frame.columns = pd.Index(spec.names, dtype="object")
    frame.index = pd.Index(lines, dtype=np.int64)
    info = _BlockInfo(newlines, len(frame), len(repaired_rows), blanks, quarantined)
    return frame, info


def _block_frame(part: tuple[_CsvSpec, int, int, int]) -> pd.DataFrame:
    spec, start, end, first_line = part
    return _parse_block(spec, start, end, first_line)[0]


def _block_info(spec: _CsvSpec, start: int, end: int) -> _BlockInfo:
    return _parse_block(spec, start, end, 1)[1]


def _bounds(path: Path, start: int, blocksize: int, terminator: bytes) -> list[int]:
    """Byte offsets ``[start, ..., size]`` cutting the file right after a line end."""
    size = path.stat().st_size
    out = [start]
    with path.open("rb") as fh:
        pos = start
        while pos < size:
            nxt = pos + max(int(blocksize), 1)
            if nxt >= size:
                out.append(size)
                break
            fh.seek(nxt)
            while True:
                chunk = fh.read(_SCAN)
                if not chunk:
                    nxt = size
                    break
                hit = chunk.find(terminator)
                if hit >= 0:
                    nxt += hit + 1
                    break
                nxt += len(chunk)
            out.append(nxt)
            pos = nxt
    return out


def _body_offset(head: bytes, lines: int) -> int:
    """Byte offset of the start of physical line ``lines`` (0-based) in ``head``."""
    pos = 0
    for _ in range(lines):
        hit = head.find(b"\n", pos)
        if hit < 0:
            return len(head)
        pos = hit + 1
    return pos


def _refuse(name: str, why: str) -> InputError:
    return InputError(
        f"{name}: {why}, so it cannot be split into partitions; run without --dask (the "
        "in-process reader handles it), or convert it to Parquet"
    )


def _read_csv(
    path: Path, name: str, hints: Any, client: Client, blocksize: int
) -> PartitionedTable:
    import dask.dataframe as dd

    from apprentice.read.blocks import SAMPLE_BYTES, arrow_delimiter, parse_table
    from apprentice.read.delimited import unique_names
    from apprentice.read.encoding import guess_encoding
    from apprentice.read.result import make_quarantine
    from apprentice.scale.cluster import gather

    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    encoding, bom = (hints.encoding, False) if hints.encoding else guess_encoding(head)
    if encoding.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
        raise _refuse(name, f"it is {encoding} text (lines cannot be found in its bytes)")
    cut = head.rfind(b"\n")
    if cut <= 0 and len(head) == SAMPLE_BYTES:
        raise _refuse(name, "its first megabyte holds no line end")
    sample = head[: cut + 1] if cut > 0 and len(head) == SAMPLE_BYTES else head
    codec = "utf-8" if encoding in _UTF8 else encoding
    text = sample.decode(codec, errors="replace").removeprefix("\ufeff")
    parsed = parse_table(text, hints)
    fmt = parsed.format
    width = len(parsed.header)
    if width == 0:
        raise _refuse(name, "no table was found in its first megabyte")
    if parsed.other_tables:
        raise _refuse(name, f"it holds {len(parsed.other_tables) + 1} tables")
    if parsed.multiline_rows:
        raise _refuse(name, "quoted fields span several lines")
    if parsed.dialect.lineterminator == "\r":
        raise _refuse(name, "its lines end with CR only")
    if not arrow_delimiter(fmt, text):
        raise _refuse(name, f"its delimiter {fmt.delimiter!r} cannot be split on by the parser")
    if parsed.dialect.trailing_empty_column:
        raise _refuse(name, "a delimiter ends every line")
    assert parsed.profile is not None
    names = unique_names(parsed.header)
    spec = _CsvSpec(
        path=str(path),
        names=names,
        fmt=fmt,
        encoding=codec,
        profile=parsed.profile,
        floor=parsed.repair_floor,
        trim=fmt.skipinitialspace or len(fmt.delimiter) > 1,
    )
    start = _body_offset(head, parsed.first_body_line)
    bounds = _bounds(path, start, blocksize, b"\n")
    blocks = list(itertools.pairwise(bounds))
    # pass 1, on the workers: each block's line count, rows kept and quarantined
    futures = [client.submit(_block_info, spec, a, b, pure=False) for a, b in blocks]
    infos: list[_BlockInfo] = gather(client, futures)
    first_lines: list[int] = []
    line = parsed.first_body_line + 1
    quarantine: list[tuple[int, str, str]] = []
    for info in infos:
        first_lines.append(line)
        quarantine += [(q[0] + line - 1, q[1], q[2]) for q in info.quarantine]
        line += info.newlines
    quarantine.sort()
    parts = [(spec, a, b, f) for (a, b), f in zip(blocks, first_lines, strict=True)]
    meta = _empty_frame(names)
    if parts:
        frame = dd.from_map(_block_frame, parts, meta=meta, enforce_metadata=False)
    else:
        frame = dd.from_pandas(meta, npartitions=1)
    notes = [
        n
        for n in parsed.notes
        if "repaired unambiguously" not in n and "blank line" not in n and "footnote" not in n
    ]
    if bom:
        notes.insert(0, f"byte-order mark found: {encoding}")
    blanks = sum(i.blanks for i in infos)
    repaired = sum(i.repaired for i in infos)
    if blanks:
        notes.append(f"{blanks} blank line(s) skipped")
    if repaired:
        notes.append(f"{repaired} broken row(s) repaired unambiguously")
    quote = fmt.quotechar
    torn = sum(1 for q in quarantine if quote and q[1].count(quote) % 2 == 1)
    if torn:
        notes.append(
            f"{torn} quarantined row(s) hold an unbalanced quote: probably the pieces of a "
            "quoted field with a line break, which the partitioned reader reads line by line; "
            "read the file without --dask to keep such rows whole"
        )
    notes.append(
        f"read in {len(parts)} partition(s) of about {blocksize:,} bytes on Dask (dialect and "
        "header detected on the first megabyte)"
    )
    return PartitionedTable(
        frame=frame,
        columns=names,
        source=name,
        format="csv",
        dialect=parsed.dialect,
        encoding=encoding,
        quarantine=make_quarantine(quarantine),
        n_partitions=max(len(parts), 1),
        partition_rows=[i.kept for i in infos] or [0],
        rows_repaired=repaired,
        original_columns=[] if parsed.header_generated else list(parsed.header),
        header_generated=parsed.header_generated,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------
# Parquet: one partition per row group


def _row_group_frame(part: tuple[str, int, int, list[str]]) -> pd.DataFrame:
    """Row group ``rg`` as text cells, exactly as :func:`apprentice.read.parquet.read_parquet`
    converts them; the index is the 1-based record number."""
    import pyarrow.parquet as pq

    from apprentice.read.parquet import arrow_text

    path, rg, first, names = part
    table = pq.ParquetFile(path).read_row_group(rg, use_pandas_metadata=False)
    columns = {
        j: pd.Series(arrow_text(table.column(j).combine_chunks()).to_pandas(), dtype="str")
        for j in range(table.num_columns)
    }
    frame = pd.DataFrame(columns) if columns else pd.DataFrame(index=pd.RangeIndex(len(table)))
    frame.columns = pd.Index(names, dtype="object")
    frame.index = pd.Index(np.arange(first, first + table.num_rows, dtype=np.int64))
    return frame


def _read_parquet(path: Path, name: str) -> PartitionedTable:
    import dask.dataframe as dd

    from apprentice.read.blocks import unique_names
    from apprentice.read.parquet import open_parquet, type_notes
    from apprentice.read.result import make_quarantine

    meta_file = open_parquet(path, name)
    schema = meta_file.schema_arrow
    originals = [str(n) for n in schema.names]
    notes: list[str] = []
    names = unique_names(originals, notes)
    md = meta_file.metadata
    rows = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    firsts = np.concatenate([[1], 1 + np.cumsum(rows)[:-1]]).astype(int).tolist() if rows else []
    parts = [(str(path), i, int(f), names) for i, f in enumerate(firsts)]
    meta = _empty_frame(names)
    if parts:
        frame = dd.from_map(_row_group_frame, parts, meta=meta, enforce_metadata=False)
    else:
        frame = dd.from_pandas(meta, npartitions=1)
    notes = [
        f"{md.num_rows:,} rows in {md.num_row_groups} row group(s)",
        type_notes(schema),
        *notes,
        f"read in {len(parts)} partition(s), one per row group, on Dask",
    ]
    return PartitionedTable(
        frame=frame,
        columns=names,
        source=name,
        format="parquet",
        dialect=None,
        encoding=None,
        quarantine=make_quarantine([]),
        n_partitions=max(len(parts), 1),
        partition_rows=[int(r) for r in rows] or [0],
        original_columns=originals,
        notes=notes,
    )


def read_partitioned(
    source: str | Path,
    *,
    client: Client,
    blocksize: int = 64 * 2**20,
    **hints: Any,
) -> PartitionedTable:
    """Read a CSV (any delimited text) or Parquet file as partitions on the Dask ``client``.

    ``hints`` are :func:`apprentice.read`'s (``format``, ``encoding``, ``delimiter``,
    ``quotechar``, ``escapechar``, ``header``, ``skip_rows``). CSV is cut into blocks of about
    ``blocksize`` bytes at line ends; Parquet into its row groups. See the module docstring
    for what is refused (compressed files among them) and why.
    """
    from apprentice.config import get_settings
    from apprentice.read.blocks import open_source
    from apprentice.read.hints import ReadHints

    format = hints.pop("format", None)
    known = {"encoding", "delimiter", "quotechar", "escapechar", "header", "skip_rows"}
    unknown = sorted(set(hints) - known)
    if unknown:
        raise InputError(
            f"read_partitioned does not take {', '.join(unknown)}; it reads files only "
            "(give a CSV or Parquet path)"
        )
    name = str(source)
    src = open_source(source, format=format, max_bytes=get_settings().max_decompressed_bytes)
    if src.compression is not None:
        raise InputError(
            f"{name}: {src.compression}-compressed input cannot be split into partitions; "
            "decompress it first (the partitions are byte ranges of the file), or run without "
            "--dask to read it in-process"
        )
    if not src.is_plain_file or src.path is None:
        raise InputError(
            f"{name}: not a file on disk; --dask reads files (save the data to a file first)"
        )
    if src.format == "parquet":
        return _read_parquet(src.path, name)
    if src.format != "csv":
        raise UnsupportedFormatError(
            f"{name}: {src.format} files are read in-process only; run without --dask, or "
            "convert the table to CSV or Parquet"
        )
    return _read_csv(src.path, name, ReadHints(**hints), client, blocksize)


# ---------------------------------------------------------------------------------------------
# sampling across partitions


def _allocate(rows: list[int], k: int) -> list[int]:
    """``k`` sample rows shared among partitions in proportion to their rows (exact sum)."""
    total = sum(rows)
    if k >= total:
        return list(rows)
    exact = np.asarray(rows, dtype=np.float64) * k / max(total, 1)
    take = np.floor(exact).astype(np.int64)
    short = k - int(take.sum())
    order = np.argsort(-(exact - take), kind="stable")
    for i in order[:short]:
        take[i] += 1
    return [int(min(t, r)) for t, r in zip(take, rows, strict=True)]


def _sample_part(
    part: pd.DataFrame, takes: list[int], seed: int, partition_info: Any = None
) -> pd.DataFrame:
    number = partition_info["number"] if partition_info else 0
    want = takes[number]
    if want >= len(part):
        return part
    rng = np.random.default_rng([seed, number])
    pick = np.sort(rng.choice(len(part), size=want, replace=False))
    return part.iloc[pick]


def sample_partitions(table: PartitionedTable, rows: int, *, client: Client, seed: int = 0) -> Any:
    """``rows`` rows drawn from every partition in proportion to its rows (seeded per
    partition), as one pandas DataFrame on this process, in source order with the source
    line as index."""
    from apprentice.scale.cluster import compute

    takes = _allocate(list(table.partition_rows), rows)
    frame = table.frame
    (sample,) = compute(client, frame.map_partitions(_sample_part, takes, seed, meta=frame._meta))
    return sample
