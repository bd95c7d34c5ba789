"""The clean stage: typed, trustworthy columns, with evidence for every decision.

``clean_table(apprentice.read(path))`` types every column (numbers with separators, currency,
percent and units; booleans; dates in mixed formats; identifiers; categories; text), decides
missing-value markers per column, flags numeric sentinels, finds duplicate rows and renamed
columns, and records all of it in a :class:`Ledger`. :class:`Cleaner` is the same recipe as a
scikit-learn transformer; :class:`FittedRecipe` applies a learned recipe without scikit-learn
(the serving path); :func:`explain_cell` answers ``apprentice why``.
"""

from typing import TYPE_CHECKING, Any

from apprentice.clean.api import (
    CleanResult,
    TargetResult,
    clean_table,
    clean_target,
)
from apprentice.clean.applier import FittedRecipe, TransformReport
from apprentice.clean.explain import CellExplanation, explain_cell
from apprentice.clean.ledger import ColumnReport, Ledger, TableReport
from apprentice.clean.recipe import ColumnRecipe, Recipe, Rule, apply_column

__all__ = [
    "CellExplanation",
    "CleanResult",
    "Cleaner",
    "ColumnRecipe",
    "ColumnReport",
    "FittedRecipe",
    "Ledger",
    "Recipe",
    "Rule",
    "TableReport",
    "TargetResult",
    "TransformReport",
    "apply_column",
    "clean_table",
    "clean_target",
    "explain_cell",
]

if TYPE_CHECKING:
    from apprentice.clean.cleaner import Cleaner

_LAZY = {"Cleaner"}  # scikit-learn is imported only when it is used


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from apprentice.clean import cleaner

        value = getattr(cleaner, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'apprentice.clean' has no attribute {name!r}")
