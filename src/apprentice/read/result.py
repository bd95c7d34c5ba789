"""What a read returns: the table of text cells and a full account of how it was parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS = ("line", "raw", "reason")


@dataclass(frozen=True)
class Dialect:
    """How a delimited text file is written.

    ``delimiter`` may be more than one character (``", "``). ``escapechar`` is ``None`` when
    quotes inside quoted fields are doubled (``doublequote``). Line counts are physical lines of
    the decoded text.
    """

    delimiter: str = ","
    quotechar: str | None = '"'
    escapechar: str | None = None
    doublequote: bool = True
    lineterminator: str = "\n"
    header_rows: int = 1
    metadata_rows: int = 0  # rows under the names that describe the columns (units, labels)
    preamble_rows: int = 0
    footer_rows: int = 0
    comment: str | None = None
    skipinitialspace: bool = False
    trailing_empty_column: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", " ": "space"}
        delim = names.get(self.delimiter, repr(self.delimiter))
        quote = "no quoting" if self.quotechar is None else f"quote {self.quotechar!r}"
        esc = f"escape {self.escapechar!r}" if self.escapechar else "doubled quotes"
        term = {"\n": "LF", "\r\n": "CRLF", "\r": "CR"}.get(self.lineterminator, "?")
        meta = f" + {self.metadata_rows} column metadata row(s)" if self.metadata_rows else ""
        return (
            f"{delim}-delimited, {quote}, {esc}, {term} line ends, "
            f"{self.header_rows} header row(s){meta}"
        )


@dataclass(frozen=True)
class TableRegion:
    """Another table found in the same file (reported, not read)."""

    first_line: int
    last_line: int
    n_columns: int
    header: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineAccount:
    """What every physical line of a text source became.

    ``spans`` are ``(first, last, role)`` runs of 1-based lines; ``counts`` the lines per role
    (header, column metadata, preamble, comment, blank, kept, quarantined, footnote, other
    table). Their sum is
    the number of lines of the source.
    """

    counts: dict[str, int]
    spans: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def from_roles(cls, roles: list[str]) -> LineAccount:
        counts: dict[str, int] = {}
        spans: list[tuple[int, int, str]] = []
        for ln, role in enumerate(roles, start=1):
            counts[role] = counts.get(role, 0) + 1
            if spans and spans[-1][2] == role and spans[-1][1] == ln - 1:
                spans[-1] = (spans[-1][0], ln, role)
            else:
                spans.append((ln, ln, role))
        return cls(counts=counts, spans=spans)

    def describe(self) -> str:
        """``lines 60 = header 1 + kept 57 + blank 2`` (roles in a fixed order)."""
        order = (
            "header", "column metadata", "preamble", "comment", "blank", "kept", "quarantined",
            "footnote", "other table",
        )  # fmt: skip
        parts = [f"{role} {self.counts[role]:,}" for role in order if self.counts.get(role)]
        return f"lines {self.total:,} = " + " + ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "counts": dict(self.counts),
            "spans": [list(s) for s in self.spans],
        }


@dataclass
class ReadResult:
    """The result of :func:`apprentice.read`.

    ``table`` holds text cells only (pandas ``str`` dtype; a JSON ``null`` or SQL ``NULL`` is
    missing, an empty field is ``""``). ``line_numbers`` gives, for each kept row, the
    1-based physical line of the source where the record starts (the record index for
    formats without lines). ``rows_read == rows_kept + rows_quarantined`` always holds.
    """

    table: pd.DataFrame
    source: str
    format: str
    encoding: str | None = None
    dialect: Dialect | None = None
    quarantine: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS}
        )
    )
    notes: list[str] = field(default_factory=list)
    line_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rows_repaired: int = 0
    undecodable_bytes: int = 0
    other_tables: list[TableRegion] = field(default_factory=list)
    original_columns: list[str] = field(default_factory=list)
    header_generated: bool = False
    """True when the source had no header row and the column names were made up."""
    lines: LineAccount | None = None
    """For text sources: what every line became (``None`` for Excel, JSON, Parquet, SQL)."""
    rows_sampled_from: int | None = None
    """When ``read(sample_rows=...)`` kept a random part of the rows: how many rows the source
    holds (``table`` has the part; ``line_numbers`` say which rows they are). ``None``: every
    row was read."""

    @property
    def rows_kept(self) -> int:
        return len(self.table)

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def rows_read(self) -> int:
        return self.rows_kept + self.rows_quarantined

    def summary(self) -> dict[str, Any]:
        """A JSON-able account of the read (what ``apprentice read --json`` prints)."""
        return {
            "source": self.source,
            "format": self.format,
            "encoding": self.encoding,
            "dialect": self.dialect.to_dict() if self.dialect else None,
            "columns": [str(c) for c in self.table.columns],
            "header_generated": self.header_generated,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined,
            "rows_repaired": self.rows_repaired,
            "undecodable_bytes": self.undecodable_bytes,
            "other_tables": [asdict(t) for t in self.other_tables],
            "lines": self.lines.to_dict() if self.lines is not None else None,
            "rows_sampled_from": self.rows_sampled_from,
            "notes": list(self.notes),
        }


def make_quarantine(records: list[tuple[int, str, str]]) -> pd.DataFrame:
    """A quarantine frame from ``(line, raw text, reason)`` tuples."""
    return pd.DataFrame(
        {
            "line": pd.Series([r[0] for r in records], dtype="int64"),
            "raw": pd.Series([r[1] for r in records], dtype="str"),
            "reason": pd.Series([r[2] for r in records], dtype="str"),
        }
    )


def text_frame(columns: list[str], rows: list[list[str]] | list[tuple[str, ...]]) -> pd.DataFrame:
    """A frame of text cells from row lists (every row has ``len(columns)`` cells)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns}, columns=columns)
    import pyarrow as pa

    cols = list(zip(*rows, strict=True))
    table = pa.table({f"c{i}": pa.array(col, type=pa.large_string()) for i, col in enumerate(cols)})
    frame = table.to_pandas()
    frame.columns = pd.Index(columns, dtype="object")
    return frame


