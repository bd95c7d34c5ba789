"""Vectorised helpers over pyarrow string arrays (the clean stage never loops over cells)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Above this many rows, type detection looks at an evenly spaced sample of rows; the recipe
# it learns is then applied to every cell, and every cell that does not fit is reported.
SAMPLE_ROWS = 200_000
# Distinct values handed to the (per-value, Python-level) detectors at most.
MAX_DETECT_VALUES = 1_000


def contiguous(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def column_arrays(frame: pd.DataFrame) -> list[Any]:
    """Each column's array (numpy or pandas extension array), by position, with no Series
    made (``DataFrame.items`` makes one per column: slow on a wide frame)."""
    get = getattr(frame, "_get_column_array", None)
    if get is None:  # pragma: no cover - a pandas without it
        return [col.array for _, col in frame.items()]
    return [get(j) for j in range(frame.shape[1])]


def to_text_array(values: Any) -> Any:
    """The cells as a pyarrow string array (missing cells are null); a pandas column backed by
    several chunks stays chunked (no copy) and is made contiguous only where needed."""
    if isinstance(values, pa.ChunkedArray):
        arr: Any = values if values.num_chunks != 1 else values.chunk(0)
    elif isinstance(values, pa.Array):
        arr = values
    elif isinstance(values, (pd.Series, pd.api.extensions.ExtensionArray, np.ndarray)):
        # a column, or a column's array (a frame's columns are taken with no Series each)
        array = values.array if isinstance(values, pd.Series) else values
        if not isinstance(array.dtype, pd.StringDtype) or array.dtype.storage != "pyarrow":
            series = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
            array = as_text_series(series).array
        arr = pa.array(array)
        if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 1:
            arr = arr.chunk(0)
    else:
        arr = pa.array(list(values), type=pa.large_string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    return arr


def as_text_series(series: pd.Series) -> pd.Series:
    """``series`` as pandas ``str`` cells; missing stays missing, anything else becomes ``str``."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        return series
    mask = series.isna().to_numpy()
    if series.dtype.kind == "f":
        # repr-exact text for floats, so that numbers survive a text round trip unchanged
        data = np.array([repr(float(v)) for v in series.to_numpy()], dtype=object)
    else:
        data = series.astype(object).to_numpy(copy=True)
        data = np.array([v if isinstance(v, str) else str(v) for v in data], dtype=object)
    data[mask] = None
    return pd.Series(pd.array(data, dtype=pd.StringDtype("pyarrow")), index=series.index)


def trim(arr: pa.Array) -> pa.Array:
    return pc.utf8_trim_whitespace(arr)


def null_mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)


