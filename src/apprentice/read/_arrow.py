"""The fast path for large delimited files: pyarrow's parser with our detection and repairs.

The dialect, preamble and header are detected on the first megabytes with the careful path;
pyarrow then reads the whole file with every column as text, on all cores. Rows of the wrong
width come back through pyarrow's invalid-row handler; each is located in the file (for its
line number), then repaired or quarantined by the same logic as the careful path. Files the
sample shows to be unusual (several tables, multi-line fields, a multi-character delimiter,
a non-UTF-8 encoding) go the careful way instead, so both paths give the same answer.
"""

from __future__ import annotations

import io
import mmap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.read._repair import Scorer, best_repair
from apprentice.read._table import ParsedTable, acceptable, parse_table, quarantine_reason
from apprentice.read._tokenize import Format, parse_text
from apprentice.read.encoding import guess_encoding
from apprentice.read.hints import ReadHints

SAMPLE_BYTES = 1024 * 1024
_MAX_INVALID = 1000


def _sample_text(path: Path) -> tuple[str, str] | None:
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    encoding, _ = guess_encoding(head)
    if encoding not in ("ascii", "utf-8", "utf-8-sig"):
        return None
    cut = head.rfind(b"\n")
    if cut <= 0:
        return None
    text = head[: cut + 1].decode("utf-8", errors="replace").removeprefix("\ufeff")
    return text, encoding


def _arrow_delimiter(fmt: Format, sample: str) -> bool:
    """Whether pyarrow can split like the careful path: one delimiter character, or a
    delimiter plus spaces that are trimmed after the read when no quoted field follows them."""
    if len(fmt.delimiter) == 1 and not fmt.skipinitialspace:
        return True
    first = fmt.delimiter[0]
    if first == " " or fmt.delimiter.strip(" ") != first:
        return False
    return fmt.quotechar is None or (first + " " + fmt.quotechar) not in sample


def _line_of(mm: mmap.mmap, offsets: list[int]) -> dict[int, int]:
    """1-based line number of each byte offset (one pass over the file)."""
    out: dict[int, int] = {}
    line, pos = 1, 0
    for off in sorted(offsets):
        line += mm[pos:off].count(b"\n")
        pos = off
        out[off] = line
    return out


def text_column_names(width: int) -> list[str]:
    """The placeholder column names pyarrow reads a ``width``-column body under."""
    return [f"c{i}" for i in range(width)]


def text_csv_options(fmt: Format, names: list[str], on_invalid: Callable[[Any], str]) -> Any:
    """``(ParseOptions, ConvertOptions)`` that make pyarrow split by ``fmt`` one physical line
    per record, keep every cell as text (no nulls), and hand rows of the wrong width to
    ``on_invalid``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    parse_options = pacsv.ParseOptions(
        delimiter=fmt.delimiter[0],
        quote_char=fmt.quotechar or False,
        double_quote=fmt.doublequote,
        escape_char=fmt.escapechar or False,
        newlines_in_values=False,
        ignore_empty_lines=False,
        invalid_row_handler=on_invalid,
    )
    convert_options = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names, pa.large_string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        null_values=[],
    )
    return parse_options, convert_options


def settle_invalid_rows(
    invalid: list[str],
    lines: list[int],
    fmt: Format,
    width: int,
    row_logp: Scorer,
    floor: float,
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str, str]]]:
    """``(repaired, quarantined)`` for the rows pyarrow rejected (``invalid``, found on
    ``lines``): each is repaired when the careful path's scorer finds an acceptable repair,
    else quarantined with its reason; blank lines are neither."""
    repaired: list[tuple[int, list[str]]] = []
    quarantined: list[tuple[int, str, str]] = []
    for raw, line in zip(invalid, lines, strict=True):
        fields = parse_text(raw, fmt)
        cells = fields[0] if len(fields) == 1 else [raw]
        if not any(c.strip() for c in cells):
            continue  # a blank line
        rep, why = best_repair(raw, cells, fmt, width, row_logp)
        if rep is not None and acceptable(rep, floor):
            repaired.append((line, rep.fields))
        else:
            quarantined.append((line, raw, quarantine_reason(len(cells), width, rep, why)))
    return repaired, quarantined


def place_rows(
    table: Any,
    first: int,
    n_total: int,
    invalid_lines: list[int],
    repaired: list[tuple[int, list[str]]],
) -> tuple[Any, np.ndarray] | None:
    """``(table, line numbers)``: the rows pyarrow kept from lines ``first..first+n_total-1``
    (all but ``invalid_lines``) with the ``repaired`` rows put back in line order, or
    ``None`` when the kept rows do not match the remaining lines one for one."""
    import pyarrow as pa

    all_lines = np.arange(first, first + n_total, dtype=np.int64)
    line_numbers = np.setdiff1d(
        all_lines, np.asarray(invalid_lines, dtype=np.int64), assume_unique=True
    )
    if len(line_numbers) != table.num_rows:
        return None
    if repaired:
        extra = pa.table(
            {
                n: pa.array([r[1][i] for r in repaired], pa.large_string())
                for i, n in enumerate(table.column_names)
            }
        )
        table = pa.concat_tables([table, extra])
        line_numbers = np.concatenate([line_numbers, [r[0] for r in repaired]])
        order = np.argsort(line_numbers, kind="stable")
        table = table.take(pa.array(order))
        line_numbers = line_numbers[order]
    return table, line_numbers


def trim_after_delimiter(table: Any) -> Any:
    """The table with the spaces after each delimiter (the start of every cell but the
    first column's) removed, for ``", "``-separated files."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pa.table(
        [col if i == 0 else pc.utf8_ltrim(col, " ") for i, col in enumerate(table.columns)],
        names=table.column_names,
    )


