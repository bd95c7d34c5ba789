"""The cleaning recipe: plain data (JSON, never a pickle) and the one function that applies it.

Fitting learns a :class:`Recipe`; cleaning the training table, transforming new rows at
serving time and answering ``apprentice why`` for one cell all run :func:`apply_column`, so
the three can never disagree. Every cell gets a rule code saying what happened to it.

One record at a time, :func:`cell_cleaner` gives a column's
:class:`~apprentice.features.cells.CellCleaner`: each cell is :func:`clean_cell` (this
module's :func:`apply_column` on that cell) or a direct route holding to the same rules.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from apprentice.clean._arrow import (
    bool_np,
    contiguous,
    encode,
    high_cardinality,
    is_in,
    to_text_array,
    trim,
)
from apprentice.clean.booleans import BooleanFormat, parse_booleans
from apprentice.clean.categories import merge_key
from apprentice.clean.dates import DateFormat, parse_dates
from apprentice.clean.markers import MISSING_TOKENS
from apprentice.clean.numbers import NumberFormat, parse_numbers
from apprentice.errors import SchemaError
from apprentice.features.cells import CellCleaner

RECIPE_FORMAT = "apprentice.clean.recipe"
RECIPE_VERSION = 1

KINDS = (
    "integer",
    "float",
    "boolean",
    "date",
    "datetime",
    "time",
    "category",
    "identifier",
    "text",
    "empty",
)
NUMERIC_KINDS = ("integer", "float")
DATE_KINDS = ("date", "datetime", "time")


class Rule(IntEnum):
    """What happened to one cell."""

    VALUE = 0
    REFORMATTED = 1
    NULL = 2
    EMPTY = 3
    MARKER = 4
    UNPARSEABLE = 5
    SENTINEL = 6
    MERGED = 7
    UNSEEN = 8
    FLAGGED = 9
    NEW_MARKER = 10


MISSING_RULES = frozenset(
    {
        Rule.NULL,
        Rule.EMPTY,
        Rule.MARKER,
        Rule.UNPARSEABLE,
        Rule.SENTINEL,
        Rule.UNSEEN,
        Rule.NEW_MARKER,
    }
)
RULE_NAMES = {r: r.name.lower() for r in Rule}


def coercions_from_counts(counts: Any, whitespace_stripped: int) -> dict[str, int]:
    """A column report's ``coercions``: how many cells each rule touched (``counts`` is
    indexed by :class:`Rule`, as ``np.bincount(codes, minlength=len(Rule))`` gives it) and
    how many lost surrounding whitespace."""
    return {
        "values_kept": int(counts[Rule.VALUE]),
        "reformatted": int(counts[Rule.REFORMATTED]),
        "merged": int(counts[Rule.MERGED]),
        "whitespace_stripped": int(whitespace_stripped),
        "null": int(counts[Rule.NULL]),
        "empty": int(counts[Rule.EMPTY]),
        "marker": int(counts[Rule.MARKER] + counts[Rule.NEW_MARKER]),
        "unparseable": int(counts[Rule.UNPARSEABLE]),
        "sentinel_missing": int(counts[Rule.SENTINEL]),
        "sentinel_flagged": int(counts[Rule.FLAGGED]),
        "unseen": int(counts[Rule.UNSEEN]),
    }


@dataclass
class ColumnRecipe:
    """How to clean one column."""

    name: str
    source: str
    kind: str
    markers: list[str] = field(default_factory=list)
    kept_markers: list[str] = field(default_factory=list)
    number: NumberFormat | None = None
    boolean: BooleanFormat | None = None
    date: DateFormat | None = None
    categories: list[str] | None = None
    sentinels: list[dict[str, Any]] = field(default_factory=list)
    semantic: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "kind": self.kind,
            "markers": list(self.markers),
            "kept_markers": list(self.kept_markers),
            "number": self.number.to_dict() if self.number else None,
            "boolean": self.boolean.to_dict() if self.boolean else None,
            "date": self.date.to_dict() if self.date else None,
            "categories": list(self.categories) if self.categories is not None else None,
            "sentinels": [dict(s) for s in self.sentinels],
            "semantic": self.semantic,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnRecipe:
        kind = data.get("kind")
        if data.get("redacted"):
            raise SchemaError(
                f"recipe column {data.get('name')!r} was redacted (its categories are masked), "
                "so it cannot be applied; use the recipe from the unredacted cleaner"
            )
        if kind not in KINDS:
            raise SchemaError(
                f"recipe column {data.get('name')!r} has unknown kind {kind!r}; "
                f"expected one of {', '.join(KINDS)}"
            )
        return cls(
            name=str(data["name"]),
            source=str(data.get("source", data["name"])),
            kind=str(kind),
            markers=list(data.get("markers") or []),
            kept_markers=list(data.get("kept_markers") or []),
            number=NumberFormat.from_dict(data["number"]) if data.get("number") else None,
            boolean=BooleanFormat.from_dict(data["boolean"]) if data.get("boolean") else None,
            date=DateFormat.from_dict(data["date"]) if data.get("date") else None,
            categories=list(data["categories"]) if data.get("categories") is not None else None,
            sentinels=[dict(s) for s in data.get("sentinels") or []],
            semantic=data.get("semantic"),
        )

    @property
    def dtype(self) -> str:
        """The pandas dtype of the cleaned column."""
        if self.kind in NUMERIC_KINDS or self.kind == "empty":
            return "float64"
        if self.kind == "boolean":
            return "boolean"
        if self.kind in ("date", "datetime"):
            return "datetime64[us, UTC]" if self.date and self.date.utc else "datetime64[us]"
        if self.kind == "time":
            return "timedelta64[us]"
        if self.kind == "category":
            return "category"
        return "str"


@dataclass
class Recipe:
    """The whole learned recipe: one :class:`ColumnRecipe` per column, in output order."""

    columns: list[ColumnRecipe]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RECIPE_FORMAT,
            "version": RECIPE_VERSION,
            "settings": self.settings,
            "columns": [c.to_dict() for c in self.columns],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        if isinstance(data, dict) and data.get("format") == "apprentice.clean.ledger":
            if not isinstance(data.get("recipe"), dict):
                raise SchemaError(
                    "this ledger holds no recipe; re-run `apprentice clean FILE --ledger L.json`"
                )
            data = data["recipe"]  # a ledger carries the recipe it was made with
        if not isinstance(data, dict) or data.get("format") != RECIPE_FORMAT:
            raise SchemaError(
                "this is not a cleaning recipe (no 'format': 'apprentice.clean.recipe'); pass "
                "the JSON written by Cleaner.recipe_to_json() or the ledger of `apprentice clean`"
            )
        if data.get("version") != RECIPE_VERSION:
            raise SchemaError(
                f"recipe version {data.get('version')!r} is not supported (expected "
                f"{RECIPE_VERSION}); re-fit the cleaner with this version of apprentice"
            )
        return cls(
            columns=[ColumnRecipe.from_dict(c) for c in data.get("columns", [])],
            settings=dict(data.get("settings") or {}),
        )

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"the recipe is not valid JSON (line {exc.lineno}); pass the file written by "
                "`apprentice clean --ledger` or Cleaner.recipe_to_json()"
            ) from None
        return cls.from_dict(data)

    def column(self, key: str) -> ColumnRecipe:
        for c in self.columns:
            if c.name == key:
                return c
        for c in self.columns:
            if c.source == key:
                return c
        raise SchemaError(
            f"column {key!r} is not in the recipe; its columns are "
            + ", ".join(repr(c.name) for c in self.columns[:20])
            + (" ..." if len(self.columns) > 20 else "")
        )

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass
class Applied:
    """A cleaned column and the :class:`Rule` code of each cell.

    When the column was dictionary-encoded, ``dictionary``/``dstripped`` hold its distinct raw
    and stripped texts and ``index`` each cell's position in them (-1 for null); otherwise
    ``raw``/``stripped`` hold every cell.
    """

    values: pd.Series
    codes: np.ndarray
    raw: pa.Array | None = None
    stripped: pa.Array | None = None
    dictionary: pa.Array | None = None
    dstripped: pa.Array | None = None
    index: np.ndarray | None = None
    dcodes: np.ndarray | None = None
    dcounts: np.ndarray | None = None
    # float values known to hold no NaN (a plain column with no null): row_token needs no mask
    no_nan: bool = False

    def _dcounts(self) -> np.ndarray:
        """Cells per dictionary entry (dictionary path only)."""
        if self.dcounts is None and self.index is not None and self.dictionary is not None:
            counts = np.bincount(self.index + 1, minlength=len(self.dictionary) + 1)
            self.dcounts = counts[1:]
        return self.dcounts if self.dcounts is not None else np.zeros(0, dtype=np.int64)

    def token_counts(self, rules: tuple[int, ...]) -> dict[str, int]:
        """Stripped text -> number of cells, over the cells whose rule is in ``rules``."""
        out: dict[str, int] = {}
        if self.dcodes is None and self.stripped is None:
            return out
        if self.dcodes is not None and self.dstripped is not None:
            hit = np.flatnonzero(np.isin(self.dcodes, rules) & (self._dcounts() > 0))
            if hit.size == 0:
                return out
            texts = self.dstripped.take(pa.array(hit)).to_pylist()
            for t, c in zip(texts, self._dcounts()[hit].tolist(), strict=True):
                if t is not None:
                    out[t] = out.get(t, 0) + int(c)
            return out
        mask = np.isin(self.codes, rules)
        if self.stripped is not None and mask.any():
            vc = pc.value_counts(self.stripped.filter(pa.array(mask)))
            for t, c in zip(
                vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
            ):
                if t is not None:
                    out[t] = int(c)
        return out

    def whitespace_stripped(self) -> int:
        """How many cells lost surrounding whitespace."""
        if self.index is not None and self.dictionary is not None and self.dstripped is not None:
            changed = bool_np(pc.not_equal(self.dictionary, self.dstripped))
            return int(self._dcounts()[changed].sum()) if changed.any() else 0
        if self.raw is not None and self.stripped is not None:
            return int(bool_np(pc.not_equal(self.raw, self.stripped)).sum())
        return 0

    def release(self) -> None:
        """Drop the per-cell buffers once the report is written (values and codes stay)."""
        self.raw = self.stripped = self.dictionary = self.dstripped = None
        self.index = self.dcodes = self.dcounts = None

    def row_token(self) -> np.ndarray | None:
        """A uint64 per cell, equal for equal raw cells (None when not cheaply available)."""
        if self.index is not None:
            tok = self.index.astype(np.uint64)
            tok += np.uint64(1)
            return tok
        values = self.values.to_numpy()
        if values.dtype.kind == "f" and self.no_nan:
            return values.view(np.uint64)
        if values.dtype.kind == "f":
            bits = np.where(np.isnan(values), np.nan, values).view(np.uint64)
            return bits
        if values.dtype.kind in "mM":
            return values.view(np.int64).astype(np.uint64)
        return None


def _missing_masks(
    rec: ColumnRecipe, stripped: pa.Array
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(null, empty, seen marker, new marker) masks."""
    null = np.asarray(pc.is_null(stripped).to_numpy(zero_copy_only=False), dtype=bool)
    empty = np.asarray(
        pc.fill_null(pc.equal(stripped, ""), False).to_numpy(zero_copy_only=False), dtype=bool
    )
    lower = pc.utf8_lower(stripped)
    seen = is_in(lower, {m.lower() for m in rec.markers} - {""})
    vocab = set(MISSING_TOKENS) - set(rec.kept_markers)
    new = is_in(lower, vocab) & ~seen & ~empty
    if rec.kind in ("category", "identifier", "text") and rec.categories is not None:
        # a marker-like token that is a learned category stays a category
        new &= ~is_in(stripped, set(rec.categories))
    return null, empty, seen & ~empty, new


