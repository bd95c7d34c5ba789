"""The cleaning recipe: plain data (JSON, never a pickle) and the one function that applies it.

Fitting learns a :class:`Recipe`; cleaning the training table, transforming new rows at
serving time and answering ``apprentice why`` for one cell all run :func:`apply_column`, so
the three can never disagree. Every cell gets a rule code saying what happened to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from apprentice.clean._arrow import encode, high_cardinality, is_in, to_text_array, trim
from apprentice.clean.booleans import BooleanFormat, parse_booleans
from apprentice.clean.categories import category_key
from apprentice.clean.dates import DateFormat, parse_dates
from apprentice.clean.markers import MISSING_TOKENS
from apprentice.clean.numbers import NumberFormat, parse_numbers
from apprentice.errors import SchemaError

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
    """A cleaned column, the rule code of each cell and the stripped text of each cell."""

    values: pd.Series
    codes: np.ndarray
    stripped: pa.Array | None = None


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


def _text_series(arr: pa.Array, index: pd.Index) -> pd.Series:
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
        keys = category_key(stripped)
        cat_keys = category_key(pa.array(cats, type=pa.large_string()))
        pos = pc.index_in(keys, value_set=cat_keys) if cats else None
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
    """Expand per-distinct results to per-cell with ``idx`` (-1 = null cell)."""
    if kind in ("identifier", "text"):
        return container.take(pa.array(idx, mask=idx < 0, type=pa.int64()))
    if kind == "boolean":
        bools, ok = container
        safe = np.where(idx < 0, 0, idx)
        return bools[safe] & (idx >= 0), ok[safe] & (idx >= 0)
    if kind == "category":
        return np.where(idx < 0, -1, container[np.where(idx < 0, 0, idx)])
    arr = np.asarray(container)
    filler = np.array([np.nan]) if arr.dtype.kind == "f" else np.array(["NaT"], dtype=arr.dtype)
    ext = np.concatenate([arr, filler])
    return ext[np.where(idx < 0, len(arr), idx)]


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


def apply_column(rec: ColumnRecipe, column: pd.Series | pa.Array) -> Applied:
    """Clean one column with its recipe: typed values and a :class:`Rule` code per cell."""
    index = column.index if isinstance(column, pd.Series) else pd.RangeIndex(len(column))
    if (
        isinstance(column, pd.Series)
        and rec.kind in NUMERIC_KINDS
        and column.dtype.kind in "iuf"
        and not isinstance(column.dtype, pd.StringDtype)
    ):
        return _apply_native_numbers(rec, column)
    raw = to_text_array(column)
    if high_cardinality(raw):
        container, codes, stripped = _apply_distinct(rec, raw)
    else:
        dictionary, idx = encode(raw)
        container, dcodes, dstripped = _apply_distinct(rec, dictionary)
        container = _take(container, rec.kind, idx)
        codes = np.where(idx < 0, np.int8(Rule.NULL), dcodes[np.where(idx < 0, 0, idx)])
        codes = codes.astype(np.int8)
        stripped = dstripped.take(pa.array(idx, mask=idx < 0, type=pa.int64()))
    return Applied(_finish(rec, container, index), codes, stripped)


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
