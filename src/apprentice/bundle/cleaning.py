"""The cleaning step of a bundle: the clean stage's learned ``Cleaner``, or none.

Training fits the clean stage's ``Cleaner`` on the raw training rows only (the holdout never
shapes the recipe); the bundle stores its JSON recipe and serving rebuilds it with
``Cleaner.from_recipe``. When the clean stage offers no ``Cleaner`` the bundle holds no recipe
and the feature runtime parses raw text itself (numbers from text, categories as written).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from apprentice.errors import BundleError


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
    """A cleaner rebuilt from its JSON recipe."""
    cls = cleaner_class()
    if cls is None:
        raise BundleError(
            "this bundle holds a cleaning recipe but this apprentice has no Cleaner to apply "
            "it; install the apprentice version that wrote the bundle"
        )
    try:
        return cls.from_recipe(text)
    except BundleError:
        raise
    except Exception as exc:
        raise BundleError(
            f"the bundle's cleaning recipe cannot be loaded ({type(exc).__name__}); rebuild "
            "the bundle"
        ) from None


def as_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw cells as text (``None`` stays missing), the form the cleaner expects."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.StringDtype):
            out[str(name)] = col
        else:
            values = [None if _missing(v) else str(v) for v in col.tolist()]
            out[str(name)] = pd.Series(values, index=frame.index, dtype="str")
    return pd.DataFrame(out, index=frame.index)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def clean_frame(cleaner: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Raw rows (the cleaner's input columns, in order) to typed rows."""
    if cleaner is None:
        return frame
    return cleaner.transform(as_text_frame(frame))


#: A plain decimal literal: what the clean stage's plain-number path parses as a float.
_PLAIN_NUMBER = re.compile(
    r"-?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})(?:[eE][+-]?[0-9]{1,3})?"
)


class RowCleaner:
    """The cleaner's recipe for one record at a time, memoised per distinct raw cell.

    Each cell goes through the clean stage's own :func:`~apprentice.clean.apply_column` (the
    function ``Cleaner.transform`` runs), so values are identical; results are cached per
    column, which makes repeated values (categories, small integers) cost a dict lookup.
    Two shortcuts, checked against ``apply_column`` in the tests: plain decimal numbers in
    numeric columns written the plain way (``.`` decimal mark, no number words), and a learned
    category written exactly.
    """

    CACHE_LIMIT = 50_000

    def __init__(self, cleaner: Any) -> None:
        from apprentice.clean.markers import MISSING_TOKENS

        self.cleaner = cleaner
        self.recipes = list(cleaner.recipe_.columns)
        self.caches: list[dict[str | None, Any]] = [{} for _ in self.recipes]
        self.shortcut: list[bool] = []
        self.stops: list[frozenset[str]] = []
        self.sentinels: list[list[tuple[float, bool]]] = []
        self.known: list[frozenset[str]] = []
        for rec in self.recipes:
            fmt = getattr(rec, "number", None)
            numeric = rec.kind in ("integer", "float") and (
                fmt is None or bool(getattr(fmt, "plain", False))
            )
            self.shortcut.append(bool(numeric))
            self.stops.append(
                frozenset(m.strip().lower() for m in rec.markers) | frozenset(MISSING_TOKENS)
            )
            self.sentinels.append(
                [(float(x["value"]), x.get("action") == "missing") for x in rec.sentinels]
            )
            markers = {m.strip().lower() for m in rec.markers}
            self.known.append(
                frozenset(
                    c
                    for c in (rec.categories or [])
                    if rec.kind == "category" and c.strip() == c and c and c.lower() not in markers
                )
            )

    def _slow(self, j: int, text: str | None) -> Any:
        from apprentice.clean.recipe import apply_column

        applied = apply_column(self.recipes[j], pd.Series([text], dtype="str"))
        return applied.values.iloc[0]

    def _value(self, j: int, text: str | None) -> Any:
        if text is not None and self.known[j]:
            core = text.strip()
            if core in self.known[j]:  # a learned category written exactly
                return core
        if text is not None and self.shortcut[j]:
            core = text.strip()
            if _PLAIN_NUMBER.fullmatch(core) and core.lower() not in self.stops[j]:
                value = float(core)
                for sentinel, to_missing in self.sentinels[j]:
                    if value == sentinel and to_missing:
                        return float("nan")
                return value
        return self._slow(j, text)

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = row.get
        for j, rec in enumerate(self.recipes):
            raw = get(rec.source)
            if raw is None and rec.name != rec.source:
                raw = get(rec.name)
            text = None if _missing(raw) else str(raw)
            cache = self.caches[j]
            try:
                value = cache[text]
            except KeyError:
                value = self._value(j, text)
                if len(cache) < self.CACHE_LIMIT:
                    cache[text] = value
            out[rec.name] = value
        return out


def row_cleaner(cleaner: Any) -> Any:
    """A callable cleaning one raw record to typed values (``None`` without a cleaner)."""
    if cleaner is None:
        return None
    fast = getattr(cleaner, "transform_row", None)
    if callable(fast):
        return fast
    if hasattr(cleaner, "recipe_"):
        return RowCleaner(cleaner)

    def slow(row: Mapping[str, Any]) -> dict[str, Any]:
        frame = pd.DataFrame({c: pd.Series([_text(v)], dtype="str") for c, v in row.items()})
        typed = cleaner.transform(frame)
        return {str(k): typed[k].iloc[0] for k in typed.columns}

    return slow


def _text(value: Any) -> str | None:
    return None if _missing(value) else str(value)