def _text_series(arr: Any, index: pd.Index) -> pd.Series:
    if pa.types.is_string(arr.type):
        arr = pc.cast(arr, pa.large_string())
    values = arr.to_pandas(types_mapper={pa.large_string(): pd.StringDtype("pyarrow", np.nan)}.get)
    return pd.Series(values.array if isinstance(values, pd.Series) else values, index=index)


def _apply_distinct(rec: ColumnRecipe, raw: pa.Array) -> tuple[Any, np.ndarray, pa.Array]:
    """Clean distinct (or all) raw cells: (values in a kind-specific container, codes, stripped)."""
    stripped = trim(raw)
    n = len(stripped)
    null, empty, marker, new_marker = _missing_masks(rec, stripped)
    codes = np.zeros(n, dtype=np.int8)
    codes[null] = Rule.NULL
    codes[empty] = Rule.EMPTY
    codes[marker] = Rule.MARKER
    codes[new_marker] = Rule.NEW_MARKER
    missing = null | empty | marker | new_marker
    kind = rec.kind
    out: Any
    if kind in NUMERIC_KINDS:
        fmt = rec.number or NumberFormat()
        vals, ok, decorated = parse_numbers(stripped, fmt, missing)
        codes[~missing & ~ok] = Rule.UNPARSEABLE
        codes[ok & decorated] = Rule.REFORMATTED
        for s in rec.sentinels:
            hit = ok & (vals == float(s["value"]))
            if s.get("action") == "missing":
                codes[hit] = Rule.SENTINEL
                vals = np.where(hit, np.nan, vals)
            else:
                codes[hit] = Rule.FLAGGED
        vals[~ok] = np.nan
        out = vals
    elif kind == "boolean":
        bools, ok = parse_booleans(pc.utf8_lower(stripped), rec.boolean or BooleanFormat(), missing)
        codes[~missing & ~ok] = Rule.UNPARSEABLE
        out = (bools, ok)
    elif kind in DATE_KINDS:
        dvals, ok = parse_dates(stripped, rec.date or DateFormat(), missing)
        codes[~missing & ~ok] = Rule.UNPARSEABLE
        out = dvals
    elif kind == "category":
        cats = list(rec.categories or [])
        keys = merge_key(stripped)
        cat_keys = merge_key(pa.array(cats, type=pa.large_string()))
        pos = pc.index_in(keys, value_set=cat_keys) if cats else None
        if pos is not None and len(set(cat_keys.to_pylist())) < len(cats):
            # spellings kept apart (case only): a cell written as a category is that category
            exact = pc.index_in(stripped, value_set=pa.array(cats, type=pa.large_string()))
            pos = pc.if_else(pc.is_valid(exact), exact, pos)
        if pos is None:
            idx = np.full(n, -1, dtype=np.int64)
        else:
            idx = np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        idx[missing] = -1
        unseen = ~missing & (idx < 0)
        codes[unseen] = Rule.UNSEEN
        if cats:
            canon = pa.array(cats, type=pa.large_string()).take(pa.array(np.maximum(idx, 0)))
            same = np.asarray(
                pc.fill_null(pc.equal(canon, stripped), False).to_numpy(zero_copy_only=False),
                dtype=bool,
            )
            codes[(idx >= 0) & ~same] = Rule.MERGED
        out = idx
    elif kind in ("identifier", "text"):
        out = pc.if_else(pa.array(missing), pa.scalar(None, stripped.type), stripped)
    else:  # empty
        codes[~missing] = Rule.UNPARSEABLE
        out = np.full(n, np.nan)
    return out, codes, stripped


