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

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from apprentice.clean.api import check_settings, fit_frame
from apprentice.clean.applier import RecipeMethods, as_frame
from apprentice.clean.ledger import Ledger
from apprentice.errors import ColumnMismatchError, EmptyTableError


class Cleaner(RecipeMethods, TransformerMixin, BaseEstimator):
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

    # __init__ (the four keyword-only parameters, stored as given) is RecipeMethods'

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
        frame = as_frame(X)
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

    def _check_fitted(self) -> None:
        check_is_fitted(self, "recipe_")

    def _check_columns(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "recipe_")
        frame = as_frame(X)
        self._validate(X, frame, reset=False)
        if frame.shape[1] != self.n_features_in_:
            raise ColumnMismatchError(
                f"X has {frame.shape[1]} features, but Cleaner is expecting "
                f"{self.n_features_in_} features as input."
            )
        return frame

    def transform(self, X: Any) -> pd.DataFrame:
        """Apply the learned recipe to new rows with the same columns as at fit."""
        frame = self._check_columns(X)
        table, _ = self._apply(frame, positional=True)
        return self._wrap(table)

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