def drop_blank_rows(table: Any, line_numbers: np.ndarray) -> tuple[Any, np.ndarray, int]:
    """``(table, line numbers, blanks)`` without the all-empty rows (blank lines)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_columns == 0 or table.num_rows == 0:
        return table, line_numbers, 0
    # the rows whose cells are empty so far, narrowed column by column: on most files the
    # first column already leaves none, so a wide table costs one pass, not one per column
    rows = np.arange(table.num_rows, dtype=np.int64)
    for col in table.columns:
        cells = col if len(rows) == table.num_rows else col.take(pa.array(rows))
        empty = pc.equal(pc.utf8_length(cells), 0)
        rows = rows[np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)]
        if len(rows) == 0:
            return table, line_numbers, 0
    blanks = len(rows)
    keep = np.ones(table.num_rows, dtype=bool)
    keep[rows] = False
    table = table.filter(pa.array(keep))
    line_numbers = line_numbers[keep]
    return table, line_numbers, blanks


class _Counting(io.RawIOBase):
    """A file that reports how many bytes pyarrow has pulled from it (for the progress bar)."""

    def __init__(self, path: Path, report: Callable[[int, int | None], None] | None) -> None:
        self._fh = path.open("rb")
        self._total = path.stat().st_size
        self._done = 0
        self._report = report

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._fh.readinto(buffer)
        self._done += n or 0
        if self._report is not None:
            self._report(self._done, self._total)
        return n or 0

    def close(self) -> None:
        self._fh.close()
        super().close()


def read_large(
    path: Path, hints: ReadHints, progress: Callable[[int, int | None], None] | None = None
) -> tuple[ParsedTable, Any, np.ndarray, str] | None:
    """``(account, arrow table, line numbers, encoding)``, or ``None`` to take the careful path."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sample = _sample_text(path)
    if sample is None:
        return None
    text, encoding = sample
    parsed = parse_table(text, hints)
    fmt = parsed.format
    width = len(parsed.header)
    if (
        parsed.other_tables
        or parsed.multiline_rows
        or parsed.ragged
        or not _arrow_delimiter(fmt, text)
        or width == 0
        or len(parsed.quarantine) > 0.01 * max(len(parsed.rows), 1)
        or parsed.profile is None
    ):
        return None
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip" if len(invalid) <= _MAX_INVALID else "error"

    names = text_column_names(width)
    read_options = pacsv.ReadOptions(
        skip_rows=parsed.first_body_line,
        column_names=names,
        block_size=8 * 1024 * 1024,
        use_threads=True,
    )
    parse_options, convert_options = text_csv_options(fmt, names, on_invalid)
    try:
        if progress is None:
            source: Any = path
            table = pacsv.read_csv(source, read_options, parse_options, convert_options)
        else:
            # pyarrow reports no progress; count the bytes it pulls through a file wrapper
            with _Counting(path, progress) as counted:
                buffered = io.BufferedReader(counted, buffer_size=8 * 1024 * 1024)
                table = pacsv.read_csv(buffered, read_options, parse_options, convert_options)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # too many broken rows or undecodable bytes: the careful path copes
    first = parsed.first_body_line + 1
    n_total = table.num_rows + len(invalid)
    invalid_at: list[int] = []
    if invalid:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            offsets: list[int] = []
            used: set[int] = set()
            for raw in invalid:
                needle = raw.encode("utf-8")
                pos = mm.find(needle)
                while pos in used and pos >= 0:
                    pos = mm.find(needle, pos + 1)
                used.add(pos)
                offsets.append(pos)
            lines_at = _line_of(mm, [o for o in offsets if o >= 0])
        invalid_at = [lines_at.get(off, 0) for off in offsets]
    repaired_rows: list[tuple[int, list[str]]] = []
    rows_q: list[tuple[int, str, str]] = []
    if invalid:  # (the floor is computed only when there is a row to judge)
        repaired_rows, rows_q = settle_invalid_rows(
            invalid, invalid_at, fmt, width, parsed.profile.row_logp, parsed.repair_floor
        )
    placed = place_rows(table, first, n_total, invalid_at, repaired_rows)
    if placed is None:  # a row we could not place: be exact instead
        return None
    table, line_numbers = placed
    if fmt.skipinitialspace or len(fmt.delimiter) > 1:
        # ", "-separated: the spaces after each delimiter belong to it, as in the careful path
        table = trim_after_delimiter(table)
    # blank lines come through as all-empty rows; the careful path skips them too
    table, line_numbers, blanks = drop_blank_rows(table, line_numbers)
    notes = [
        n
        for n in parsed.notes
        if "repaired unambiguously" not in n
        and "blank line" not in n
        and not n.startswith("finding: only")
    ]
    if blanks:
        notes.append(f"{blanks} blank line(s) skipped")
    if repaired_rows:
        notes.append(f"{len(repaired_rows)} broken row(s) repaired unambiguously")
    notes.append("read with the multi-threaded fast path (dialect and header detected on a sample)")
    account = ParsedTable(
        header=parsed.header,
        header_generated=parsed.header_generated,
        rows=[],
        lines=[],
        quarantine=sorted(rows_q),
        dialect=parsed.dialect,
        notes=notes,
        repaired=len(repaired_rows),
        other_tables=[],
        format=fmt,
        profile=parsed.profile,
        first_body_line=parsed.first_body_line,
        # lines before the body as the sample saw them; then one line per record
        line_roles=parsed.line_roles[: parsed.first_body_line]
        + ["blank"] * blanks
        + ["kept"] * table.num_rows
        + ["quarantined"] * len(rows_q),
    )
    return account, table, line_numbers, encoding
