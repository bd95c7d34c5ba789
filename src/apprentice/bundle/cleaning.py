"""The cleaning step of a bundle: the clean stage's learned ``Cleaner``, or none.

Training fits the clean stage's ``Cleaner`` on the raw training rows only (the holdout never
shapes the recipe); the bundle stores its JSON recipe and serving rebuilds it with
``FittedRecipe.from_recipe`` (the same transform, without scikit-learn). When the clean stage
offers no ``Cleaner`` the bundle holds no recipe and the feature runtime parses raw text
itself (numbers from text, categories as written).
One record at a time, each column goes through the recipe's one cell cleaner
(:class:`apprentice.features.cells.CellCleaner`), the same one the API uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from apprentice.errors import BundleError
from apprentice.features.cells import CellCleaner, RowCleaner, cell_text


def cleaner_class() -> Any:
    """The clean stage's ``Cleaner`` class, or ``None`` when the clean stage has none."""
    import apprentice.clean as clean

    return getattr(clean, "Cleaner", None)


def recipe_json(cleaner: Any) -> str:
    """The recipe of a fitted cleaner as JSON text."""
    for attr in ("recipe_to_json", "to_json"):
        method = getattr(cleaner, attr, None)
        if callable(method):
            return str(method())
    recipe = getattr(cleaner, "recipe_", None)
    if recipe is not None and hasattr(recipe, "to_json"):
        return str(recipe.to_json())
    raise BundleError("the cleaner cannot write its recipe as JSON")


def load_cleaner(text: str) -> Any:
    """The recipe rebuilt from its JSON, ready to apply (without scikit-learn)."""
    from apprentice.clean import FittedRecipe

    try:
        return FittedRecipe.from_recipe(text)
    except BundleError:
        raise
    except Exception as exc:
        raise BundleError(
            f"the bundle's cleaning recipe cannot be loaded ({type(exc).__name__}); rebuild "
            "the bundle"
        ) from None


def as_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw cells as text (missing stays missing), the form the cleaner expects: each cell
    as :func:`~apprentice.features.cells.cell_text` gives it to the cell cleaner."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.StringDtype):
            out[str(name)] = col
        else:
            values = [cell_text(v) for v in col.tolist()]
            out[str(name)] = pd.Series(values, index=frame.index, dtype="str")
    return pd.DataFrame(out, index=frame.index)


def clean_frame(cleaner: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Raw rows (the cleaner's input columns, in order) to typed rows."""
    if cleaner is None:
        return frame
    return cleaner.transform(as_text_frame(frame))


def cell_cleaners(cleaner: Any) -> dict[str, CellCleaner]:
    """The cell cleaner of every column of a cleaner's recipe, by cleaned column name
    (empty when the cleaner has no recipe)."""
    recipe = getattr(cleaner, "recipe_", None)
    if recipe is None:
        return {}
    from apprentice.clean.recipe import cell_cleaner

    return {rec.name: cell_cleaner(rec) for rec in recipe.columns}


def row_cleaner(cleaner: Any) -> Any:
    """A callable cleaning one raw record to typed values (``None`` without a cleaner)."""
    if cleaner is None:
        return None
    cells = cell_cleaners(cleaner)
    if cells or hasattr(cleaner, "recipe_"):
        return RowCleaner(list(cells.values()))

    def slow(row: Mapping[str, Any]) -> dict[str, Any]:
        frame = pd.DataFrame({c: pd.Series([cell_text(v)], dtype="str") for c, v in row.items()})
        typed = cleaner.transform(frame)
        return {str(k): typed[k].iloc[0] for k in typed.columns}

    return slow
