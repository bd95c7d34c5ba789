"""The stored model kinds of a bundle, one module each, and the registry :data:`KINDS`.

A leaf package (numpy and pandas at import; each native library is imported inside the
functions that need it): every kind knows its file suffix, how it is written, how its bytes
are checked before a native parser sees them (every index, count and size bounded: see
:mod:`~apprentice.modelfiles.trees` and :mod:`~apprentice.modelfiles.jsonfile` for the
shared checkers), how it is loaded, and how it predicts and explains one row. ``learn``
exports fitted models in these kinds' terms and ``bundle`` dispatches through :data:`KINDS`:
adding a model kind means adding a module here and a line to :data:`KINDS`, plus its
hostile-file variants in ``tests/bundle/test_hostile.py``.

=============  =============  =================================================
kind           file           module
=============  =============  =================================================
``constant``   ``.json``      :mod:`~apprentice.modelfiles.constant`
``linear``     ``.json``      :mod:`~apprentice.modelfiles.linear`
``lightgbm``   ``.txt``       :mod:`~apprentice.modelfiles.lightgbm_text`
``sklearn``    ``.skops``     :mod:`~apprentice.modelfiles.sklearn_skops`
``xgboost``    ``.xgb.json``  :mod:`~apprentice.modelfiles.xgboost_json`
``catboost``   ``.cb.json``   :mod:`~apprentice.modelfiles.catboost_json`
=============  =============  =================================================
"""

from __future__ import annotations

from apprentice.errors import BundleError
from apprentice.modelfiles.base import (
    SMALL_BATCH,
    MemberContrib,
    ModelKind,
    Owner,
    StoredModel,
    refuse,
    thread_controller,
)
from apprentice.modelfiles.catboost_json import CatBoostKind
from apprentice.modelfiles.constant import ConstantKind
from apprentice.modelfiles.lightgbm_text import LightGBMKind
from apprentice.modelfiles.linear import LinearKind
from apprentice.modelfiles.sklearn_skops import SklearnKind
from apprentice.modelfiles.xgboost_json import XGBoostKind

KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ConstantKind(),
        LinearKind(),
        LightGBMKind(),
        SklearnKind(),
        XGBoostKind(),
        CatBoostKind(),
    )
}

__all__ = [
    "KINDS",
    "SMALL_BATCH",
    "MemberContrib",
    "ModelKind",
    "Owner",
    "StoredModel",
    "kind_of",
    "refuse",
    "thread_controller",
]


def kind_of(name: object, file: object = None) -> ModelKind:
    """The kind named ``name``; a :class:`BundleError` for any other (never pickle)."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise BundleError(
            f"manifest.json lists {str(file)[:60]!r}, a model of kind {str(name)[:40]!r}; "
            f"apprentice loads only {', '.join(KINDS)} models and never pickle files"
        )
    return kind
