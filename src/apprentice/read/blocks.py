"""The reader's building blocks, public for the readers that work piece by piece.

The in-process reader (:func:`apprentice.read.read`) is the only full reader. The chunked
monitor path (``monitor.partial``) and the partitioned reader (``scale.partitions``) read a
file in pieces with exactly the same rules; they take those rules from here, never from the
read stage's private modules, so that this module is the one seam a change has to respect.
"""

from __future__ import annotations

from apprentice.read._arrow import (
    SAMPLE_BYTES,
    drop_blank_rows,
    place_rows,
    settle_invalid_rows,
    text_column_names,
    text_csv_options,
    trim_after_delimiter,
)
from apprentice.read._arrow import _arrow_delimiter as arrow_delimiter
from apprentice.read._arrow import _sample_text as sample_text
from apprentice.read._profile import TableProfile
from apprentice.read._source import open_source, unique_names
from apprentice.read._table import parse_table
from apprentice.read._tokenize import Format

__all__ = [
    "SAMPLE_BYTES",
    "Format",
    "TableProfile",
    "arrow_delimiter",
    "drop_blank_rows",
    "open_source",
    "parse_table",
    "place_rows",
    "sample_text",
    "settle_invalid_rows",
    "text_column_names",
    "text_csv_options",
    "trim_after_delimiter",
    "unique_names",
]
