"""Column semantics in one place: how each feature kind reads and transforms a column and a
single value (numpy and pandas only).

The learn stage fits a spec of plans (:class:`apprentice.learn.features.FeaturePipeline`);
training and serving both turn plans into features through :mod:`.columns`, and values are
read through :mod:`.values`. The cell cleaner of a cleaning recipe lives in :mod:`.cells`.
"""

from apprentice.features.columns import (
    CLIP,
    KINDS,
    SPEC_VERSION,
    TOKEN_PATTERN,
    VIEWS,
    CategoricalColumn,
    Column,
    DatetimeColumn,
    FeatureRuntime,
    NumericColumn,
    TextColumn,
    column,
)
from apprentice.features.values import (
    DATE_PARTS,
    as_datetime,
    as_keys,
    as_numeric,
    as_text,
    category_key,
    date_parts,
    number,
    text_of,
    timestamp,
)

__all__ = [
    "CLIP",
    "DATE_PARTS",
    "KINDS",
    "SPEC_VERSION",
    "TOKEN_PATTERN",
    "VIEWS",
    "CategoricalColumn",
    "Column",
    "DatetimeColumn",
    "FeatureRuntime",
    "NumericColumn",
    "TextColumn",
    "as_datetime",
    "as_keys",
    "as_numeric",
    "as_text",
    "category_key",
    "column",
    "date_parts",
    "number",
    "text_of",
    "timestamp",
]
