"""How a feature reads one value, and a column of them: numbers, timestamps, keys, text.

Each reading exists once, as a function of a single value; the column form applies the same
function (or, for an already typed column, the conversion that gives the same result), so a
value reads the same whether it arrives alone or in a frame. Anything unusable is missing,
never an error.
"""

from __future__ import annotations

import math
import re
import warnings
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

TRUE_WORDS = frozenset({"true", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "f"})
NS_PER_DAY = 86_400e9
_NS_PER_HOUR = 3_600_000_000_000
_NS_PER_DAY_INT = 86_400_000_000_000
DATE_PARTS: tuple[str, ...] = ("year", "month", "day", "dayofweek", "hour", "elapsed_days")


# --------------------------------------------------------------------------- numbers


def number(value: Any) -> float:
    """A float from a typed or text value; NaN when missing or not a number.

    Text: surrounding whitespace dropped, ``true/yes/y/t`` 1 and ``false/no/n/f`` 0, then a
    plain ASCII float literal (no ``_`` digit groups); anything else is NaN.
    """
    if value is None:
        return math.nan
    if isinstance(value, bool | np.bool_):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            return float(value)
        except OverflowError:
            return math.nan
    if isinstance(value, str):
        text = value.strip()
        low = text.lower()
        if low in TRUE_WORDS:
            return 1.0
        if low in FALSE_WORDS:
            return 0.0
        if "_" in text or not text.isascii():
            return math.nan
        try:
            return float(text)
        except ValueError:
            return math.nan
    if isinstance(value, pd.Timedelta):
        return value.total_seconds() if value is not pd.NaT else math.nan
    return math.nan


def as_numeric(series: pd.Series) -> np.ndarray:
    """:func:`number` of every value of a column, as float64."""
    dtype = series.dtype
    if pd.api.types.is_timedelta64_dtype(dtype):
        out = series.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
        return np.asarray(out, dtype=float)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return np.asarray(series.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    return _each(series, number, float)


def _each(series: pd.Series, read: Any, dtype: Any) -> np.ndarray:
    """``read`` of every value, computed once per distinct hashable value."""
    seen: dict[Any, Any] = {}
    out = []
    for value in series.tolist():
        try:
            got = seen.get(value, seen)
        except TypeError:  # unhashable
            out.append(read(value))
            continue
        if got is seen:
            got = seen[value] = read(value)
        out.append(got)
    return np.asarray(out, dtype=dtype).reshape(len(out))


# --------------------------------------------------------------------------- timestamps


def timestamp(value: Any) -> pd.Timestamp | None:
    """A naive UTC timestamp, or ``None`` when missing or not a date."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    try:
        if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
            ts = pd.Timestamp(value)
        elif isinstance(value, str):
            ts = _from_text(value)
        else:
            return None
        if ts is pd.NaT or ts is None or pd.isna(ts):
            return None
        if ts.tzinfo is not None:
            ts = ts.tz_convert(UTC).tz_localize(None)
        return ts.as_unit("ns")
    except (ValueError, TypeError, OverflowError):  # out of range or not a date
        return None


#: naive ISO 8601 (no offset): ``datetime.fromisoformat`` reads it as pandas does, faster
_PLAIN_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?", re.ASCII)


def _from_text(text: str) -> pd.Timestamp | None:
    if _PLAIN_ISO.fullmatch(text):
        return pd.Timestamp(datetime.fromisoformat(text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(text, errors="coerce", utc=True)


def as_datetime(series: pd.Series) -> pd.Series:
    """:func:`timestamp` of every value of a column, as naive UTC ``datetime64[ns]``."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return stamps.astype("datetime64[ns]")
    ns = _each(series, _ns, np.int64)
    return pd.Series(ns.view("datetime64[ns]"), index=series.index)


_NAT = np.datetime64("NaT", "ns").view(np.int64)


def _ns(value: Any) -> int:
    ts = timestamp(value)
    if ts is None:
        return int(_NAT)
    try:
        return int(ts.value)
    except (OverflowError, ValueError):
        return int(_NAT)


def date_parts(stamps: pd.Series, parts: list[str], ref_ns: int) -> np.ndarray:
    """Calendar parts and elapsed days of a ``datetime64[ns]`` column, NaN where missing."""
    ns = stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)
    missing = ns == _NAT
    out = np.empty((len(ns), len(parts)))
    for j, col in enumerate(parts_of_ns(np.where(missing, 0, ns), parts, ref_ns)):
        out[:, j] = col
    out[missing] = np.nan
    return out


def timestamp_parts(ts: pd.Timestamp | None, parts: list[str], ref_ns: int) -> list[float]:
    """The parts of one timestamp (``None``: all NaN), as :func:`date_parts` gives them."""
    if ts is None:
        return [math.nan] * len(parts)
    return [float(x) for x in parts_of_ns(int(ts.value), parts, ref_ns)]


def parts_of_ns(ns: Any, parts: list[str], ref_ns: int) -> list[Any]:
    """The parts of nanoseconds since 1970 (an int, or an int64 array: the same arithmetic).

    The proleptic Gregorian calendar by integer arithmetic (H. Hinnant's ``civil_from_days``);
    ``//`` and ``%`` floor alike on Python ints and numpy arrays, so a value and a column get
    the same parts.
    """
    days = ns // _NS_PER_DAY_INT
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    month = mp + 3 - 12 * (mp >= 10)
    values = {
        "year": yoe + era * 400 + (month <= 2),
        "month": month,
        "day": doy - (153 * mp + 2) // 5 + 1,
        "dayofweek": (days + 3) % 7,  # Monday 0; 1970-01-01 was a Thursday
        "hour": (ns // _NS_PER_HOUR) % 24,
    }
    out = []
    for part in parts:
        if part == "elapsed_days":
            out.append((ns * 1.0 - ref_ns) / NS_PER_DAY)
        elif part in values:
            out.append(values[part])
        else:
            raise ValueError(f"unknown date part {part!r}; expected one of {DATE_PARTS}")
    return out


# --------------------------------------------------------------------------- keys and text


def category_key(value: Any) -> str | None:
    """The text key of a category value (``None`` when missing or blank)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value if value.strip() != "" else None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def as_keys(series: pd.Series) -> np.ndarray:
    """:func:`category_key` of every value of a column (object array, ``None`` missing)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = np.array([category_key(c) for c in series.cat.categories], dtype=object)
        codes = series.cat.codes.to_numpy()
        out = np.empty(len(series), dtype=object)
        valid = codes >= 0
        out[valid] = cats[codes[valid]]
        out[~valid] = None
        return out
    if isinstance(series.dtype, pd.StringDtype):
        out = series.to_numpy(dtype=object, na_value=None)
        blank = series.str.strip().eq("").to_numpy(dtype=bool, na_value=False)
        out[blank] = None
        return out
    return np.array([category_key(v) for v in series.tolist()], dtype=object)


def text_of(value: Any) -> str:
    """The text of a value for a text feature (``""`` when missing)."""
    return "" if category_key(value) is None else str(value)


def as_text(series: pd.Series) -> list[str]:
    """:func:`text_of` of every value of a column."""
    return [text_of(v) for v in series.tolist()]
