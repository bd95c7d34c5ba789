"""``apprentice why``: where one cell's cleaned value (or NaN) came from.

The recipe is re-applied to that one cell, by the same code that cleaned the table, so the
answer is exact for any cell of any size of table.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from apprentice.clean.booleans import BooleanFormat
from apprentice.clean.dates import _strptime
from apprentice.clean.markers import MISSING_TOKENS
from apprentice.clean.numbers import NumberFormat, parse_one
from apprentice.clean.recipe import RULE_NAMES, ColumnRecipe, Recipe, Rule, apply_column
from apprentice.errors import InputError, SchemaError

if TYPE_CHECKING:
    from apprentice.read.result import ReadResult


@dataclass
class CellExplanation:
    """The answer for one cell: raw text, cleaned value and the rule that produced it."""

    column: str
    original_column: str
    row: int
    line: int | None
    raw: str | None
    cleaned: Any
    rule: str
    reason: str
    kind: str
    details: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cleaned"] = _jsonable(self.cleaned)
        return d

    def lines(self) -> list[str]:
        where = f"row {self.row}" + (f" (line {self.line} of the source)" if self.line else "")
        out = [
            f"{where}, column {self.column!r}"
            + (
                f" (originally {self.original_column!r})"
                if self.original_column != self.column
                else ""
            ),
            f"  raw:     {'<null>' if self.raw is None else repr(self.raw)}",
            f"  cleaned: {_show(self.cleaned)}  ({self.kind})",
            f"  rule:    {self.rule}: {self.reason}",
        ]
        out += [f"           {d}" for d in self.details]
        return out


def _jsonable(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    if isinstance(v, pd.Timedelta):
        seconds = v.total_seconds()
        if 0 <= seconds < 86400:
            micros = round(seconds * 1_000_000)
            whole, frac = divmod(micros, 1_000_000)
            h, rest = divmod(whole, 3600)
            m, sec = divmod(rest, 60)
            out = f"{h:02d}:{m:02d}:{sec:02d}"
            return out + (f".{frac:06d}".rstrip("0") if frac else "")
        return str(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _show(v: Any) -> str:
    j = _jsonable(v)
    return "missing (NaN)" if j is None else repr(j)


def _describe(rec: ColumnRecipe, raw: str | None, code: int, value: Any) -> tuple[str, list[str]]:
    text = None if raw is None else raw.strip()
    details: list[str] = []
    if raw is not None and text != raw:
        details.append("surrounding whitespace removed")
    if code == Rule.NULL:
        return "the source cell holds no value (null)", details
    if code == Rule.EMPTY:
        return "the source cell is empty", details
    if code == Rule.MARKER:
        return (
            f"{text!r} is a missing-value marker in this column (learned when the recipe was fit)",
            details,
        )
    if code == Rule.NEW_MARKER:
        return (
            f"{text!r} is a missing-value marker that this column did not hold when the recipe "
            "was fit",
            details,
        )
    if code == Rule.SENTINEL:
        return (f"{text!r} is a confirmed sentinel for 'no value' in this column", details)
    if code == Rule.FLAGGED:
        return (
            f"{text!r} is kept, but flagged as a suspected sentinel for 'no value' (confirm it "
            "with sentinels={column: [value]} to make it missing)",
            details,
        )
    if code == Rule.UNSEEN:
        n = len(rec.categories or [])
        return f"{text!r} is not one of the {n} categories learned at fit: missing", details
    if code == Rule.MERGED:
        return f"{text!r} is a spelling variant of the category {value!r}: merged", details
    if code == Rule.UNPARSEABLE:
        what = rec.kind
        if rec.number is not None:
            what += f" ({rec.number.describe()})"
        elif rec.date is not None:
            what += f" ({rec.date.describe()})"
        elif rec.boolean is not None:
            what += " (yes/no words)"
        reason = (
            f"{text!r} does not fit the column's type, {what}: it became missing; the raw text "
            "stays in the ledger"
        )
        if text is not None and text.casefold() in MISSING_TOKENS:
            reason += " (it looks like a marker, but here it is a value)"
        return reason, details
    # VALUE or REFORMATTED
    if rec.kind in ("integer", "float") and text is not None:
        _, dec = parse_one(text, rec.number or NumberFormat())
        details += dec
        if rec.semantic:
            details.append(f"the column holds a {rec.semantic}")
        return ("read as a number" + (" after removing its formatting" if dec else "")), details
    if rec.kind == "boolean" and text is not None:
        fmt = rec.boolean or BooleanFormat()
        side = "true" if text.casefold() in fmt.true else "false"
        return f"{text!r} is a {side} word", details
    if rec.kind in ("date", "datetime", "time") and text is not None and rec.date is not None:
        for f in rec.date.formats:
            _, ok = _strptime(pa.array([text], type=pa.large_string()), f)
            if ok[0]:
                order = ""
                if rec.date.dayfirst is not None and ("%d" in f and "%m" in f):
                    order = " (day-first)" if rec.date.dayfirst else " (month-first)"
                    if rec.date.ambiguous:
                        order += ", an order the column's values did not prove"
                return f"parsed with format {f}{order}", details
        return "parsed as a date", details
    if rec.kind == "category":
        return f"category {value!r}", details
    return f"kept as {rec.kind}", details


def explain_in(
    raw: pd.DataFrame,
    recipe: Recipe,
    lines: np.ndarray | None,
    *,
    row: int | None = None,
    column: str | int,
    line: int | None = None,
) -> CellExplanation:
    """Explain one cell of the text table ``raw`` (columns named as in the recipe or source)."""
    n = len(raw)
    if row is None:
        if line is None:
            raise InputError("say which cell: give a data row (--row) or a source line (--line)")
        if lines is None:
            raise InputError(
                "the reader did not record source line numbers for this table; give the data "
                "row (--row, 0-based) instead"
            )
        hits = np.flatnonzero(np.asarray(lines) == line)
        if hits.size == 0:
            raise InputError(
                f"line {line} holds no data row of the table (it may be the header, a "
                "quarantined row or inside a quoted field); `apprentice read FILE` lists them"
            )
        row = int(hits[0])
    if not 0 <= row < n:
        raise InputError(
            f"row {row} is out of range: the table has {n:,} data rows, numbered 0 to {n - 1:,}"
        )
    rec = _find_column(recipe, raw, column)
    cols = [str(c) for c in raw.columns]
    j = cols.index(rec.name) if rec.name in cols else cols.index(rec.source)
    cell = raw.iat[row, j]
    raw_text = None if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
    if raw_text is None and pd.isna(cell):
        raw_text = None
    single = pd.Series([raw_text], dtype="str")
    applied = apply_column(rec, single)
    code = int(applied.codes[0])
    value = applied.values.iloc[0]
    reason, details = _describe(rec, raw_text, code, value)
    return CellExplanation(
        column=rec.name,
        original_column=rec.source,
        row=row,
        line=int(lines[row]) if lines is not None else None,
        raw=raw_text,
        cleaned=value,
        rule=RULE_NAMES[Rule(code)],
        reason=reason,
        kind=rec.kind,
        details=details,
    )


def _find_column(recipe: Recipe, raw: pd.DataFrame, column: str | int) -> ColumnRecipe:
    if isinstance(column, int) or (isinstance(column, str) and column.isdigit()):
        k = int(column)
        names = [c.name for c in recipe.columns]
        if isinstance(column, str) and column in names:
            return recipe.column(column)
        if not 0 <= k < len(recipe.columns):
            raise InputError(
                f"column number {k} is out of range: the table has {len(recipe.columns)} "
                "columns, numbered from 0"
            )
        return recipe.columns[k]
    try:
        return recipe.column(column)
    except SchemaError:
        stripped = column.lstrip("\ufeff").strip()
        for c in recipe.columns:
            if c.name == stripped:
                return c
        raise InputError(
            f"column {column!r} is not in the table; its columns are "
            + ", ".join(repr(c.name) for c in recipe.columns[:30])
        ) from None


def explain_cell(
    source: str | Path | ReadResult,
    *,
    column: str | int,
    row: int | None = None,
    line: int | None = None,
    recipe: Recipe | str | dict[str, Any] | None = None,
    read_options: dict[str, Any] | None = None,
    **clean_options: Any,
) -> CellExplanation:
    """Where the cleaned value of one cell came from.

    ``source`` is a file (re-read with :func:`apprentice.read`) or a ReadResult. Name the cell
    by its 0-based data ``row`` or its source ``line``, and its ``column`` (name or 0-based
    position). ``recipe`` is a :class:`Recipe`, its JSON, or the ledger written by ``apprentice
    clean``; without one the recipe is learned from the whole file first, exactly as
    ``apprentice clean`` would (``clean_options`` are passed to it).
    """
    from apprentice.read import read

    rr = source if not isinstance(source, (str, Path)) else read(source, **(read_options or {}))
    lines = rr.line_numbers if len(rr.line_numbers) == len(rr.table) else None
    if recipe is None:
        from apprentice.clean.api import clean_table

        result = clean_table(rr, **clean_options)
        return explain_in(result.raw, result.recipe, lines, row=row, column=column, line=line)
    if isinstance(recipe, str):
        rec_obj = Recipe.from_json(recipe)
    elif isinstance(recipe, dict):
        rec_obj = Recipe.from_dict(recipe)
    else:
        rec_obj = recipe
    frame = rr.table
    from apprentice.clean.names import clean_names

    originals = list(rr.original_columns) or list(frame.columns)
    if len(originals) != frame.shape[1]:
        originals = list(frame.columns)
    raw = frame.copy(deep=False)
    raw.columns = pd.Index([n for n, _, _ in clean_names(originals)], dtype=object)
    return explain_in(raw, rec_obj, lines, row=row, column=column, line=line)