def bool_np(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A pyarrow boolean array as numpy, nulls as False."""
    filled = pc.fill_null(arr, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def sample_rows(arr: pa.Array, limit: int = SAMPLE_ROWS) -> pa.Array:
    """An evenly spaced, deterministic sample of at most ``limit`` cells."""
    n = len(arr)
    if n <= limit:
        return arr
    idx = np.linspace(0, n - 1, num=limit).astype(np.int64)
    return arr.take(pa.array(idx))


@dataclass
class Distinct:
    """Distinct trimmed values of a column with their cell counts (most frequent first)."""

    values: pa.Array
    counts: np.ndarray
    n_cells: int
    n_null: int
    sampled: bool

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def filter(self, mask: np.ndarray) -> Distinct:
        return Distinct(
            self.values.filter(pa.array(mask)),
            self.counts[mask],
            self.n_cells,
            self.n_null,
            self.sampled,
        )

    def head(self, limit: int = 0) -> tuple[list[str], np.ndarray]:
        """Python values and counts; at most ``limit`` (the most frequent half, then an even
        spread of the rest) when ``limit`` is given."""
        n = len(self.values)
        if not limit or n <= limit:
            return self.values.to_pylist(), self.counts
        half = limit // 2
        rest = np.linspace(half, n - 1, num=limit - half).astype(np.int64)
        idx = np.concatenate([np.arange(half), rest])
        return self.values.take(pa.array(idx)).to_pylist(), self.counts[idx]


def distinct_counts(arr: pa.Array, *, sample: bool = True) -> Distinct:
    """Distinct trimmed values and counts; on a sample of rows for very long columns."""
    n_cells = len(arr)
    sampled = sample and n_cells > SAMPLE_ROWS
    part = sample_rows(arr) if sampled else arr
    vc = pc.value_counts(trim(part))
    values = vc.field("values")
    counts = np.asarray(vc.field("counts").to_numpy(), dtype=np.int64)
    valid = bool_np(pc.is_valid(values))
    n_null = int(counts[~valid].sum())
    values = values.filter(pa.array(valid))
    cnt = counts[valid]
    order = np.lexsort((np.arange(len(cnt)), -cnt))
    return Distinct(
        values=values.take(pa.array(order)),
        counts=cnt[order],
        n_cells=n_cells,
        n_null=n_null,
        sampled=sampled,
    )


def is_in(arr: pa.Array, values: list[str] | set[str] | frozenset[str]) -> np.ndarray:
    if not values:
        return np.zeros(len(arr), dtype=bool)
    return bool_np(pc.is_in(arr, value_set=pa.array(sorted(values), type=arr.type)))


def index_in(arr: pa.Array, values: list[str]) -> np.ndarray:
    """Position of each cell in ``values`` (-1 where absent or null)."""
    if not values:
        return np.full(len(arr), -1, dtype=np.int64)
    idx = pc.index_in(arr, value_set=pa.array(values, type=arr.type))
    return np.asarray(pc.fill_null(idx, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def encode(arr: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Dictionary-encode: (distinct values, int32 index of each cell, -1 for null)."""
    enc = pc.dictionary_encode(arr)
    chunks = enc.chunks if isinstance(enc, pa.ChunkedArray) else [enc]
    if not chunks:
        return pa.array([], type=arr.type), np.zeros(0, dtype=np.int32)
    # the chunks of a chunked encoding share one dictionary (the last is complete)
    indices = (
        chunks[0].indices if len(chunks) == 1 else pa.concat_arrays([c.indices for c in chunks])
    )
    idx = np.asarray(pc.fill_null(indices, -1).to_numpy(zero_copy_only=False))
    return chunks[-1].dictionary, idx.astype(np.int32, copy=False)


def high_cardinality(arr: pa.Array) -> bool:
    """Whether a column is mostly distinct (then parsing every cell beats dictionary-encoding)."""
    n = len(arr)
    if n < 50_000:
        return False
    head = arr.slice(0, 20_000)
    return int(pc.count_distinct(head).as_py()) > 10_000


# -- byte-level character-class counts --------------------------------------------------------
# A regex call on a pyarrow array compiles its pattern every time (about 0.1-0.3 ms), which is
# most of the cost of a 1,000-row column in a wide table. The checks below only ask about
# ASCII characters, which in UTF-8 are single bytes that never occur inside a multi-byte
# character, so counting bytes over the array's data buffer gives exactly what the regexes
# ``[0-9]``, ``[.eE]`` ... give (property-tested against them in tests/clean).


def _byte_view(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(the UTF-8 bytes of ``arr``'s values, concatenated; the start offset of each value and
    the end of the last) for a string array; null values are empty."""
    arr = contiguous(arr)
    wide = pa.types.is_large_string(arr.type)
    if not (wide or pa.types.is_string(arr.type)):
        raise TypeError(f"a string array is needed, not {arr.type}")
    n = len(arr)
    buffers = arr.buffers()
    size = 8 if wide else 4
    offsets = np.frombuffer(
        buffers[1], dtype=np.int64 if wide else np.int32, count=n + 1, offset=arr.offset * size
    ).astype(np.int64)
    data = (
        np.frombuffer(buffers[2], dtype=np.uint8)
        if buffers[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    if arr.null_count:
        # a null slot may still cover bytes: count nothing there
        lengths = np.diff(offsets)
        lengths[~np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)] = 0
        start = offsets[:-1]
        keep = np.repeat(np.arange(n), lengths)
        pos = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        data = data[start[keep] + pos]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
    else:
        data = data[offsets[0] : offsets[-1]]
        offsets = offsets - offsets[0]
    return data, offsets


class ByteView:
    """The UTF-8 bytes of a string array's values, for counting ASCII characters per value
    (null values are empty)."""

    def __init__(self, arr: pa.Array) -> None:
        self.data, self.offsets = _byte_view(arr)

    def lengths(self) -> np.ndarray:
        """The length in bytes of each value."""
        return np.diff(self.offsets)

    def count(self, chars: str) -> np.ndarray:
        """How many of each value's characters are among the ASCII ``chars``."""
        table = np.zeros(256, dtype=np.int64)
        for ch in chars:
            code = ord(ch)
            if code >= 128:
                raise ValueError(f"only ASCII characters can be counted by byte, not {ch!r}")
            table[code] = 1
        cum = np.zeros(len(self.data) + 1, dtype=np.int64)
        np.cumsum(table[self.data], out=cum[1:])
        return cum[self.offsets[1:]] - cum[self.offsets[:-1]]

    def count2(self, first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`count` of two sets of ASCII characters in one pass over the bytes."""
        table = np.zeros(256, dtype=np.int64)
        for chars, weight in ((first, 1), (second, 1 << 32)):
            for ch in chars:
                if ord(ch) >= 128:
                    raise ValueError(f"only ASCII characters can be counted by byte, not {ch!r}")
                table[ord(ch)] += weight
        cum = np.zeros(len(self.data) + 1, dtype=np.int64)
        np.cumsum(table[self.data], out=cum[1:])
        both = cum[self.offsets[1:]] - cum[self.offsets[:-1]]
        return both & 0xFFFFFFFF, both >> 32

    def first(self) -> np.ndarray:
        """The first byte of each value (0 for an empty value)."""
        lengths = self.lengths()
        out = np.zeros(len(lengths), dtype=np.uint8)
        has = lengths > 0
        out[has] = self.data[self.offsets[:-1][has]]
        return out


def byte_lengths(arr: pa.Array) -> np.ndarray:
    """The UTF-8 length in bytes of each value (0 for null)."""
    return ByteView(arr).lengths()


def count_bytes_in(arr: pa.Array, chars: str) -> np.ndarray:
    """How many of each value's characters are among the ASCII ``chars`` (0 for null)."""
    return ByteView(arr).count(chars)


def first_bytes(arr: pa.Array) -> np.ndarray:
    """The first byte of each value (0 for an empty or null value)."""
    return ByteView(arr).first()


DIGITS = "0123456789"
