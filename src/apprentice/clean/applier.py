"""A learned cleaning recipe applied to new raw rows, without scikit-learn.

:class:`~apprentice.clean.cleaner.Cleaner` is the recipe as a scikit-learn transformer (fit
learns it). Serving only applies a recipe that was learned already: :class:`FittedRecipe`
holds one loaded from its JSON and applies it with the very same methods
(:class:`RecipeMethods`, shared by both classes: one copy of the transform), so that loading a
bundle to predict does not import scikit-learn and SciPy (about a second of CPU per process,
and most of a serving image).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from apprentice.clean.ledger import MAX_EXAMPLES, Ledger
from apprentice.clean.recipe import Recipe, Rule, apply_column
from apprentice.errors import ColumnMismatchError, SchemaError


def as_frame(X: Any) -> pd.DataFrame:
    """A DataFrame view of ``X`` without parsing anything."""
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "Cleaner does not accept sparse input; pass a dense table (a DataFrame of text "
            "cells or a 2-D array)"
        )
    if hasattr(X, "to_pandas") and not isinstance(X, np.ndarray):
        X = X.to_pandas()
        if isinstance(X, pd.DataFrame):
            return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected a 2-D table, got {arr.ndim}-D data instead. Reshape your data with "
            "array.reshape(-1, 1) for a single column, or pass a DataFrame"
        )
    if arr.dtype.kind == "c":
        raise ValueError("Complex data not supported: cells must be text, numbers or booleans")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


@dataclass
class TransformReport:
    """What :meth:`Cleaner.transform_with_report` found in new rows (counts, bounded examples)."""

    n_rows: int = 0
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.columns

    def to_dict(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "columns": self.columns, "extra_columns": self.extra_columns}

    def summary_lines(self) -> list[str]:
        out = []
        for col, info in self.columns.items():
            parts = [f"{k} {v:,}" for k, v in info.items() if isinstance(v, int) and v]
            out.append(f"{col}: " + ", ".join(parts))
        if self.extra_columns:
            out.append("ignored extra columns: " + ", ".join(self.extra_columns))
        return out


class RecipeMethods:
    """Applying a learned recipe: what :class:`~apprentice.clean.cleaner.Cleaner` and
    :class:`FittedRecipe` share."""

    recipe_: Recipe
    ledger_: Ledger | None
    n_features_in_: int
    feature_names_in_: np.ndarray

    def __init__(
        self,
        *,
        type_hints: Mapping[str, str] | None = None,
        percent_as: str = "fraction",
        sentinels: Any = "flag",
        dayfirst: bool | None = None,
    ) -> None:
        self.type_hints = type_hints
        self.percent_as = percent_as
        self.sentinels = sentinels
        self.dayfirst = dayfirst

    def _check_fitted(self) -> None:
        """Raise when there is no recipe yet (a loaded recipe always has one)."""

    def _apply(self, frame: pd.DataFrame, positional: bool) -> tuple[pd.DataFrame, TransformReport]:
        report = TransformReport(n_rows=len(frame))
        out: dict[str, pd.Series] = {}
        cols = [str(c) for c in frame.columns]
        for j, rec in enumerate(self.recipe_.columns):
            if positional:
                col = frame.iloc[:, j]
            else:
                key = rec.source if rec.source in cols else rec.name
                col = frame.iloc[:, cols.index(key)]
            applied = apply_column(rec, col)
            out[rec.name] = applied.values
            counts = np.bincount(applied.codes, minlength=len(Rule))
            issues = {
                "unseen_categories": int(counts[Rule.UNSEEN]),
                "new_markers": int(counts[Rule.NEW_MARKER]),
                "unparseable": int(counts[Rule.UNPARSEABLE]),
                "sentinels": int(counts[Rule.SENTINEL] + counts[Rule.FLAGGED]),
            }
            if any(issues.values()):
                bad = np.isin(applied.codes, [Rule.UNSEEN, Rule.NEW_MARKER, Rule.UNPARSEABLE])
                examples = (
                    col.iloc[np.flatnonzero(bad)].astype("str").value_counts().head(MAX_EXAMPLES)
                )
                info: dict[str, Any] = dict(issues)
                info["examples"] = [{"raw": str(k), "count": int(v)} for k, v in examples.items()]
                report.columns[rec.name] = info
        table = pd.DataFrame(out, index=frame.index, copy=False)
        return table, report

    def transform_with_report(self, X: Any) -> tuple[pd.DataFrame, TransformReport]:
        """Like :meth:`transform`, matching columns by name (extra columns are ignored and
        reported; order may differ), and saying what in the new rows did not fit the recipe."""
        self._check_fitted()
        frame = as_frame(X)
        cols = [str(c) for c in frame.columns]
        missing = [
            rec.source
            for rec in self.recipe_.columns
            if rec.source not in cols and rec.name not in cols
        ]
        if missing:
            raise ColumnMismatchError(
                "the new rows lack columns the cleaner was fitted on: "
                + ", ".join(repr(m) for m in missing[:20])
            )
        used = {rec.source for rec in self.recipe_.columns} | {
            rec.name for rec in self.recipe_.columns
        }
        table, report = self._apply(frame, positional=False)
        report.extra_columns = [c for c in cols if c not in used]
        return table, report

    # -- the recipe as data ----------------------------------------------------------------

    def recipe_to_json(self) -> str:
        """The learned recipe as JSON (with the settings and the input feature names)."""
        self._check_fitted()
        data = self.recipe_.to_dict()
        data["settings"] = dict(data["settings"])
        names = getattr(self, "feature_names_in_", None)
        data["settings"]["feature_names_in"] = None if names is None else [str(n) for n in names]
        data["settings"]["n_features_in"] = int(self.n_features_in_)
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_recipe(cls, recipe: str | Mapping[str, Any] | Recipe) -> Self:
        """A fitted cleaner from a recipe (JSON text, its dict, or a :class:`Recipe`)."""
        if isinstance(recipe, Recipe):
            rec = recipe
        elif isinstance(recipe, str):
            rec = Recipe.from_json(recipe)
        elif isinstance(recipe, Mapping):
            rec = Recipe.from_dict(dict(recipe))
        else:
            raise SchemaError("from_recipe takes the recipe JSON, its dict or a Recipe")
        settings = dict(rec.settings)
        names = settings.pop("feature_names_in", None)
        n_in = settings.pop("n_features_in", None)
        sentinels = settings.get("sentinels", "flag")
        self = cls(
            type_hints=settings.get("type_hints") or None,
            percent_as=settings.get("percent_as", "fraction"),
            sentinels=sentinels,
            dayfirst=settings.get("dayfirst"),
        )
        self.recipe_ = Recipe(columns=rec.columns, settings=settings)
        self.ledger_ = None
        self.n_features_in_ = int(n_in) if n_in is not None else len(rec.columns)
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif n_in is None:
            self.feature_names_in_ = np.asarray([c.source for c in rec.columns], dtype=object)
        return self


class FittedRecipe(RecipeMethods):
    """A recipe loaded from JSON (:meth:`from_recipe`), applied by :meth:`transform` exactly
    as the :class:`~apprentice.clean.cleaner.Cleaner` that learned it applies it."""

    def transform(self, X: Any) -> pd.DataFrame:
        """Apply the recipe to new rows with the same columns, in the same order, as at fit."""
        frame = as_frame(X)
        names = getattr(self, "feature_names_in_", None)
        if (
            isinstance(X, pd.DataFrame)
            and names is not None
            and [str(c) for c in frame.columns] != [str(n) for n in names]
        ):
            raise ColumnMismatchError(
                "The feature names should match those that were passed during fit "
                "(same names, same order)."
            )
        if frame.shape[1] != self.n_features_in_:
            raise ColumnMismatchError(
                f"X has {frame.shape[1]} features, but the cleaning recipe is expecting "
                f"{self.n_features_in_} features as input."
            )
        table, _ = self._apply(frame, positional=True)
        return table

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the cleaned columns."""
        return np.asarray(self.recipe_.names, dtype=object)
