"""The cell cleaner: a cleaning recipe's column applied to one raw cell.

One :class:`CellCleaner` per recipe column does what the recipe's column function
(``apprentice.clean.recipe.apply_column``) does to a cell, one cell at a time: the recipe
builds it (``apprentice.clean.recipe.cell_cleaner``), ``Bundle.predict`` uses it for a record
and the API for every request. Every cell goes through the recipe's own one-cell function
(``clean_one``), memoised per distinct short cell, except two direct routes whose rules are
those of the recipe for the cells they accept (and that the parity tests hold to it):

* plain decimal text (``-12.5``, ``1e3``) and JSON numbers in a numeric column written the
  plain way (``.`` decimal mark, no number words), read by a scanner that looks at each
  character once;
* printable ASCII cells of a category, identifier or text column: stripped, missing-value
  markers, the category merge key (spaces collapsed, lower case, final dots and spaces
  dropped), all in time linear in the cell's length.

Anything else (separators, currency, units, percent, dates, booleans, other scripts) is the
recipe's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pandas as pd

#: distinct cells remembered per column
CACHE_LIMIT = 50_000
#: longer cells are cleaned every time (a cache of long cells would be a memory sink)
CACHE_MAX_CHARS = 256
#: plain numbers longer than this take the recipe's route
PLAIN_MAX_CHARS = 40
#: the whitespace both this module and the recipe strip from a cell
_ASCII_SPACE = " \t\n\r\v\f"
_DIGITS = frozenset("0123456789")
_NOT_FOUND = object()


def is_missing(value: Any) -> bool:
    """``None``, ``pd.NA``, ``pd.NaT`` and float NaN: a cell with no text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def cell_text(value: Any) -> str | None:
    """The raw text of a cell as the recipe sees it (``None`` when missing)."""
    return None if is_missing(value) else str(value)


def plain_number(text: str) -> bool:
    """Whether ``text`` is ``[+-]digits[.digits][(e|E)[+-]digits]`` (or ``.digits``).

    One pass over the characters, no backtracking: work linear in the length.
    """
    n = len(text)
    i = 0
    if i < n and text[i] in "+-":
        i += 1
    start = i
    while i < n and text[i] in _DIGITS:
        i += 1
    digits = i - start
    if i < n and text[i] == ".":
        i += 1
        frac = i
        while i < n and text[i] in _DIGITS:
            i += 1
        digits += i - frac
    if digits == 0:
        return False
    if i < n and text[i] in "eE":
        i += 1
        if i < n and text[i] in "+-":
            i += 1
        exp = i
        while i < n and text[i] in _DIGITS:
            i += 1
        if i == exp:
            return False
    return i == n


def merge_key(text: str) -> str:
    """The category merge key of printable ASCII text: runs of spaces to one, lower case,
    final dots and spaces dropped (the recipe's key, in linear time)."""
    return " ".join(part for part in text.split(" ") if part).lower().rstrip(". ")


class CellCleaner:
    """One recipe column applied to one raw cell at a time.

    ``rec`` is the column's recipe (kind, markers, kept markers, number format, sentinels,
    categories), ``missing_tokens`` the marker vocabulary the recipe uses and ``clean_one``
    the recipe's own function for one text cell (``None`` = missing).
    """

    def __init__(
        self,
        rec: Any,
        *,
        missing_tokens: Collection[str],
        clean_one: Callable[[str | None], Any],
    ) -> None:
        self.name: str = rec.name
        self.source: str = rec.source
        self.kind: str = rec.kind
        self.clean_one = clean_one
        self.cache: dict[str | None, Any] = {}
        seen = frozenset(m.lower() for m in rec.markers) - {""}
        vocab = frozenset(missing_tokens) - frozenset(rec.kept_markers)
        fmt = getattr(rec, "number", None)
        self.route = "recipe"
        if rec.kind in ("integer", "float") and (fmt is None or fmt.plain):
            self.route = "number"
        elif rec.kind in ("category", "identifier", "text"):
            self.route = "text"
        # plain numbers
        self.stops = seen | vocab
        self.missing_sentinels = frozenset(
            float(s["value"]) for s in rec.sentinels if s.get("action") == "missing"
        )
        # printable ASCII text
        self.seen = seen
        self.vocab = vocab
        self.is_category = rec.kind == "category"
        self.has_categories = rec.categories is not None
        self.categories = frozenset(rec.categories or [])
        self.keys: dict[str, str] = {}
        self.ascii = True
        for cat in rec.categories or []:
            if not (cat.isascii() and cat.isprintable()):
                self.ascii = False
                break
            self.keys.setdefault(merge_key(cat), cat)

    # -- the recipe's route

    def recipe(self, text: str | None) -> Any:
        """The recipe's value of one text cell, memoised per distinct short cell."""
        cache = self.cache
        value = cache.get(text, _NOT_FOUND)
        if value is _NOT_FOUND:
            value = self.clean_one(text)
            if len(cache) < CACHE_LIMIT and (text is None or len(text) <= CACHE_MAX_CHARS):
                cache[text] = value
        return value

    # -- one cell

    def __call__(self, raw: Any) -> Any:
        """The cleaned value of one raw cell (text, a JSON number, ``None``)."""
        if self.route == "number":
            return self._number(raw)
        if (
            self.route == "text"
            and type(raw) is str
            and self.ascii
            and raw.isascii()
            and raw.isprintable()
        ):
            return self._text(raw)
        return self.recipe(cell_text(raw))

    def _number(self, raw: Any) -> Any:
        kind = type(raw)
        if kind is str:
            core = raw.strip(_ASCII_SPACE)
            if len(core) > PLAIN_MAX_CHARS or not plain_number(core):
                return self.recipe(raw)
            if core.lower() in self.stops:
                return self.recipe(raw)
            value = float(core)
        elif kind is float or kind is int:
            try:
                value = float(raw)
            except OverflowError:
                return self.recipe(str(raw))
        else:
            return self.recipe(cell_text(raw))
        if value != value or value in (math.inf, -math.inf):
            return self.recipe(cell_text(raw))
        if value in self.missing_sentinels:
            return math.nan
        return value

    def _text(self, raw: str) -> Any:
        text = raw.strip(" ")
        lower = text.lower()
        if (
            not text
            or lower in self.seen
            or (lower in self.vocab and not (self.has_categories and text in self.categories))
        ):
            return math.nan
        if not self.is_category:
            return text
        return self.keys.get(merge_key(text), math.nan)


class RowCleaner:
    """The cell cleaners of a recipe's columns: one raw record to its typed values.

    A column is looked up by its source name, then by its cleaned name.
    """

    def __init__(self, cells: list[CellCleaner]) -> None:
        self.cells = cells

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = row.get
        for cell in self.cells:
            raw = get(cell.source)
            if raw is None and cell.name != cell.source:
                raw = get(cell.name)
            out[cell.name] = cell(raw)
        return out
