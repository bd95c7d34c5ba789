"""Delimited text: CSV, TSV and any other dialect, with an account of the parse.

Small and medium files go through the careful path (:mod:`apprentice.read._table`): every
record is tokenized with its line span, broken rows are repaired or quarantined. Large plain
files take the fast path (:mod:`apprentice.read._arrow`): the dialect and header are detected
on a sample, then pyarrow's multi-threaded parser reads the whole file and hands every row of
the wrong width back to the same repair logic.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.config import Settings
from apprentice.errors import EmptyInputError
from apprentice.read._source import Source, dedupe, source_bytes
from apprentice.read._table import parse_table
from apprentice.read.encoding import decode
from apprentice.read.hints import ReadHints
from apprentice.read.result import (
    LineAccount,
    ReadResult,
    RowSample,
    draw_rows,
    make_quarantine,
    rows_wanted,
    sample_note,
    text_frame,
)


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique for the frame (``a``, ``a_2``, as the cleaner names them);
    empty names get their position (``column_3``)."""
    return dedupe([name if name.strip() else f"column_{i + 1}" for i, name in enumerate(names)])


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_note(text: str) -> str | None:
    """A note naming the control characters (NUL ...) the text holds, kept as written."""
    found = Counter(_CONTROL.findall(text))
    if not found:
        return None
    names = {"\x00": "NUL", "\x1b": "ESC", "\x7f": "DEL"}
    listed = ", ".join(
        f"{n} {names.get(ch, f'U+{ord(ch):04X}')}" for ch, n in sorted(found.items())
    )
    return (
        f"control characters in the text ({listed}): kept as written in their cells; "
        "check the export that made the file"
    )


_WIDE_BYTES = 2 * 1024 * 1024
_WIDE_HEAD = 64 * 1024


def _wide(path: Path) -> bool:
    """Lines of 4 KB and more on average in the first 64 KB: a wide table, read by the fast
    path whatever its size (the careful path costs Python work per cell)."""
    with path.open("rb") as fh:
        head = fh.read(_WIDE_HEAD)
    return len(head) == _WIDE_HEAD and head.count(b"\n") + head.count(b"\r") < 16


def _fast(
    source: Source,
    hints: ReadHints,
    settings: Settings,
    progress: Any,
    sample: tuple[RowSample, int] = (None, 0),
) -> ReadResult | None:
    if not source.is_plain_file or hints.encoding not in (None, "utf-8", "utf8", "ascii"):
        return None
    assert source.path is not None
    size = source.path.stat().st_size
    if size < settings.fast_read_bytes and not (size >= _WIDE_BYTES and _wide(source.path)):
        return None
    from apprentice.read._arrow import read_large

    got = read_large(source.path, hints, progress)
    if got is None:
        return None
    parsed, table, line_numbers, encoding = got
    names = unique_names(parsed.header)
    # a random part of the rows, before they become Python text (the costly part)
    total, seed = table.num_rows, sample[1]
    positions = draw_rows(total, rows_wanted(sample[0], len(names)), seed)
    notes = list(parsed.notes)
    if positions is not None:
        table, line_numbers = table.take(positions), line_numbers[positions]
        notes.append(sample_note(len(positions), total, seed))
    frame = table.to_pandas()
    frame.columns = names
    if progress is not None:
        progress(size, size)
    return ReadResult(
        table=frame,
        source=source.name,
        format="csv",
        encoding=encoding,
        dialect=parsed.dialect,
        quarantine=make_quarantine(parsed.quarantine),
        notes=notes,
        line_numbers=line_numbers,
        rows_repaired=parsed.repaired,
        other_tables=[],
        original_columns=[] if parsed.header_generated else list(parsed.header),
        header_generated=parsed.header_generated,
        # the fast path counts records, not physical lines, after the sampled head
        lines=LineAccount(counts=dict(Counter(parsed.line_roles))),
        rows_sampled_from=None if positions is None else total,
    )


def read_delimited(
    source: Source,
    hints: ReadHints,
    *,
    settings: Settings,
    progress: Any = None,
    sample: tuple[RowSample, int] = (None, 0),
) -> ReadResult:
    """A delimited file; ``sample`` (``(sample_rows, seed)`` of :func:`apprentice.read`) is
    drawn before the cells become text on the fast path (the caller draws it otherwise)."""
    fast = _fast(source, hints, settings, progress, sample)
    if fast is not None:
        return fast
    raw = source_bytes(source)
    if progress is not None:
        progress(len(raw), len(raw))
    decoded = decode(raw, hints.encoding)
    notes: list[str] = []
    if decoded.bom:
        notes.append(f"byte-order mark found: {decoded.encoding}")
    if decoded.undecodable:
        notes.append(
            f"{decoded.undecodable} undecodable byte(s) replaced by U+FFFD under {decoded.encoding}"
        )
    text = decoded.text
    if not text.strip():
        raise EmptyInputError(
            f"{source.name}: the file holds only whitespace; there is no table to read"
        )
    parsed = parse_table(text, hints)
    control = _control_note(text)
    if control:
        notes.append(control)
    names = unique_names(parsed.header)
    if names != parsed.header and not parsed.header_generated:
        notes.append("duplicate or empty column names made unique")
    table = text_frame(names, parsed.rows)
    return ReadResult(
        table=table,
        source=source.name,
        format="csv",
        encoding=decoded.encoding,
        dialect=parsed.dialect,
        quarantine=make_quarantine(parsed.quarantine),
        notes=notes + parsed.notes,
        line_numbers=np.asarray(parsed.lines, dtype=np.int64),
        rows_repaired=parsed.repaired,
        undecodable_bytes=decoded.undecodable,
        other_tables=parsed.other_tables,
        original_columns=[] if parsed.header_generated else list(parsed.header),
        header_generated=parsed.header_generated,
        lines=LineAccount.from_roles(parsed.line_roles),
    )