RowSample = int | Callable[[int], int] | None
"""``read(sample_rows=...)``: the most rows to keep, or a function of the column count that
gives it; ``None`` keeps every row."""


def rows_wanted(sample_rows: RowSample, columns: int) -> int | None:
    """The most rows ``sample_rows`` keeps of a table with ``columns`` columns (``None``: all)."""
    if sample_rows is None:
        return None
    wanted = sample_rows(columns) if callable(sample_rows) else sample_rows
    if int(wanted) < 1:
        raise ValueError(f"sample_rows must keep at least one row, not {wanted}")
    return int(wanted)


def draw_rows(total: int, wanted: int | None, seed: int) -> np.ndarray | None:
    """Sorted positions of a random ``wanted`` of ``total`` rows (``seed``), or ``None`` when
    every row is kept."""
    if wanted is None or total <= wanted:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, size=wanted, replace=False))


def sample_note(kept: int, total: int, seed: int) -> str:
    return (
        f"a random {kept:,} of the {total:,} rows are kept (seed {seed}), as asked "
        "(sample_rows); the other rows are not in the table"
    )


def take_rows(result: ReadResult, sample_rows: RowSample, seed: int) -> ReadResult:
    """``result`` with a random part of its rows when ``sample_rows`` asks for fewer (the
    account says so); ``result`` itself otherwise, or when the reader sampled already."""
    if result.rows_sampled_from is not None:
        return result
    positions = draw_rows(
        len(result.table), rows_wanted(sample_rows, len(result.table.columns)), seed
    )
    if positions is None:
        return result
    total = len(result.table)
    lines = result.line_numbers[positions] if len(result.line_numbers) == total else positions + 1
    return replace(
        result,
        table=result.table.iloc[positions].reset_index(drop=True),
        line_numbers=np.asarray(lines, dtype=np.int64),
        rows_sampled_from=total,
        notes=[*result.notes, sample_note(len(positions), total, seed)],
    )
