"""The cleaned table as it is written to CSV: integer columns as integers.

A cleaned integer column is held as ``float64`` (missing cells are ``NaN``), which
``DataFrame.to_csv`` writes as ``64.0``. Written out, it takes pandas' nullable ``Int64`` so
the file says ``64`` (and an empty field for a missing cell), as the source did.
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