def _take(container: Any, kind: str, idx: np.ndarray) -> Any:
    """Expand per-distinct results to per-cell with ``idx`` (-1 = null cell).

    Each per-distinct array gets one extra "null" entry at its end, which index -1 picks.
    """
    if kind in ("identifier", "text"):
        return container.take(pa.array(idx, mask=idx < 0))
    if kind == "boolean":
        bools, ok = container
        return np.append(bools, False)[idx], np.append(ok, False)[idx]
    if kind == "category":
        codes = np.append(container, -1)
        small = np.int8 if codes.max(initial=0) < 127 else np.int32
        return codes.astype(small)[idx]
    arr = np.asarray(container)
    filler = np.array([np.nan]) if arr.dtype.kind == "f" else np.array(["NaT"], dtype=arr.dtype)
    return np.concatenate([arr, filler])[idx]


def _finish(rec: ColumnRecipe, container: Any, index: pd.Index) -> pd.Series:
    kind = rec.kind
    if kind in ("identifier", "text"):
        return _text_series(container, index)
    if kind == "boolean":
        bools, ok = container
        return pd.Series(pd.arrays.BooleanArray(bools.astype(bool), ~ok), index=index)
    if kind == "category":
        cats = pd.Index(list(rec.categories or []), dtype="str")
        return pd.Series(pd.Categorical.from_codes(container, categories=cats), index=index)
    if kind in ("date", "datetime"):
        s = pd.Series(np.asarray(container, dtype="datetime64[us]"), index=index)
        return s.dt.tz_localize("UTC") if rec.date and rec.date.utc else s
    if kind == "time":
        return pd.Series(np.asarray(container, dtype="timedelta64[us]"), index=index)
    return pd.Series(np.asarray(container, dtype=np.float64), index=index)


