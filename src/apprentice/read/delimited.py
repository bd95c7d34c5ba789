"""Delimited text (first version: detection is being built out)."""

from __future__ import annotations

import csv
import io
from typing import Any

from apprentice.config import Settings
from apprentice.read._source import Source, source_bytes
from apprentice.read.hints import ReadHints
from apprentice.read.result import Dialect, ReadResult, make_quarantine, text_frame


def read_delimited(
    source: Source, hints: ReadHints, *, settings: Settings, progress: Any = None
) -> ReadResult:
    raw = source_bytes(source)
    text = raw.decode(hints.encoding or "utf-8", errors="replace")
    sample = text[:65536]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=",;\t| ")
        delim = hints.delimiter or sniffed.delimiter
    except csv.Error:
        delim = hints.delimiter or ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    header = rows[0] if rows else []
    n = len(header)
    kept, bad = [], []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) == n:
            kept.append(row)
        else:
            bad.append((i, delim.join(row), f"{len(row)} fields, expected {n}"))
    table = text_frame(header, kept)
    return ReadResult(
        table=table,
        source=source.name,
        format="csv",
        encoding=hints.encoding or "utf-8",
        dialect=Dialect(delimiter=delim),
        quarantine=make_quarantine(bad),
        original_columns=header,
    )
