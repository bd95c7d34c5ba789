"""The serving fast path: one raw record to a prediction without a pandas DataFrame.

A :class:`CompiledModel` is built once from a loaded :class:`~apprentice.bundle.Bundle`:

* the cleaning recipe of each column the models use is compiled to a small per-cell
  function: JSON numbers and plain decimal text in a plain numeric column are parsed
  directly (the same value the recipe's column-wise parser gives, checked in the tests),
  missing-value markers and sentinels are applied as the recipe says, and every other cell
  goes through the clean stage's own :func:`~apprentice.clean.recipe.apply_column`, memoised
  per distinct raw cell, so values are identical to training;
* columns the models do not use (identifiers, PII, excluded columns) are not cleaned at all;
* the feature spec is replayed with the bundle runtime's per-row code;
* LightGBM boosters are called through LightGBM's single-row C API
  (``LGBM_BoosterPredictForMatSingleRowFast``) on a preallocated row buffer, checked at build
  time against ``Booster.predict`` (a booster that disagrees keeps the ordinary path).

Several records (and the batch endpoint) take the bundle's column-wise frame path.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from apprentice.bundle import Bundle
from apprentice.bundle.cleaning import clean_frame
from apprentice.bundle.runtime import ModelRuntime

#: plain decimal text that the recipe's float cast parses exactly like ``float()``
_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?", re.ASCII)
_CACHE_LIMIT = 50_000
_NOT_FOUND = object()

CellCleaner = Callable[[Any], Any]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


class _Memo:
    """The recipe of one column applied to one cell, memoised per distinct raw text."""

    def __init__(self, rec: Any) -> None:
        self.rec = rec
        self.cache: dict[str | None, Any] = {}

    def slow(self, text: str | None) -> Any:
        from apprentice.clean.recipe import apply_column

        applied = apply_column(self.rec, pd.Series([text], dtype="str"))
        return applied.values.iloc[0]

    def __call__(self, raw: Any) -> Any:
        text = None if _missing(raw) else str(raw)
        cache = self.cache
        value = cache.get(text, _NOT_FOUND)
        if value is _NOT_FOUND:
            value = self.slow(text)
            if len(cache) < _CACHE_LIMIT:
                cache[text] = value
        return value


class _PlainNumber:
    """A numeric column written plainly (``.`` decimal mark, no number words).

    Numbers and plain decimal text take the direct route; anything else (thousands
    separators, currency, units, percent, markers) goes to the memoised recipe.
    """

    def __init__(self, rec: Any, memo: _Memo) -> None:
        from apprentice.clean.markers import MISSING_TOKENS

        self.memo = memo
        self.stops = frozenset(m.strip().lower() for m in rec.markers) | (
            frozenset(MISSING_TOKENS) - frozenset(rec.kept_markers)
        )
        self.missing_sentinels = frozenset(
            float(s["value"]) for s in rec.sentinels if s.get("action") == "missing"
        )
        self.cells: dict[str, Any] = {}  # text cell -> value (bounded)

    def __call__(self, raw: Any) -> Any:
        kind = type(raw)
        if kind is str:
            cached = self.cells.get(raw, _NOT_FOUND)
            if cached is not _NOT_FOUND:
                return cached
            value = self._text(raw)
            if len(self.cells) < _CACHE_LIMIT:
                self.cells[raw] = value
            return value
        if kind is float or kind is int:
            try:
                value = float(raw)
            except OverflowError:
                return self.memo(raw)
            if value != value or value in (math.inf, -math.inf):
                return self.memo(raw)
        else:
            return self.memo(raw)
        if value in self.missing_sentinels:
            return math.nan
        return value

    def _text(self, raw: str) -> Any:
        core = raw.strip()
        if len(core) > 40 or not _PLAIN_NUMBER.fullmatch(core) or core.lower() in self.stops:
            return self.memo(raw)
        value = float(core)
        if value in (math.inf, -math.inf):
            return self.memo(raw)
        if value in self.missing_sentinels:
            return math.nan
        return value


_MULTISPACE = re.compile(r" {2,}")
_TRAILING = re.compile(r"[. ]+$")


class _Category:
    """A category, identifier or text column: printable ASCII cells take the direct route.

    The recipe's rules for such a cell: surrounding whitespace stripped; empty, a column
    marker, or a missing-value token that is not a learned category is missing; a category
    is matched on its merge key (spaces collapsed, lower case, final dots dropped) and
    replaced by its canonical spelling, an unseen one is missing; identifiers and text keep
    the stripped cell.
    """

    def __init__(self, rec: Any, memo: _Memo) -> None:
        from apprentice.clean.markers import MISSING_TOKENS

        self.memo = memo
        self.is_category = rec.kind == "category"
        self.categories = list(rec.categories or [])
        self.category_set = frozenset(self.categories)
        self.has_categories = rec.categories is not None
        self.seen = frozenset(m.lower() for m in rec.markers) - {""}
        self.vocab = frozenset(MISSING_TOKENS) - frozenset(rec.kept_markers)
        self.cells: dict[str, Any] = {}  # text cell -> value (bounded)
        self.keys: dict[str, str] = {}
        for cat in self.categories:
            if not (cat.isascii() and cat.isprintable()):
                self.ascii = False
                break
            self.keys.setdefault(self._key(cat), cat)
        else:
            self.ascii = True

    @staticmethod
    def _key(text: str) -> str:
        return _TRAILING.sub("", _MULTISPACE.sub(" ", text).lower())

    def __call__(self, raw: Any) -> Any:
        if type(raw) is not str or not self.ascii:
            return self.memo(raw)
        cached = self.cells.get(raw, _NOT_FOUND)
        if cached is not _NOT_FOUND:
            return cached
        value = self._text(raw) if raw.isascii() and raw.isprintable() else self.memo(raw)
        if len(self.cells) < _CACHE_LIMIT:
            self.cells[raw] = value
        return value

    def _text(self, raw: str) -> Any:
        text = raw.strip(" ")
        lower = text.lower()
        if (
            not text
            or lower in self.seen
            or (lower in self.vocab and not (self.has_categories and text in self.category_set))
        ):
            return math.nan
        if not self.is_category:
            return text
        return self.keys.get(self._key(text), math.nan)


def _cell_cleaner(rec: Any) -> CellCleaner:
    memo = _Memo(rec)
    fmt = getattr(rec, "number", None)
    if rec.kind in ("integer", "float") and (fmt is None or fmt.plain):
        return _PlainNumber(rec, memo)
    if rec.kind in ("category", "identifier", "text"):
        return _Category(rec, memo)
    return memo


class _FastBooster:
    """A LightGBM booster behind the single-row C API, on a preallocated buffer.

    One instance serves one thread at a time (a lock guards the buffers).
    """

    def __init__(self, booster: Any, n_features: int) -> None:
        from lightgbm.basic import _LIB, _c_str, _safe_call

        self.booster = booster  # keeps the handle alive
        self.n_out = int(booster.num_model_per_iteration())
        num_iteration = booster.best_iteration if booster.best_iteration > 0 else -1
        self.row = np.zeros(n_features, dtype=np.float64)
        self.out = np.zeros(self.n_out, dtype=np.float64)
        self.out_len = ctypes.c_int64(0)
        self.config = ctypes.c_void_p()
        self._safe_call = _safe_call
        self._free = _LIB.LGBM_FastConfigFree
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,
                ctypes.c_int(0),  # C_API_PREDICT_NORMAL
                ctypes.c_int(0),
                ctypes.c_int(num_iteration),
                ctypes.c_int(1),  # C_API_DTYPE_FLOAT64
                ctypes.c_int32(n_features),
                _c_str("num_threads=1"),
                ctypes.byref(self.config),
            )
        )
        self._call = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._args = (
            self.config,
            self.row.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(self.out_len),
            self.out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        )
        self.lock = threading.Lock()

    def __call__(self, values: Sequence[float]) -> np.ndarray:
        with self.lock:
            self.row[:] = values
            self._safe_call(self._call(*self._args))
            return self.out.copy()

    def __del__(self) -> None:
        config = getattr(self, "config", None)
        if config is not None and config.value:
            with contextlib.suppress(Exception):
                self._free(config)
            config.value = None


class _FastLinear:
    """A linear model on one row in plain Python (no numpy call per term)."""

    def __init__(self, model: ModelRuntime) -> None:
        coef = np.atleast_2d(model.coef)
        self.coef = [row.tolist() for row in coef]
        self.intercept = np.ravel(model.intercept).tolist()
        if len(self.intercept) == 1 and len(self.coef) > 1:
            self.intercept = self.intercept * len(self.coef)
        self.link = model.link
        self.task = model.task
        self.n_classes = model.n_classes
        seen = model.seen
        self.seen = (
            seen.tolist()
            if seen is not None and len(seen) and len(seen) != model.n_classes
            else None
        )

    def __call__(self, values: Sequence[float]) -> np.ndarray:
        z = [
            b + math.fsum(c * x for c, x in zip(row, values, strict=True))
            for row, b in zip(self.coef, self.intercept, strict=True)
        ]
        if self.link == "identity":
            return np.array(z[:1])
        if self.link == "logistic":
            if z[0] >= 0:
                p = 1.0 / (1.0 + math.exp(-z[0]))
            else:
                e0 = math.exp(z[0])
                p = e0 / (1.0 + e0)
            proba = [1.0 - p, p]
        else:
            top = max(z)
            e = [math.exp(v - top) for v in z]
            total = sum(e)
            proba = [v / total for v in e]
        if self.seen is not None:
            full = [0.0] * self.n_classes
            for j, p_j in zip(self.seen, proba, strict=True):
                full[j] = p_j
            proba = full
        return np.array([proba])


class _Member:
    """One weighted ensemble member on the single-row path."""

    def __init__(self, model: ModelRuntime, weight: float, view: str, n_features: int) -> None:
        self.model = model
        self.weight = weight
        self.view = view
        self.fast: _FastBooster | None = None
        self.linear: _FastLinear | None = None
        if model.kind == "lightgbm" and n_features > 0:
            try:
                self.fast = _FastBooster(model.booster, n_features)
            except Exception:  # an unusual booster: keep the ordinary path
                self.fast = None
            if self.fast is not None and not self._agrees(n_features):
                self.fast = None
        elif model.kind == "linear" and n_features > 0:
            try:
                self.linear = _FastLinear(model)
            except Exception:
                self.linear = None
            if self.linear is not None and not self._agrees(n_features):
                self.linear = None

    def _agrees(self, n_features: int) -> bool:
        rng = np.random.default_rng(0)
        probes = [np.zeros(n_features), np.full(n_features, np.nan), rng.normal(size=n_features)]
        probes += [rng.normal(scale=10.0, size=n_features) for _ in range(3)]
        for probe in probes:
            expected = self.model.predict(probe.reshape(1, -1))
            got = self._fast_output(probe.tolist())
            if not np.allclose(
                np.asarray(expected).ravel(), got.ravel(), rtol=1e-12, atol=1e-12, equal_nan=True
            ):
                return False
        return True

    def _fast_output(self, values: Sequence[float]) -> np.ndarray:
        if self.linear is not None:
            return self.linear(values)
        assert self.fast is not None
        raw = self.fast(values)
        task = self.model.task
        if task == "binary":
            return np.array([[1.0 - raw[0], raw[0]]])
        if task == "regression":
            return raw[:1]
        return raw.reshape(1, -1)

    def output(self, values: list[float]) -> np.ndarray:
        if self.fast is not None or self.linear is not None:
            return self._fast_output(values)
        return self.model.predict(np.asarray(values, dtype=np.float64).reshape(1, -1))


class CompiledModel:
    """A bundle's prediction path compiled for one record at a time.

    :meth:`clean_record` gives the typed values of the columns the models use;
    :meth:`predict_typed` the output row (probabilities ``(1, n_classes)`` or a value
    ``(1,)``); :meth:`predict_frame` the column-wise path for many rows.
    """

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        predictor = bundle.predictor
        self.predictor = predictor
        self.task = bundle.task
        self.columns: list[str] = list(predictor.input_columns)
        self.cells: list[tuple[str, str | None, CellCleaner | None]] = []
        recipes = {}
        if bundle.cleaner is not None and hasattr(bundle.cleaner, "recipe_"):
            recipes = {rec.name: rec for rec in bundle.cleaner.recipe_.columns}
        self._generic_cleaner = None
        if bundle.cleaner is not None and not recipes:  # a cleaner without a recipe
            from apprentice.bundle.cleaning import row_cleaner

            self._generic_cleaner = row_cleaner(bundle.cleaner)
        for name in self.columns:
            rec = recipes.get(name)
            if rec is None:
                self.cells.append((name, None, None))
            else:
                alt = rec.name if rec.name != rec.source else None
                self.cells.append((rec.source, alt, _cell_cleaner(rec)))
        self.views = [
            (view, [(col.name, col.transform_value) for col in runtime.columns])
            for view, runtime in predictor.features.items()
        ]
        widths = {view: runtime.n_outputs for view, runtime in predictor.features.items()}
        self.members = [
            _Member(model, weight, view, widths[view]) for model, weight, view in predictor.members
        ]
        self.fast_members = sum(m.fast is not None or m.linear is not None for m in self.members)

    # -- one record

    def clean_record(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values (by the recipe) of the columns the models use."""
        if self._generic_cleaner is not None:
            typed = self._generic_cleaner(raw)
            return {name: typed.get(name) for name in self.columns}
        out: dict[str, Any] = {}
        get = raw.get
        for (source, alt, clean), name in zip(self.cells, self.columns, strict=True):
            value = get(source)
            if value is None and alt is not None:
                value = get(alt)
            out[name] = clean(value) if clean is not None else value
        return out

    def predict_typed(self, typed: Mapping[str, Any]) -> np.ndarray:
        """The output row of one typed record."""
        rows: dict[str, list[float]] = {}
        get = typed.get
        for view, columns in self.views:
            values: list[float] = []
            for name, row in columns:
                row(get(name), values)
            rows[view] = values
        total: np.ndarray | None = None
        for member in self.members:
            pred = member.output(rows[member.view])
            if member.weight != 1.0:
                pred = pred * member.weight
            total = pred if total is None else total + pred
        assert total is not None
        return total

    def predict_record(self, raw: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        typed = self.clean_record(raw)
        with np.errstate(all="ignore"):
            return self.predict_typed(typed), typed

    # -- many records

    def predict_frame(self, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        """Outputs of raw rows (any columns; absent ones are missing) and their typed values."""
        bundle = self.bundle
        n = len(frame)
        if bundle.input_columns:
            present = {str(c) for c in frame.columns}
            data = {
                c: frame[c] if c in present else pd.Series([None] * n, index=frame.index)
                for c in bundle.input_columns
            }
            frame = pd.DataFrame(data, index=frame.index)
        with np.errstate(all="ignore"):
            typed = clean_frame(bundle.cleaner, frame)
            out = self.predictor.predict_frame(typed)
        keep = [c for c in self.columns if c in typed.columns]
        return out, typed[keep]
