"""Excel workbooks (.xlsx / .xlsm) through openpyxl in read-only (streaming) mode.

We stream cells with openpyxl rather than calling ``pandas.read_excel`` because the read stage
needs what pandas decides silently: pandas turns integral numbers into floats (``7`` becomes
``7.0`` as soon as a column has a gap), trusts the sheet's stored dimensions (a wrong
``<dimension>`` tag truncates the table), always takes row 1 as the header even under a title
row, and keeps no row numbers. Here every cell becomes text as the user saw it (integers
without ``.0``, dates as ISO 8601, booleans ``true``/``false``), title rows above the table are
quarantined (never dropped), the header is used only when it looks like one, and each kept row
carries its row number in the sheet (``line_numbers``: the number Excel shows, 1-based).
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import warnings
from typing import Any

import numpy as np

from apprentice.errors import EmptyInputError, ParseError, SourceNotFoundError
from apprentice.read._source import (
    Source,
    open_binary,
    text_rows_frame,
    unique_names,
    value_text,
)
from apprentice.read.hints import ReadHints
from apprentice.read.result import ReadResult, make_quarantine

_PROBE_ROWS = 20
"""Non-empty rows looked at to find the title rows and the header."""


def _cell_text(value: Any) -> str | None:
    """An Excel cell as text; a date stored as a midnight datetime is shown as a date."""
    if isinstance(value, _dt.datetime) and value.time() == _dt.time(0) and value.tzinfo is None:
        return value.date().isoformat()
    return value_text(value)


def _row_csv(cells: list[str | None]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(["" if c is None else c for c in cells])
    return buf.getvalue()


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _trim(values: tuple[Any, ...] | list[Any]) -> list[Any]:
    """The row without its trailing empty cells."""
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return list(values[:end])


def _looks_numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").strip().rstrip("%"))
    except ValueError:
        return False
    return True


def _looks_like_header(row: list[Any], below: list[list[Any]]) -> bool:
    """Only non-numeric text, and (when not all distinct) numbers or dates under it."""
    cells = [v for v in row if not _is_empty(v)]
    if not cells or not all(isinstance(v, str) for v in cells):
        return False
    if any(_looks_numeric(v) or len(v) > 200 for v in cells):
        return False
    if len(set(cells)) == len(cells) or not below:
        return True
    # repeated names: a header still when some column under a text cell holds non-text
    for j, value in enumerate(row):
        if isinstance(value, str) and any(
            j < len(r) and not _is_empty(r[j]) and not isinstance(r[j], str) for r in below
        ):
            return True
    return False


def _sheet_names_listing(names: list[str]) -> str:
    return ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))


def _choose_sheet(src: Source, sheets: list[Any], hint: str | int | None) -> tuple[Any, str]:
    """The worksheet to read and a note on how it was chosen."""
    names = [ws.title for ws in sheets]
    listing = _sheet_names_listing(names)
    if isinstance(hint, int) and not isinstance(hint, bool):
        if 0 <= hint < len(sheets):
            return sheets[hint], f"sheet {hint} {names[hint]!r} (as asked)"
        if str(hint) in names:  # a sheet named like a number
            i = names.index(str(hint))
            return sheets[i], f"sheet {names[i]!r} (as asked)"
        raise SourceNotFoundError(
            f"{src.name}: there is no sheet number {hint}; the workbook has {len(names)} "
            f"sheet(s) ({listing}); pass --sheet with a name or a 0-based index"
        )
    if isinstance(hint, str):
        if hint in names:
            return sheets[names.index(hint)], f"sheet {hint!r} (as asked)"
        folded = [i for i, n in enumerate(names) if n.strip().casefold() == hint.strip().casefold()]
        if len(folded) == 1:
            i = folded[0]
            return sheets[i], f"sheet {names[i]!r} (asked for {hint!r}; matched ignoring case)"
        raise SourceNotFoundError(
            f"{src.name}: there is no sheet named {hint!r}; the workbook has sheet(s) "
            f"{listing}; pass --sheet with one of these names or a 0-based index"
        )
    non_empty = [ws for ws in sheets if _has_cells(ws)]
    if not non_empty:
        raise EmptyInputError(
            f"{src.name}: every sheet of the workbook ({listing}) is empty; there is no table"
        )
    chosen = non_empty[0]
    note = f"sheet {chosen.title!r}"
    others = [ws.title for ws in non_empty[1:]]
    if others:
        shown = ", ".join(repr(n) for n in others[:8])
        more = f" and {len(others) - 8} more" if len(others) > 8 else ""
        note += (
            f" (the first non-empty one; other non-empty sheets: {shown}{more}; "
            "read one with --sheet NAME)"
        )
    return chosen, note


def _has_cells(ws: Any) -> bool:
    return any(any(not _is_empty(v) for v in row) for row in ws.iter_rows(values_only=True) if row)


def _load(src: Source) -> tuple[Any, Any]:
    """The workbook (read-only) and the stream under it."""
    import openpyxl

    stream = open_binary(src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, missing default styles
            workbook = openpyxl.load_workbook(
                stream, read_only=True, data_only=True, keep_links=False
            )
    except Exception as exc:
        stream.close()
        raise ParseError(
            f"{src.name}: not a readable .xlsx workbook ({type(exc).__name__}); open it in a "
            "spreadsheet program and save it again as .xlsx, or export the sheet as CSV"
        ) from None
    return workbook, stream


def read_excel(src: Source, hints: ReadHints) -> ReadResult:
    """Read one sheet of an .xlsx workbook as text cells."""
    workbook, stream = _load(src)
    try:
        return _read_sheet(src, hints, workbook)
    except (ParseError, EmptyInputError, SourceNotFoundError):
        raise
    except (KeyError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise ParseError(
            f"{src.name}: the workbook is damaged ({type(exc).__name__} while reading cells); "
            "open it in a spreadsheet program and save it again, or export the sheet as CSV"
        ) from None
    finally:
        workbook.close()
        stream.close()


def _read_sheet(src: Source, hints: ReadHints, workbook: Any) -> ReadResult:
    sheets = list(workbook.worksheets)
    if not sheets:
        raise EmptyInputError(f"{src.name}: the workbook has no worksheet; there is no table")
    ws, sheet_note = _choose_sheet(src, sheets, hints.sheet)
    ws.reset_dimensions()  # never trust the stored <dimension>: read every row there is
    notes = [sheet_note]
    if src.compression:
        notes.append(f"read from {src.describe()}")

    skip = hints.skip_rows or 0
    probe: list[tuple[int, list[Any]]] = []  # typed values of the first non-empty rows
    rows: list[tuple[int, list[str | None]]] = []  # every non-empty row, as text
    empty_inside = 0
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if number <= skip:
            continue
        trimmed = _trim(values)
        if not trimmed or all(_is_empty(v) for v in trimmed):
            if rows:
                empty_inside += 1
            continue
        if len(probe) < _PROBE_ROWS + 1:
            probe.append((number, trimmed))
        rows.append((number, [_cell_text(v) for v in trimmed]))
    if skip:
        notes.append(f"the first {skip} row(s) were skipped as asked")
    if not rows:
        raise EmptyInputError(f"{src.name}: sheet {ws.title!r} holds no values; no table")

    quarantine: list[tuple[int, str, str]] = []
    start = 0
    if hints.header is None:
        widths = [sum(not _is_empty(v) for v in r) for _, r in probe]
        widest = max(widths)
        if widest >= 2:
            need = max(2, (widest + 1) // 2)
            while start < len(probe) - 1 and widths[start] < need:
                start += 1
        for number, cells in rows[:start]:
            quarantine.append(
                (number, _row_csv(cells), "a title or note above the table, not a table row")
            )
        if start:
            notes.append(f"{start} title row(s) above the table were quarantined")
        typed = probe[start][1]
        has_header = _looks_like_header(typed, [r for _, r in probe[start + 1 :]])
        n_header = 1 if has_header else 0
        if not has_header:
            notes.append(
                "the first row does not look like a header (it holds numbers, dates or "
                "repeated values): columns are named column_1, column_2, ...; pass --header 1 "
                "to use it as the header"
            )
    else:
        n_header = hints.header
    header_rows = rows[start : start + n_header]
    body = rows[start + n_header :]
    width = max((len(r) for _, r in rows[start:]), default=0)
    names = _header_names(header_rows, width, notes)
    if n_header and not body:
        notes.append("the sheet holds a header and no data rows")

    table_rows = [cells + [None] * (width - len(cells)) for _, cells in body]
    if empty_inside:
        notes.append(f"{empty_inside:,} empty row(s) were skipped")
    if quarantine:
        notes.append(f"{len(quarantine):,} row(s) quarantined with their row number and reason")
    return ReadResult(
        table=text_rows_frame(names, table_rows),
        source=src.name,
        format="excel",
        quarantine=make_quarantine(quarantine),
        notes=notes,
        line_numbers=np.asarray([n for n, _ in body], dtype=np.int64),
        original_columns=list(names),
        header_generated=n_header == 0,
    )


def _header_names(
    header_rows: list[tuple[int, list[str | None]]], width: int, notes: list[str]
) -> list[str]:
    """Column names from the header row(s): joined with a space, blanks named column_N."""
    names: list[str] = []
    blank = 0
    for j in range(width):
        parts = [
            text
            for _, cells in header_rows
            if j < len(cells) and (text := cells[j]) is not None and text.strip()
        ]
        if len(parts) == 1:
            names.append(parts[0])
        elif parts:
            names.append(" ".join(p.strip() for p in parts))
        else:
            names.append(f"column_{j + 1}")
            if header_rows:
                blank += 1
    if blank:
        notes.append(f"{blank} column(s) without a header were named column_N")
    return unique_names(names, notes)