CHUNK_ROWS = 262_144


def _apply_direct(rec: ColumnRecipe, raw: Any) -> tuple[Any, np.ndarray, Any]:
    """Clean every cell of a mostly-distinct column, a slice at a time (bounded memory)."""
    n = len(raw)
    if n <= CHUNK_ROWS:
        return _apply_distinct(rec, contiguous(raw))
    parts = [
        _apply_distinct(rec, contiguous(raw.slice(i, CHUNK_ROWS))) for i in range(0, n, CHUNK_ROWS)
    ]
    codes = np.concatenate([p[1] for p in parts])
    stripped = pa.chunked_array([p[2] for p in parts])
    first = parts[0][0]
    container: Any
    if rec.kind in ("identifier", "text"):
        container = pa.chunked_array([p[0] for p in parts])
    elif isinstance(first, tuple):
        container = (
            np.concatenate([p[0][0] for p in parts]),
            np.concatenate([p[0][1] for p in parts]),
        )
    else:
        container = np.concatenate([p[0] for p in parts])
    return container, codes, stripped


def apply_column(
    rec: ColumnRecipe,
    column: pd.Series | pa.Array,
    *,
    index: pd.Index | None = None,
    encoded: tuple[pa.Array, np.ndarray] | None = None,
    cast: pa.Array | None = None,
    values: np.ndarray | None = None,
) -> Applied:
    """Clean one column with its recipe: typed values and a :class:`Rule` code per cell.

    ``cast``: the cells already cast to float64 by pyarrow (the inference's plain-number
    check), so that a plain numeric column is not parsed twice; ``values``: that cast as a
    writable numpy array when every cell is finite and none is null (it becomes the column's
    values, not copied)."""
    if index is None:
        index = column.index if isinstance(column, pd.Series) else pd.RangeIndex(len(column))
    if (
        isinstance(column, pd.Series)
        and rec.kind in NUMERIC_KINDS
        and column.dtype.kind in "iuf"
        and not isinstance(column.dtype, pd.StringDtype)
    ):
        return _apply_native_numbers(rec, column)
    if encoded is None:
        raw = to_text_array(column)
        if rec.kind in NUMERIC_KINDS and rec.number is not None and rec.number.plain:
            quick = _plain_cast(rec, raw, index, cast, values)
            if quick is not None:
                return quick
        if high_cardinality(raw):
            container, codes, stripped = _apply_direct(rec, raw)
            return Applied(_finish(rec, container, index), codes, raw=raw, stripped=stripped)
        encoded = encode(raw)
    dictionary, idx = encoded
    container, dcodes, dstripped = _apply_distinct(rec, dictionary)
    container = _take(container, rec.kind, idx)
    codes = np.append(dcodes, np.int8(Rule.NULL))[idx]
    return Applied(
        _finish(rec, container, index),
        codes,
        dictionary=dictionary,
        dstripped=dstripped,
        index=idx,
        dcodes=dcodes,
    )


