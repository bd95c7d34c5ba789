"""The cleaned table as it is written to CSV: integers as integers, clock times as times.

A cleaned integer column is held as ``float64`` (missing cells are ``NaN``), which
``DataFrame.to_csv`` writes as ``64.0``. Written out, it takes pandas' nullable ``Int64`` so
the file says ``64`` (and an empty field for a missing cell), as the source did.

A clock time is held as the time since midnight (``timedelta64``), which ``to_csv`` writes
as ``0 days 19:10:00``. Written out it is ``19:10`` (``19:10:05``, ``19:10:05.250000`` when
the column has seconds or fractions), an ISO 8601 time any tool reads back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from apprentice.clean.recipe import Recipe

_EXACT = 2.0**53  # beyond this a float64 no longer holds every integer


def csv_frame(table: pd.DataFrame, recipe: Recipe | None) -> pd.DataFrame:
    """``table`` with each float column the recipe calls integer as nullable ``Int64``
    (only when every value is a whole number a float holds exactly)."""
    kinds = {rec.name: rec.kind for rec in recipe.columns} if recipe is not None else {}
    out = table
    for i, name in enumerate(table.columns):
        col = table.iloc[:, i]
        if col.dtype.kind == "m":
            text = clock_text(col)
            if text is not None:
                if out is table:
                    out = table.copy(deep=False)
                out.isetitem(i, text)
            continue
        if kinds.get(str(name)) != "integer" or col.dtype.kind != "f":
            continue
        vals = col.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = vals[np.isfinite(vals)]
        if np.isinf(vals).any() or not bool(
            np.all((finite == np.floor(finite)) & (np.abs(finite) < _EXACT))
        ):
            continue
        if out is table:
            out = table.copy(deep=False)
        out.isetitem(i, col.astype("Int64"))
    return out


_DAY_NS = 86_400 * 10**9


def clock_text(col: pd.Series) -> pd.Series | None:
    """Times since midnight as ``HH:MM`` (or ``HH:MM:SS``, ``HH:MM:SS.ffffff`` when any value
    has seconds or fractions); ``None`` when a value is not a time of day (negative, or a
    day or more), which is then written as the duration it is."""
    ns = col.to_numpy(dtype="timedelta64[ns]").astype(np.int64)
    missing = col.isna().to_numpy()
    present = ns[~missing]
    if present.size and (present.min() < 0 or present.max() >= _DAY_NS):
        return None
    seconds, rest = np.divmod(ns, 10**9)
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    fractions = bool(np.any(rest[~missing]))
    with_seconds = fractions or bool(np.any(secs[~missing]))
    values: list[str | None] = []
    for j in range(len(ns)):
        if missing[j]:
            values.append(None)
            continue
        text = f"{hours[j]:02d}:{minutes[j]:02d}"
        if with_seconds:
            text += f":{secs[j]:02d}"
        if fractions:
            text += f".{rest[j] // 1000:06d}"
        values.append(text)
    return pd.Series(values, index=col.index, dtype="str")
