"""The schema contract: what later data must look like, saved as versioned JSON.

:func:`infer_schema` records, per column, a logical type (``number``, ``integer``,
``boolean``, ``datetime``, ``category``, ``id``, ``text``), whether missing values occurred,
the observed range of numbers and dates, and the set of categories (closed when there are at
most ``max_categories`` of them, open otherwise). PII columns keep only their type and
nullability: no value of theirs (category, minimum, maximum) is ever written to a schema.

:func:`validate` checks a frame (typed, or text cells straight from ``apprentice.read``)
against a schema and lists every violation by row and column: missing and unexpected columns,
values of the wrong type, numbers or dates out of range, unknown categories, missing values in
a column that had none. Details show offending values except in PII columns (masked there) and
scrub any PII found inside them.

Why not pandera: it would add a heavy dependency tree for the handful of checks needed here,
its failure cases echo raw values (which would defeat the PII guarantees), and the checks must
also accept text cells and convert them with the same rules as the rest of apprentice. The
implementation below is vectorised pandas/numpy, one pass per column.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import tempfile
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import SchemaError
from apprentice.guard.pii import PIIReport, find_pii_spans
from apprentice.guard.protect import mask_series, safe_display

SCHEMA_FORMAT = "apprentice.schema"
SCHEMA_VERSION = 1
LOGICAL_TYPES: tuple[str, ...] = (
    "number",
    "integer",
    "boolean",
    "datetime",
    "category",
    "id",
    "text",
)
DEFAULT_MAX_CATEGORIES = 50
VIOLATION_COLUMNS = ("row", "line", "column", "check", "detail")
CHECKS = ("missing_column", "unexpected_column", "null", "type", "range", "category")

_TYPE_ALIASES = {
    "float": "number",
    "double": "number",
    "numeric": "number",
    "decimal": "number",
    "real": "number",
    "int": "integer",
    "int64": "integer",
    "bool": "boolean",
    "date": "datetime",
    "time": "datetime",
    "timestamp": "datetime",
    "categorical": "category",
    "enum": "category",
    "factor": "category",
    "str": "text",
    "string": "text",
    "object": "text",
    "identifier": "id",
    "key": "id",
}
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def check_type_name(name: object, *, where: str) -> str:
    """``name`` if it is a logical type, else a :class:`SchemaError` that says what to use."""
    if isinstance(name, str) and name in LOGICAL_TYPES:
        return name
    hint = ""
    if isinstance(name, str):
        alias = _TYPE_ALIASES.get(name.strip().lower())
        close = difflib.get_close_matches(name.strip().lower(), LOGICAL_TYPES, n=1)
        suggestion = alias or (close[0] if close else None)
        if suggestion:
            hint = f" (did you mean {suggestion!r}?)"
    raise SchemaError(
        f"{where}: unknown type {name!r}{hint}; use one of {', '.join(LOGICAL_TYPES)}"
    )


# ---------------------------------------------------------------------------------------------
# the schema


@dataclass
class ColumnSchema:
    """The contract for one column.

    ``minimum``/``maximum`` are numbers for ``number``/``integer`` and ISO 8601 text for
    ``datetime``. ``categories`` is the closed set of allowed values of a ``category`` column,
    or ``None`` when the set is open (too many to list, or PII). ``pii`` names the PII kind.
    """

    name: str
    type: str
    nullable: bool = True
    minimum: float | int | str | None = None
    maximum: float | int | str | None = None
    categories: list[str] | None = None
    pii: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        return {k: v for k, v in out.items() if v is not None or k in ("name", "type")}

    @classmethod
    def from_dict(cls, raw: object, *, where: str) -> ColumnSchema:
        if not isinstance(raw, dict):
            raise SchemaError(
                f"{where} is not an object; each column is {{'name':..., 'type':...}}"
            )
        unknown = set(raw) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise SchemaError(
                f"{where} has unknown field(s) {', '.join(sorted(unknown))}; the fields are "
                f"{', '.join(cls.__dataclass_fields__)}"
            )
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise SchemaError(f"{where} has no 'name' (a non-empty text); add it")
        where = f"{where} ({name!r})"
        kind = check_type_name(raw.get("type"), where=where)
        nullable = raw.get("nullable", True)
        if not isinstance(nullable, bool):
            raise SchemaError(f"{where}: 'nullable' must be true or false, not {nullable!r}")
        low, high = raw.get("minimum"), raw.get("maximum")
        for label, bound in (("minimum", low), ("maximum", high)):
            if bound is None:
                continue
            if kind in ("number", "integer"):
                if isinstance(bound, bool) or not isinstance(bound, int | float):
                    raise SchemaError(f"{where}: {label} must be a number, not {bound!r}")
            elif kind == "datetime":
                if not isinstance(bound, str) or _to_timestamp(bound) is None:
                    raise SchemaError(f"{where}: {label} must be an ISO 8601 date-time text")
            else:
                raise SchemaError(f"{where}: a {kind} column has no {label}; remove it")
        if low is not None and high is not None:
            lo: Any = _to_timestamp(low) if kind == "datetime" else low
            hi: Any = _to_timestamp(high) if kind == "datetime" else high
            if lo > hi:
                raise SchemaError(f"{where}: minimum is above maximum; swap or fix them")
        cats = raw.get("categories")
        if cats is not None:
            if kind != "category":
                raise SchemaError(f"{where}: a {kind} column has no categories; remove them")
            if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
                raise SchemaError(f"{where}: 'categories' must be a list of texts")
        pii = raw.get("pii")
        if pii is not None and not isinstance(pii, str):
            raise SchemaError(f"{where}: 'pii' must be a PII kind (text) or null")
        return cls(name, kind, nullable, low, high, list(cats) if cats is not None else None, pii)


@dataclass
class Schema:
    """A versioned data contract: one :class:`ColumnSchema` per column, in table order."""

    columns: list[ColumnSchema] = field(default_factory=list)
    rows: int = 0
    max_categories: int = DEFAULT_MAX_CATEGORIES
    version: int = SCHEMA_VERSION

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSchema:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def pii_columns(self) -> dict[str, str]:
        return {c.name: c.pii for c in self.columns if c.pii}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": SCHEMA_FORMAT,
            "version": self.version,
            "rows": self.rows,
            "max_categories": self.max_categories,
            "columns": [c.to_dict() for c in self.columns],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def save(self, path: str | Path) -> Path:
        """Write the schema as JSON, atomically (an existing file is replaced only when done)."""
        path = Path(path)
        text = self.to_json() + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def from_dict(cls, raw: object, *, source: str = "the schema") -> Schema:
        todo = "create one with apprentice.guard.infer_schema(frame).save(path)"
        if not isinstance(raw, dict) or raw.get("format") != SCHEMA_FORMAT:
            raise SchemaError(
                f'{source} is not an apprentice schema (no "format": "{SCHEMA_FORMAT}"); {todo}'
            )
        version = raw.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise SchemaError(f"{source}: 'version' must be a whole number from 1; {todo}")
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"{source} has schema version {version}, newer than this apprentice reads "
                f"({SCHEMA_VERSION}); upgrade apprentice"
            )
        columns = raw.get("columns")
        if not isinstance(columns, list) or not columns:
            raise SchemaError(f"{source} lists no columns ('columns' must be a non-empty list)")
        parsed = [
            ColumnSchema.from_dict(c, where=f"{source}: column {i + 1}")
            for i, c in enumerate(columns)
        ]
        seen: set[str] = set()
        for column in parsed:
            if column.name in seen:
                raise SchemaError(f"{source}: column {column.name!r} appears twice; keep one")
            seen.add(column.name)
        rows = raw.get("rows", 0)
        max_categories = raw.get("max_categories", DEFAULT_MAX_CATEGORIES)
        if not isinstance(rows, int) or not isinstance(max_categories, int):
            raise SchemaError(f"{source}: 'rows' and 'max_categories' must be whole numbers")
        return cls(parsed, rows, max_categories, version)

    @classmethod
    def from_json(cls, text: str, *, source: str = "the schema") -> Schema:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                "fix it, or create a new one with apprentice.guard.infer_schema(frame).save(path)"
            ) from None
        return cls.from_dict(raw, source=source)

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read a schema file; a :class:`SchemaError` says what is wrong with a bad one."""
        path = Path(path)
        if not path.is_file():
            raise SchemaError(
                f"schema file {path} does not exist; create it with "
                "apprentice.guard.infer_schema(frame).save(path)"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SchemaError(f"schema file {path} is not UTF-8 text; is it a schema?") from None
        return cls.from_json(text, source=f"schema file {path}")


# ---------------------------------------------------------------------------------------------
# conversions shared by inference and validation


def _is_text_dtype(dtype: Any) -> bool:
    return pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)


