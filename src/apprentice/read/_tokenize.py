"""Physical lines and records of delimited text, with the line each record spans.

Python's ``csv`` module does the field splitting (C speed, quotes, escapes, embedded
newlines); this module adds what it lacks: a faithful split into physical lines (only CR, LF
and CRLF end a line, unlike ``str.splitlines``), the line span of every record so that a
broken record can be quarantined or repaired with its line number, and restarting the parse
at any line after a repair.
"""

from __future__ import annotations

import csv
import itertools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Physical lines, each keeping its terminator (the last may have none)."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class Format:
    """The tokenizer part of a dialect."""

    delimiter: str = ","
    quotechar: str | None = '"'
    escapechar: str | None = None
    doublequote: bool = True
    skipinitialspace: bool = False

    def csv_kwargs(self) -> dict[str, object]:
        delim = self.delimiter
        skip = self.skipinitialspace
        if len(delim) == 2 and delim[1] == " ":
            delim, skip = delim[0], True
        kwargs: dict[str, object] = {
            "delimiter": delim,
            "skipinitialspace": skip,
            "strict": False,
            "doublequote": self.doublequote,
        }
        if self.quotechar is None:
            kwargs["quoting"] = csv.QUOTE_NONE
            kwargs["escapechar"] = self.escapechar
        else:
            kwargs["quotechar"] = self.quotechar
            kwargs["escapechar"] = self.escapechar
        return kwargs


@dataclass(frozen=True)
class Record:
    """Fields of one record and the 0-based indexes of its first and last physical lines."""

    first: int
    last: int
    fields: list[str]


def iter_records(lines: list[str], fmt: Format, start: int = 0) -> Iterator[Record]:
    """Records of ``lines[start:]``; a bare line end yields an empty field list."""
    reader = csv.reader(itertools.islice(lines, start, None), **fmt.csv_kwargs())  # type: ignore[arg-type]
    consumed = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:  # pragma: no cover - only on pathological input with strict=False
            line = start + consumed
            yield Record(line, line, [lines[line].rstrip("\r\n")])
            reader = csv.reader(
                itertools.islice(lines, line + 1, None),
                **fmt.csv_kwargs(),  # type: ignore[arg-type]
            )
            start, consumed = line + 1, 0
            continue
        now = reader.line_num
        yield Record(start + consumed, start + now - 1, row)
        consumed = now


def parse_text(text: str, fmt: Format, *, strict: bool = False) -> list[list[str]]:
    """All records of a small piece of text (used to score repair candidates).

    With ``strict`` a malformed quote (a closing quote not followed by a delimiter, an open
    quote at the end) raises ``csv.Error`` instead of being patched over.
    """
    kwargs = fmt.csv_kwargs()
    kwargs["strict"] = strict
    return list(csv.reader(split_lines(text), **kwargs))  # type: ignore[arg-type]


def raw_text(lines: list[str], first: int, last: int) -> str:
    """The raw text of lines ``first..last`` without the final line terminator."""
    return "".join(lines[first : last + 1]).rstrip("\r\n")
