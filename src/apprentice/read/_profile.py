"""Column profiles: how likely a cell is to belong to a column, from the cells' shapes.

A cell's shape abstracts its characters (digits, letters, punctuation) so that ``28/01/2018``
and ``03/12/2019`` look alike while ``$74.69`` or ``MG-8769`` look different. A column's
profile is a smoothed distribution over shapes at two levels of detail. Repairs, header and
table-boundary detection all compare candidates by their total log-likelihood under the
profiles of the rows that parsed cleanly. No library does this kind of row-level scoring, so
it is our own; it is small and vectorises poorly, so it only runs on samples and broken rows.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_TRANS = str.maketrans(
    {
        **{c: "9" for c in "0123456789"},
        **{c: "A" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
        **{c: "a" for c in "abcdefghijklmnopqrstuvwxyz"},
    }
)
_LETTERS = re.compile(r"A+|a+|([^9Aa])\1+")
_DIGITS = re.compile(r"9+")


def _digit_run(m: re.Match[str]) -> str:
    n = len(m.group(0))
    return "9" * n if n <= 4 else "9999+"


@lru_cache(maxsize=65536)
def fine_shape(cell: str) -> str:
    """Character classes with runs collapsed: ``'MG-8769'`` -> ``'A-9'``."""
    s = cell.strip()
    if not s:
        return ""
    if len(s) > 40:
        return coarse_shape(cell)
    # letter runs collapse; digit runs keep their length up to 4 (a time is 99:99, not 9:9)
    shape = _DIGITS.sub(_digit_run, _LETTERS.sub(lambda m: m.group(0)[0], s.translate(_TRANS)))
    shape = re.sub(r"[^\x00-\x7f]", "u", shape)
    return shape if len(shape) <= 16 else coarse_shape(cell)


@lru_cache(maxsize=65536)
def coarse_shape(cell: str) -> str:
    """A handful of broad kinds: empty, integer, decimal, code, words by count, URL.

    Surrounding quote characters are ignored here (the fine shape and the edges see them).
    """
    s = cell.strip().strip("\"'").strip()
    if not s:
        return "EMPTY"
    if _NUMBER.match(s):
        return "INT" if s.lstrip("+-").isdigit() else "DEC"
    if s.startswith(("http://", "https://", "www.")):
        return "URL"
    words = len(s.split())
    if words == 1:
        digits = sum(c.isdigit() for c in s)
        if digits == 0:
            return "WORD"
        return "NUMLIKE" if digits * 2 >= len(s) else "CODE"
    if words <= 3:
        return "W2"
    if words <= 8:
        return "W4"
    if words <= 20:
        return "W9"
    return "W21"


def length_bucket(cell: str) -> int:
    """Exact length up to 16 characters, then doubling buckets."""
    n = len(cell.strip())
    return n if n <= 16 else 16 + n.bit_length()


def _char_class(c: str) -> str:
    if c.isdigit():
        return "9"
    if c.isupper():
        return "A"
    if c.isalpha():
        return "a"
    return c


@lru_cache(maxsize=65536)
def edges(cell: str) -> str:
    """The classes of a cell's first and last characters (``'Men's Boots'`` -> ``'As'``)."""
    s = cell.strip()
    if not s:
        return ""
    return _char_class(s[0]) + _char_class(s[-1])


class ColumnProfile:
    """Smoothed shape distributions of one column.

    The coarse kinds are counted at once (header detection asks every column for its most
    common kind); the fine shapes, edges and lengths only when a cell is first scored, which
    most reads never do (a wide file's profile would otherwise cost a Python call per cell).
    """

    __slots__ = (
        "_cells",
        "_coarse",
        "_edges",
        "_fine",
        "_lengths",
        "_n",
        "_unseen_coarse",
        "_unseen_fine",
    )

    def __init__(self, cells: Sequence[str]) -> None:
        self._n = len(cells)
        self._cells: Sequence[str] | None = cells
        self._coarse = Counter(coarse_shape(c) for c in cells)
        self._unseen_coarse = 0.5 / (self._n + len(self._coarse) + 1)

    def _detail(self) -> None:
        cells = self._cells
        if cells is None:
            return
        self._fine = Counter(fine_shape(c) for c in cells)
        self._edges = Counter(edges(c) for c in cells)
        self._lengths = Counter(length_bucket(c) for c in cells)
        # add-one style smoothing with room for unseen shapes
        self._unseen_fine = 1.0 / (self._n + len(self._fine) + 1)
        self._cells = None

    def most_common_kind(self) -> list[tuple[str, int]]:
        """The most common coarse kind and its count (empty for an empty column)."""
        return self._coarse.most_common(1)

    def logp(self, cell: str) -> float:
        """Log-likelihood of ``cell`` in this column (0 is a certainty, more negative is worse)."""
        if self._cells is not None:
            self._detail()
        n = self._n + len(self._fine) + 1
        fine = self._fine.get(fine_shape(cell), 0)
        coarse = self._coarse.get(coarse_shape(cell), 0)
        p_fine = (fine + 0.1) / n if fine else self._unseen_fine
        p_coarse = (
            (coarse + 0.1) / (self._n + len(self._coarse) + 1) if coarse else self._unseen_coarse
        )
        e = self._edges.get(edges(cell), 0)
        p_edges = (e + 0.5) / (self._n + len(self._edges) + 1)
        k = self._lengths.get(length_bucket(cell), 0)
        p_len = (k + 1.0) / (self._n + len(self._lengths) + 1)
        # the fine shape explains most; the coarse one backs it off for unseen variants
        return math.log(0.7 * p_fine + 0.3 * p_coarse * 0.05) + math.log(p_edges) + math.log(p_len)


class TableProfile:
    """Profiles of every column of a table of width ``width``."""

    def __init__(self, rows: Sequence[Sequence[str]], width: int) -> None:
        self.width = width
        columns: list[list[str]] = [[] for _ in range(width)]
        for row in rows:
            if len(row) == width:
                for i, cell in enumerate(row):
                    columns[i].append(cell)
        self.n_rows = len(columns[0]) if columns else 0
        self.columns = [ColumnProfile(col) for col in columns]

    def row_logp(self, row: Sequence[str]) -> float:
        """Log-likelihood of a row of exactly ``width`` cells."""
        return sum(col.logp(cell) for col, cell in zip(self.columns, row, strict=True))

    def cell_logp(self, index: int, cell: str) -> float:
        return self.columns[index].logp(cell)
