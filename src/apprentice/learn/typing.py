"""A minimal typing of raw text cells, used only when the clean stage offers no ``Cleaner``.

Numbers are parsed where nearly every present cell is a number (the bundle runtime parses
raw text the same way), everything else stays text exactly as written, so training and
prediction see identical values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from apprentice.learn.features import as_numeric

NUMERIC_SHARE = 0.95


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns whose present cells are (almost all) numbers."""
    out = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_numeric_dtype(series.dtype):
            out.append(str(name))
            continue
        text = series.astype(object).where(series.notna(), None)
        present = text.map(lambda v: v is not None and str(v).strip() != "").to_numpy(bool)
        if present.sum() == 0:
            continue
        values = as_numeric(series[present])
        if np.isfinite(values).mean() >= NUMERIC_SHARE:
            out.append(str(name))
    return out


def basic_types(frame: pd.DataFrame, numeric: list[str] | None = None) -> pd.DataFrame:
    """Numbers for ``numeric`` columns (detected when ``None``), text as written otherwise."""
    numeric = numeric_columns(frame) if numeric is None else numeric
    out = {}
    for name in frame.columns:
        series = frame[name]
        if str(name) in numeric:
            out[name] = pd.Series(as_numeric(series), index=frame.index, dtype="float64")
        else:
            out[name] = series
    return pd.DataFrame(out, index=frame.index)