def _plain_cast(
    rec: ColumnRecipe,
    raw: Any,
    index: pd.Index,
    cast: pa.Array | None = None,
    values: np.ndarray | None = None,
) -> Applied | None:
    """Every cell a plain number (or null): one cast does it, no hashing (None otherwise).

    pyarrow's cast refuses whitespace, empty cells, markers and decorations, so whenever it
    succeeds the cells are exactly what the full path would read as plain values. ``cast``:
    that cast of ``raw``, when already made; ``values``: the same as a writable numpy array
    with every cell finite and none null (a row of the batched check's matrix).
    """
    if values is not None:
        vals, codes = values, np.zeros(len(values), dtype=np.int8)
    else:
        if cast is None:
            try:
                cast = pc.cast(raw, pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return None
        # a float64 array's nulls come out of to_numpy as NaN
        vals = np.array(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
        codes = np.zeros(len(vals), dtype=np.int8)
        if cast.null_count:
            null = np.asarray(cast.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            if not np.isfinite(vals[~null]).all():
                return None
            codes[null] = Rule.NULL
        elif not np.isfinite(vals).all():  # (no null: the same test without the mask)
            return None
    applied = Applied(pd.Series(vals, index=index, copy=False), codes, no_nan=values is not None)
    if rec.sentinels:
        mark_sentinels(rec, applied)
    return applied


def mark_sentinels(rec: ColumnRecipe, applied: Applied) -> None:
    """Apply ``rec.sentinels`` to an already cleaned numeric column, in place."""
    vals = applied.values.to_numpy(dtype=np.float64, copy=True)
    codes = applied.codes
    for s in rec.sentinels:
        hit = vals == float(s["value"])
        code = Rule.SENTINEL if s.get("action") == "missing" else Rule.FLAGGED
        codes[hit] = code
        if code == Rule.SENTINEL:
            vals[hit] = np.nan
        if applied.dcodes is not None and applied.index is not None:
            applied.dcodes[np.unique(applied.index[hit])] = code
    applied.values = pd.Series(vals, index=applied.values.index)
    applied.no_nan = False


def _apply_native_numbers(rec: ColumnRecipe, column: pd.Series) -> Applied:
    vals = column.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    codes = np.zeros(len(vals), dtype=np.int8)
    codes[np.isnan(vals)] = Rule.NULL
    for s in rec.sentinels:
        hit = vals == float(s["value"])
        if s.get("action") == "missing":
            codes[hit] = Rule.SENTINEL
            vals[hit] = np.nan
        else:
            codes[hit] = Rule.FLAGGED
    return Applied(pd.Series(vals, index=column.index), codes, None)


def clean_cell(rec: ColumnRecipe, text: str | None) -> Any:
    """The recipe's value of one raw text cell (``None`` = missing): :func:`apply_column` on
    a column of that one cell."""
    return apply_column(rec, pd.Series([text], dtype="str")).values.iloc[0]


def cell_cleaner(rec: ColumnRecipe) -> CellCleaner:
    """The one cell cleaner of a recipe column (used by ``Bundle.predict`` and the API)."""
    return CellCleaner(
        rec, missing_tokens=MISSING_TOKENS, clean_one=functools.partial(clean_cell, rec)
    )


def forget_values(recipe_json: str, columns: Collection[str]) -> str:
    """The recipe JSON with no value of ``columns`` left in it: each becomes a text column
    (kept as written, no categories, markers or sentinels). For columns that hold personal
    data and are not model features: the bundle needs them only to accept the raw rows a
    caller sends, never their values."""
    import json

    names = set(columns)
    if not names:
        return recipe_json
    document = json.loads(recipe_json)
    for column in document.get("columns", []):
        if column.get("name") in names or column.get("source") in names:
            column.update(
                kind="text",
                markers=[],
                kept_markers=[],
                number=None,
                boolean=None,
                date=None,
                categories=None,
                sentinels=[],
                semantic=None,
            )
    return json.dumps(document, ensure_ascii=False)