def _stripped(series: pd.Series) -> pd.Series:
    """Text of each cell, stripped; missing stays missing."""
    return series.astype("str").str.strip()


def _null_mask(series: pd.Series) -> np.ndarray:
    mask = series.isna().to_numpy(dtype=bool)
    if _is_text_dtype(series.dtype):
        mask = mask | (_stripped(series) == "").fillna(True).to_numpy(dtype=bool)
    return mask


def _to_timestamp(value: object) -> pd.Timestamp | None:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if ts is pd.NaT:
        return None
    return ts.tz_convert(None) if ts.tzinfo is not None else ts


def _as_numbers(series: pd.Series) -> pd.Series:
    """Floats (NaN where not a number)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return pd.Series(np.nan, index=series.index)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    return pd.to_numeric(_stripped(series), errors="coerce").astype("float64")


def _as_datetimes(series: pd.Series) -> pd.Series:
    """Naive UTC timestamps (NaT where not a date-time)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = series
    else:
        text = _stripped(series)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
            retry = out.isna() & text.notna() & (text != "")
            if retry.any():
                out[retry] = pd.to_datetime(text[retry], errors="coerce", format="mixed", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert(None)
    return out


def _as_booleans(series: pd.Series) -> pd.Series:
    """``True``/``False`` (missing where not a boolean)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    if pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.astype("float64")
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[numbers == 1] = True
        out[numbers == 0] = False
        return out
    text = _stripped(series).str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    return out


def _as_labels(series: pd.Series) -> pd.Series:
    """Category labels as text (integral numbers without ``.0``)."""
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.astype("float64")
        integral = np.isfinite(values) & (np.floor(values) == values)
        text = values.map(repr).astype("object")
        text[integral] = values[integral].astype("int64").astype(str)
        return text.astype("str")
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype("object").astype("str")
    return series.astype("str")


def _iso(ts: pd.Timestamp) -> str:
    return ts.isoformat()


def _number(value: float, kind: str) -> float | int:
    return int(value) if kind == "integer" else float(value)


# ---------------------------------------------------------------------------------------------
# inference


def _infer_type(series: pd.Series, present: np.ndarray, max_categories: int) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if not _is_text_dtype(dtype):
        return "text"
    values = _stripped(series[present])
    n = len(values)
    if n == 0:
        return "text"
    uniques = pd.Series(pd.unique(values), dtype="str")  # the checks below look at each once
    numbers = pd.to_numeric(uniques, errors="coerce")
    leading_zero = uniques.str.match(r"^[-+]?0\d").any()
    if numbers.notna().all() and not leading_zero:
        looks_int = uniques.str.fullmatch(r"[-+]?\d+").all()
        return "integer" if looks_int else "number"
    lowered = set(uniques.str.lower().unique())
    if len(lowered) <= 2 and (
        lowered <= {"true", "false"} or lowered <= {"yes", "no"} or lowered <= {"t", "f"}
    ):
        return "boolean"
    dated = uniques.str.contains(r"^\d{4}[-/]\d\d?[-/]\d\d?|^\d{1,2}/\d{1,2}/\d{2,4}$", regex=True)
    if dated.all() and _as_datetimes(uniques).notna().all():
        return "datetime"
    distinct = len(uniques)
    if distinct <= max_categories and distinct <= max(2, n // 2):
        return "category"
    if distinct >= 0.95 * n and uniques.str.contains(r"\s", regex=True).mean() <= 0.05:
        return "id"
    if uniques.str.len().mean() > 30 or uniques.str.count(r"\s").mean() >= 2:
        return "text"
    return "category"


def _pii_maps(
    pii: PIIReport | Mapping[str, str] | Iterable[str] | None,
) -> tuple[dict[str, str], set[str]]:
    """(column -> PII kind, columns whose values must not be written)."""
    if pii is None:
        return {}, set()
    if isinstance(pii, PIIReport):
        kinds = dict(pii.pii_columns)
        for column in pii.flagged_columns - set(kinds):
            kinds.setdefault(column, "")
        return {c: k for c, k in kinds.items() if k}, set(pii.flagged_columns)
    if isinstance(pii, Mapping):
        return {str(c): str(k) for c, k in pii.items()}, {str(c) for c in pii}
    names = {str(c) for c in pii}
    return dict.fromkeys(names, "unknown"), names


def infer_schema(
    frame: pd.DataFrame,
    *,
    types: Mapping[str, str] | None = None,
    pii: PIIReport | Mapping[str, str] | Iterable[str] | None = None,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
) -> Schema:
    """The schema of ``frame`` (typed, or text cells): one contract entry per column.

    ``types`` overrides the inferred logical type of some columns (e.g. the clean stage's
    decisions); an unknown type, a column that is not in the frame, or values that do not fit
    the given type raise :class:`SchemaError`. ``pii`` (a report, column -> kind, or column
    names) marks PII columns: their values are never written to the schema. A category set
    holding anything that looks like PII is left open too.
    """
    if max_categories < 1:
        raise SchemaError(f"max_categories must be at least 1, not {max_categories}")
    hints = dict(types or {})
    names = [str(c) for c in frame.columns]
    known = set(names)
    for column, hint in hints.items():
        if column not in known:
            raise SchemaError(
                f"type hint for column {column!r}, which is not in the table; the columns are "
                f"{_list(names)}"
            )
        check_type_name(hint, where=f"type hint for column {column!r}")
    duplicates = sorted(n for n, k in Counter(names).items() if k > 1)  # linear in columns
    if duplicates:
        raise SchemaError(
            f"column name(s) {_list(duplicates)} appear more than once; rename them first"
        )
    pii_kinds, no_values = _pii_maps(pii)
    columns: list[ColumnSchema] = []
    # the columns once (``frame.iloc[:, j]`` looks each one up again: slow on a wide frame)
    for name, (_, series) in zip(names, frame.items(), strict=True):
        if series.dtype == np.float64 and (hints.get(name) or "number") in ("number", "integer"):
            # a float column (most of a wide table): numpy alone, the same figures as below
            floats = series.to_numpy()
            missing = np.isnan(floats)
            entry = ColumnSchema(name=name, type=hints.get(name) or "number")
            entry.nullable = bool(missing.any())
            entry.pii = pii_kinds.get(name) or None
            present_floats = floats[~missing] if entry.nullable else floats
            _fill_number_stats(entry, present_floats, keep_values=name not in no_values)
            columns.append(entry)
            continue
        null = _null_mask(series)
        present = ~null
        kind = hints.get(name) or _infer_type(series, present, max_categories)
        entry = ColumnSchema(name=name, type=kind, nullable=bool(null.any()))
        entry.pii = pii_kinds.get(name) or None
        values = series if entry.nullable is False else series[present]
        _fill_stats(entry, values, max_categories, keep_values=name not in no_values)
        columns.append(entry)
    return Schema(columns=columns, rows=len(frame), max_categories=max_categories)


def _fill_stats(
    entry: ColumnSchema, values: pd.Series, max_categories: int, *, keep_values: bool
) -> None:
    kind, where = entry.type, f"column {entry.name!r}"
    if kind in ("number", "integer"):
        numbers = _as_numbers(values).to_numpy(dtype=np.float64)
        _fill_number_stats(entry, numbers, keep_values=keep_values)
    elif kind == "datetime":
        stamps = _as_datetimes(values)
        bad = int(stamps.isna().sum())
        if bad:
            raise SchemaError(
                f"{where} cannot be datetime: {bad:,} of {len(values):,} values are not dates; "
                "give it another type"
            )
        if keep_values and len(stamps):
            entry.minimum, entry.maximum = _iso(stamps.min()), _iso(stamps.max())
    elif kind == "boolean":
        bad = int(_as_booleans(values).isna().sum())
        if bad:
            raise SchemaError(
                f"{where} cannot be boolean: {bad:,} of {len(values):,} values are not "
                "true/false, yes/no or 1/0; give it another type"
            )
    elif kind == "category":
        labels = _as_labels(values)
        uniques = sorted(pd.unique(labels).tolist())
        pii_inside = keep_values and any(find_pii_spans(str(u)) for u in uniques)
        if keep_values and len(uniques) <= max_categories and not pii_inside:
            entry.categories = [str(u) for u in uniques]


def _fill_number_stats(entry: ColumnSchema, numbers: np.ndarray, *, keep_values: bool) -> None:
    """Range of a number or integer column from its present values as floats (NaN: not a
    number); numpy, not pandas, arithmetic: the same figures at a fraction of the cost."""
    kind = entry.type
    bad = int(np.isnan(numbers).sum())
    if kind == "integer":
        bad += int((np.isfinite(numbers) & (np.floor(numbers) != numbers)).sum())
    if bad:
        raise SchemaError(
            f"column {entry.name!r} cannot be {kind}: {bad:,} of {len(numbers):,} values are "
            "not; give it another type"
        )
    finite = numbers[np.isfinite(numbers)]
    if keep_values and len(finite):
        entry.minimum = _number(finite.min(), kind)
        entry.maximum = _number(finite.max(), kind)


def _list(names: Iterable[str], limit: int = 8) -> str:
    items = list(names)
    shown = ", ".join(repr(n) for n in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# ---------------------------------------------------------------------------------------------
# validation


@dataclass
class Violations:
    """The result of :func:`validate`: one row per violation, never a raw PII value.

    ``frame`` has the columns ``row`` (0-based position in the data; missing for column-level
    checks), ``line`` (the source line when known), ``column``, ``check`` (one of
    ``missing_column``, ``unexpected_column``, ``null``, ``type``, ``range``, ``category``)
    and ``detail``.
    """

    frame: pd.DataFrame
    rows_checked: int = 0
    columns_checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.frame.empty

    def __len__(self) -> int:
        return len(self.frame)

    def counts(self) -> pd.DataFrame:
        """Violations per column and check, with the first offending row."""
        if self.frame.empty:
            return pd.DataFrame(
                {
                    "column": pd.Series(dtype="str"),
                    "check": pd.Series(dtype="str"),
                    "count": pd.Series(dtype="int64"),
                    "first_row": pd.Series(dtype="Int64"),
                }
            )
        grouped = self.frame.groupby(["column", "check"], sort=False)
        out = grouped.agg(count=("check", "size"), first_row=("row", "min")).reset_index()
        return out

    def summary(self, *, max_lines: int = 20) -> list[str]:
        """One line per (column, check): count and the first detail."""
        if self.frame.empty:
            return []
        lines = []
        first = self.frame.drop_duplicates(["column", "check"])
        counts = self.frame.groupby(["column", "check"], sort=False).size()
        for rec in first.itertuples(index=False):
            n = int(counts[(rec.column, rec.check)])
            where = "" if pd.isna(rec.row) else f" (first: row {int(rec.row)})"
            label = rec.check.replace("_", " ")
            lines.append(f"{rec.column}: {n:,} {label}{where}: {rec.detail}")
        if len(lines) > max_lines:
            lines = [*lines[:max_lines], f"... and {len(lines) - max_lines} more"]
        return lines

    def to_dict(self, *, max_rows: int | None = 1000) -> dict[str, Any]:
        rows = self.frame if max_rows is None else self.frame.head(max_rows)
        records = [
            {
                "row": None if pd.isna(r.row) else int(r.row),
                "line": None if pd.isna(r.line) else int(r.line),
                "column": r.column,
                "check": r.check,
                "detail": r.detail,
            }
            for r in rows.itertuples(index=False)
        ]
        counts = [
            {"column": r.column, "check": r.check, "count": int(r.count)}
            for r in self.counts().itertuples(index=False)
        ]
        return {
            "ok": self.ok,
            "rows_checked": self.rows_checked,
            "violations": len(self.frame),
            "counts": counts,
            "rows": records,
            "truncated": max_rows is not None and len(self.frame) > max_rows,
        }

    def message(self) -> str:
        if self.ok:
            return f"the data matches the schema ({self.rows_checked:,} rows checked)"
        columns = self.frame["column"].nunique()
        return (
            f"the data does not match the schema: {len(self.frame):,} violation(s) in "
            f"{columns} column(s): " + "; ".join(self.summary(max_lines=5))
        )

    def raise_if_any(self) -> None:
        """Raise a :class:`SchemaError` that summarises the violations (no PII values)."""
        if not self.ok:
            raise SchemaError(
                self.message() + "; fix the data, or infer a new schema if it changed on purpose"
            )


def _show(values: pd.Series, pii: str | None) -> pd.Series:
    """Display text for offending values: masked for PII columns, made safe otherwise."""
    if pii:
        return mask_series(values, pii).fillna("")
    text = values.astype("str")
    uniques = pd.unique(text)
    shown = {u: repr(safe_display(str(u), limit=40)) for u in uniques}
    return text.map(shown).astype("str")


def _frame_for(rows: np.ndarray, column: str, check: str, detail: pd.Series | str) -> pd.DataFrame:
    n = len(rows)
    details = (
        pd.Series([detail] * n, dtype="str")
        if isinstance(detail, str)
        else detail.reset_index(drop=True).astype("str")
    )
    return pd.DataFrame(
        {
            "row": pd.Series(rows, dtype="Int64"),
            "column": pd.Series([column] * n, dtype="str"),
            "check": pd.Series([check] * n, dtype="str"),
            "detail": details,
        }
    )


def _column_level(column: str, check: str, detail: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series([pd.NA], dtype="Int64"),
            "column": pd.Series([column], dtype="str"),
            "check": pd.Series([check], dtype="str"),
            "detail": pd.Series([detail], dtype="str"),
        }
    )


def _check_column(series: pd.Series, spec: ColumnSchema) -> list[pd.DataFrame]:
    parts: list[pd.DataFrame] = []
    positions = np.arange(len(series))
    null = _null_mask(series)
    if not spec.nullable and null.any():
        parts.append(
            _frame_for(
                positions[null], spec.name, "null", "missing value in a column that had none"
            )
        )
    present = ~null
    values = series[present]
    where = positions[present]
    kind = spec.type
    if kind in ("number", "integer"):
        numbers = _as_numbers(values)
        bad = numbers.isna().to_numpy(dtype=bool, copy=True)
        if kind == "integer":
            arr = numbers.to_numpy(dtype="float64")
            with np.errstate(invalid="ignore"):
                bad |= np.isfinite(arr) & (np.floor(arr) != arr)
        if bad.any():
            shown = _show(values[bad], spec.pii)
            parts.append(_frame_for(where[bad], spec.name, "type", shown + f" is not {_a(kind)}"))
        arr = numbers.to_numpy(dtype="float64")
        _range_parts(parts, spec, values, where, arr, ~bad)
    elif kind == "datetime":
        stamps = _as_datetimes(values)
        bad = stamps.isna().to_numpy(dtype=bool)
        if bad.any():
            shown = _show(values[bad], spec.pii)
            parts.append(_frame_for(where[bad], spec.name, "type", shown + " is not a date-time"))
        ok = ~bad
        low = _to_timestamp(spec.minimum) if spec.minimum is not None else None
        high = _to_timestamp(spec.maximum) if spec.maximum is not None else None
        for bound, label, op in ((low, "before", "lt"), (high, "after", "gt")):
            if bound is None:
                continue
            cmp = getattr(stamps, op)(bound).fillna(False).to_numpy(dtype=bool) & ok
            if cmp.any():
                shown = _show(values[cmp], spec.pii)
                parts.append(
                    _frame_for(
                        where[cmp],
                        spec.name,
                        "range",
                        shown + f" is {label} the {'earliest' if op == 'lt' else 'latest'}"
                        f" seen ({_iso(bound)})",
                    )
                )
    elif kind == "boolean":
        bad = _as_booleans(values).isna().to_numpy(dtype=bool)
        if bad.any():
            shown = _show(values[bad], spec.pii)
            parts.append(_frame_for(where[bad], spec.name, "type", shown + " is not true/false"))
    elif kind == "category" and spec.categories is not None:
        labels = _as_labels(values)
        bad = ~labels.isin(set(spec.categories)).to_numpy(dtype=bool)
        if bad.any():
            shown = _show(values[bad], spec.pii)
            n = len(spec.categories)
            parts.append(
                _frame_for(
                    where[bad],
                    spec.name,
                    "category",
                    shown + f" is not one of the {n} known categor{_ies(n)}",
                )
            )
    return parts


def _ies(n: int) -> str:
    return "y" if n == 1 else "ies"


def _a(kind: str) -> str:
    return "an integer" if kind == "integer" else "a number"


def _range_parts(
    parts: list[pd.DataFrame],
    spec: ColumnSchema,
    values: pd.Series,
    where: np.ndarray,
    arr: np.ndarray,
    ok: np.ndarray,
) -> None:
    for bound, op, label in ((spec.minimum, np.less, "below"), (spec.maximum, np.greater, "above")):
        if bound is None or isinstance(bound, str):
            continue
        with np.errstate(invalid="ignore"):
            out = op(arr, float(bound)) & ok
        if out.any():
            shown = _show(values[out], spec.pii)
            word = "minimum" if label == "below" else "maximum"
            parts.append(
                _frame_for(
                    where[out],
                    spec.name,
                    "range",
                    shown + f" is {label} the {word} seen ({_fmt_bound(bound)})",
                )
            )


def _fmt_bound(bound: float | int | str) -> str:
    if isinstance(bound, float) and math.isfinite(bound) and bound == int(bound):
        return str(int(bound))
    return str(bound)


def validate(
    data: pd.DataFrame | Any,
    schema: Schema | str | Path,
    *,
    line_numbers: np.ndarray | Iterable[int] | None = None,
) -> Violations:
    """Check ``data`` against ``schema`` and list every violation by row and column.

    ``data`` is a frame (typed, or text cells), a :class:`~apprentice.read.ReadResult` (its
    line numbers are then reported) or a path that :func:`apprentice.read` can read.
    ``schema`` is a :class:`Schema` or the path of a schema file. A schema file that cannot be
    used, or data that shares no column with the schema, raises :class:`SchemaError`; the
    data is never modified.
    """
    if isinstance(data, str | Path):
        from apprentice.read import read

        data = read(data)
    if hasattr(data, "table") and hasattr(data, "line_numbers"):
        if line_numbers is None and len(data.line_numbers) == len(data.table):
            line_numbers = data.line_numbers
        data = data.table
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(
            f"validate needs a table (a pandas DataFrame, a read result or a path), "
            f"not {type(data).__name__}"
        )
    if not isinstance(schema, Schema):
        schema = Schema.load(schema)
    names = [str(c) for c in data.columns]
    overlap = [n for n in schema.names if n in names]
    if not overlap:
        raise SchemaError(
            f"the data shares no column with the schema: the data has {_list(names)}, the "
            f"schema expects {_list(schema.names)}; check that this is the schema for this data"
        )
    lines = None if line_numbers is None else np.asarray(list(line_numbers), dtype="int64")
    if lines is not None and len(lines) != len(data):
        raise SchemaError(
            f"line_numbers has {len(lines):,} entries for {len(data):,} rows; pass one per row"
        )
    parts: list[pd.DataFrame] = []
    for name in schema.names:
        if name not in names:
            parts.append(
                _column_level(name, "missing_column", "the schema has this column, the data not")
            )
    for name in names:
        if name not in schema:
            parts.append(
                _column_level(name, "unexpected_column", "the data has this column, the schema not")
            )
    for name in overlap:
        series = data.iloc[:, names.index(name)]
        parts.extend(_check_column(series, schema[name]))
    frame = _assemble(parts, lines)
    return Violations(frame=frame, rows_checked=len(data), columns_checked=overlap)


def _assemble(parts: list[pd.DataFrame], lines: np.ndarray | None) -> pd.DataFrame:
    if not parts:
        frame = pd.DataFrame({c: pd.Series(dtype="str") for c in ("column", "check", "detail")})
        frame.insert(0, "row", pd.Series(dtype="Int64"))
    else:
        frame = pd.concat(parts, ignore_index=True)
        order = frame["row"].fillna(-1).to_numpy(dtype="int64")
        frame = frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    rows = frame["row"]
    line = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if lines is not None and len(frame):
        has = rows.notna().to_numpy(dtype=bool)
        line[has] = lines[rows[has].to_numpy(dtype="int64")]
    frame.insert(1, "line", line)
    frame["column"] = frame["column"].astype("str")
    frame["check"] = frame["check"].astype("str")
    frame["detail"] = frame["detail"].astype("str")
    return frame[list(VIOLATION_COLUMNS)]
