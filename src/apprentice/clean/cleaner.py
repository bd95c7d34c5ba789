"""``Cleaner``: the cleaning recipe as a scikit-learn transformer.

``fit`` learns the recipe (types, formats, markers, merges, category sets, sentinels) from a
table of text cells; ``transform`` applies exactly that recipe to new raw rows, the serving
path. New rows may hold unseen categories, new missing-value markers or garbage: they become
missing, never an exception, and :meth:`Cleaner.transform_with_report` says how many and
which. The recipe is plain JSON (:meth:`recipe_to_json` / :meth:`from_recipe`), never a pickle.

Output dtypes: float64 for numbers (integers too, so that missing values fit), ``boolean`` for
booleans, ``datetime64[us]`` for dates and datetimes (UTC-aware when the text had offsets),
``timedelta64[us]`` since midnight for clock times, ``category`` (with the categories learned
at fit) for categories, ``str`` for identifiers and free text.

A numeric array is accepted too: numeric columns are numbers (no text parsing needed); other
cells are read as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from apprentice.clean.api import check_settings, fit_frame
from apprentice.clean.ledger import MAX_EXAMPLES, Ledger
from apprentice.clean.recipe import Recipe, Rule, apply_column
from apprentice.errors import ColumnMismatchError, EmptyTableError, SchemaError


def _as_frame(X: Any) -> pd.DataFrame:
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


class Cleaner(TransformerMixin, BaseEstimator):
    """Learn a cleaning recipe on a text table; apply it to new raw rows.

    Parameters (keyword-only, stored as given): ``type_hints`` ``{column: type}`` (types:
    integer, float, number, boolean, date, datetime, time, category, identifier, text; dates
    also ``date:dayfirst``, ``date:monthfirst``, ``date:<strftime>``); ``percent_as``
    (``"fraction"``: 12% -> 0.12, ``"points"``: 12); ``sentinels`` (``"flag"``, ``"missing"``,
    ``"ignore"`` or ``{column: [confirmed values]}``); ``dayfirst`` (None decides per column
    from the values).

    Learned: ``recipe_`` (:class:`~apprentice.clean.recipe.Recipe`), ``ledger_``
    (:class:`~apprentice.clean.ledger.Ledger`; None for a cleaner made by :meth:`from_recipe`),
    ``n_features_in_``, ``feature_names_in_`` (when fitted on named columns).
    """

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

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.input_tags.sparse = False
        # the output is a DataFrame with one dtype per column (float64, boolean, datetime64,
        # category, str), so no single input dtype is "preserved"
        tags.transformer_tags.preserves_dtype = []
        return tags

    # -- fitting ---------------------------------------------------------------------------

    def _fit(self, X: Any) -> pd.DataFrame:
        frame = _as_frame(X)
        rows, cols = frame.shape
        if cols == 0:
            raise EmptyTableError(
                f"Cleaner.fit got 0 feature(s) (shape=({rows}, 0)) while a minimum of 1 is "
                "required: the table has no columns"
            )
        if rows == 0:
            raise EmptyTableError(
                f"Cleaner.fit got 0 sample(s) (shape=(0, {cols})) while a minimum of 1 is "
                "required: a cleaning recipe needs at least one row"
            )
        check_settings(self.percent_as, self.sentinels)
        self._validate(X, frame, reset=True)
        self.n_features_in_ = cols
        result = fit_frame(
            frame,
            list(frame.columns),
            type_hints=self.type_hints,
            percent_as=self.percent_as,
            sentinels=self.sentinels if isinstance(self.sentinels, str) else dict(self.sentinels),
            dayfirst=self.dayfirst,
        )
        self.recipe_ = result.recipe
        self.ledger_: Ledger | None = result.ledger
        return result.table

    def _validate(self, X: Any, frame: pd.DataFrame, *, reset: bool) -> None:
        """scikit-learn's feature-name bookkeeping; by hand when names repeat (which
        scikit-learn refuses, and the cleaner renames)."""
        names = [str(c) for c in frame.columns]
        if isinstance(X, pd.DataFrame) and len(set(names)) != len(names):
            if reset:
                self.feature_names_in_ = np.asarray(names, dtype=object)
                return
            fitted = getattr(self, "feature_names_in_", None)
            if fitted is None or list(fitted) != names:
                raise ColumnMismatchError(
                    "The feature names should match those that were passed during fit "
                    "(same names, same order)."
                )
            return
        try:
            validate_data(self, X=X, reset=reset, skip_check_array=True)
        except ValueError as exc:
            raise ColumnMismatchError(str(exc)) from None

    def fit(self, X: Any, y: Any = None) -> Cleaner:
        """Learn the recipe from ``X`` (a DataFrame of text cells, or a 2-D array)."""
        self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> pd.DataFrame:
        """Fit and return the cleaned training table (identical to ``fit(X).transform(X)``)."""
        table = self._fit(X)
        return self._wrap(table)

    # -- transforming ----------------------------------------------------------------------

    def _check_columns(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "recipe_")
        frame = _as_frame(X)
        self._validate(X, frame, reset=False)
        if frame.shape[1] != self.n_features_in_:
            raise ColumnMismatchError(
                f"X has {frame.shape[1]} features, but Cleaner is expecting "
                f"{self.n_features_in_} features as input."
            )
        return frame

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

    def transform(self, X: Any) -> pd.DataFrame:
        """Apply the learned recipe to new rows with the same columns as at fit."""
        frame = self._check_columns(X)
        table, _ = self._apply(frame, positional=True)
        return self._wrap(table)

    def transform_with_report(self, X: Any) -> tuple[pd.DataFrame, TransformReport]:
        """Like :meth:`transform`, matching columns by name (extra columns are ignored and
        reported; order may differ), and saying what in the new rows did not fit the recipe."""
        check_is_fitted(self, "recipe_")
        frame = _as_frame(X)
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

    def _wrap(self, table: pd.DataFrame) -> pd.DataFrame:
        return table

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the cleaned columns (BOM/whitespace stripped, duplicates made unique)."""
        check_is_fitted(self, "recipe_")
        if input_features is not None:
            from sklearn.utils.validation import _check_feature_names_in

            _check_feature_names_in(self, input_features)
        return np.asarray(self.recipe_.names, dtype=object)

    # -- the recipe as data ----------------------------------------------------------------

    def recipe_to_json(self) -> str:
        """The learned recipe as JSON (with the settings and the input feature names)."""
        check_is_fitted(self, "recipe_")
        data = self.recipe_.to_dict()
        data["settings"] = dict(data["settings"])
        names = getattr(self, "feature_names_in_", None)
        data["settings"]["feature_names_in"] = None if names is None else [str(n) for n in names]
        data["settings"]["n_features_in"] = int(self.n_features_in_)
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_recipe(cls, recipe: str | Mapping[str, Any] | Recipe) -> Cleaner:
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
