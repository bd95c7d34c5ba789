"""The serving fast path: one raw record to a prediction without a pandas DataFrame.

A :class:`CompiledModel` is built once from a loaded :class:`~apprentice.bundle.Bundle`:

* each column the models use is cleaned by the recipe's one cell cleaner
  (:class:`apprentice.features.cells.CellCleaner`, the one ``Bundle.predict`` uses): plain
  numbers and printable ASCII categories take its direct routes, every other cell the
  recipe's own one-cell function, memoised, so values are those of training;
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
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from apprentice.bundle import Bundle
from apprentice.bundle.cleaning import cell_cleaners, clean_frame
from apprentice.bundle.runtime import ModelRuntime

CellCleaner = Callable[[Any], Any]
Memo = dict[str, tuple[float, ...]]
#: typed text values up to this length have their features remembered per column
FEATURE_MEMO_CHARS = 64
#: remembered values, all columns together
FEATURE_MEMO = 100_000


class _FastBooster:
    """A LightGBM booster behind the single-row C API, on a preallocated buffer.

    One instance serves one thread at a time (a lock guards the buffers).
    """

    def __init__(self, booster: Any, n_features: int) -> None:
        from apprentice.modelfiles.lightgbm_capi import c_str as _c_str
        from apprentice.modelfiles.lightgbm_capi import call as _safe_call
        from apprentice.modelfiles.lightgbm_capi import library

        _LIB = library()
        self.booster = booster  # keeps the handle alive
        self.n_out = int(booster.num_model_per_iteration())
        num_iteration = -1
        self.row = np.zeros(n_features, dtype=np.float64)
        self.out = np.zeros(self.n_out, dtype=np.float64)
        self.out_len = ctypes.c_int64(0)
        self.config = ctypes.c_void_p()
        self._safe_call = _safe_call
        self._free = _LIB.LGBM_FastConfigFree
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster.handle,
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

    def floats(self, values: Sequence[float]) -> list[float]:
        """:meth:`__call__` as a list of Python floats (no array allocated)."""
        with self.lock:
            self.row[:] = values
            self._safe_call(self._call(*self._args))
            return self.out.tolist()

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
        out = self.floats(values)
        return np.array(out) if self.link == "identity" else np.array([out])

    def floats(self, values: Sequence[float]) -> list[float]:
        """The output row as Python floats: ``[value]`` or the class probabilities."""
        z = [
            b + math.fsum(c * x for c, x in zip(row, values, strict=True))
            for row, b in zip(self.coef, self.intercept, strict=True)
        ]
        if self.link == "identity":
            return z[:1]
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
        return proba


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

    def floats(self, values: list[float]) -> list[float]:
        """The flat output row of a fast member as Python floats: the same numbers as
        :meth:`output` (``[value]`` for regression, else the class probabilities)."""
        if self.linear is not None:
            return self.linear.floats(values)
        assert self.fast is not None
        raw = self.fast.floats(values)
        task = self.model.task
        if task == "binary":
            return [1.0 - raw[0], raw[0]]
        if task == "regression":
            return raw[:1]
        return raw


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
        cells = cell_cleaners(bundle.cleaner) if bundle.cleaner is not None else {}
        self._generic_cleaner = None
        if bundle.cleaner is not None and not hasattr(bundle.cleaner, "recipe_"):
            from apprentice.bundle.cleaning import row_cleaner  # a cleaner without a recipe

            self._generic_cleaner = row_cleaner(bundle.cleaner)
        for name in self.columns:
            cell = cells.get(name)
            if cell is None:
                self.cells.append((name, None, None))
            else:
                alt = cell.name if cell.name != cell.source else None
                self.cells.append((cell.source, alt, cell))
        # per view: (typed column, its feature function, the features of text values seen)
        self.views: list[tuple[str, list[tuple[str, Callable[[Any, list[float]], None], Memo]]]]
        self.views = [
            (view, [(col.name, col.transform_value, {}) for col in runtime.columns])
            for view, runtime in predictor.features.items()
        ]
        n_columns = sum(len(columns) for _, columns in self.views)
        self._memo_limit = max(256, min(4096, FEATURE_MEMO // max(n_columns, 1)))
        widths = {view: runtime.n_outputs for view, runtime in predictor.features.items()}
        self.members = [
            _Member(model, weight, view, widths[view]) for model, weight, view in predictor.members
        ]
        self.fast_members = sum(m.fast is not None or m.linear is not None for m in self.members)
        #: every member runs in plain Python floats: one array per prediction, no warnings
        self.all_fast = bool(self.members) and self.fast_members == len(self.members)
        #: per-cell cleaners (a recipe): :meth:`InputContract.clean_and_check` can use them
        self.per_cell = self._generic_cleaner is None
        self.regression = self.task == "regression"

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
        out = self._predict(typed)
        if isinstance(out, list):
            return np.array(out) if self.regression else np.array([out])
        return out

    def predict_row(self, typed: Mapping[str, Any]) -> np.ndarray | list[float]:
        """The output of one typed record, numpy's floating-point warnings silenced: the
        class probabilities (or ``[value]``) as Python floats when every member has a
        compiled path, else the array :meth:`predict_typed` gives, first row."""
        if self.all_fast:
            return self._predict(typed)
        with np.errstate(all="ignore"):
            out = self._predict(typed)
        if isinstance(out, list):
            return out
        first: np.ndarray = out[0]
        return first

    def _predict(self, typed: Mapping[str, Any]) -> np.ndarray | list[float]:
        rows: dict[str, list[float]] = {}
        get = typed.get
        limit = self._memo_limit
        for view, columns in self.views:
            values: list[float] = []
            for name, row, memo in columns:
                value = get(name)
                if type(value) is str and len(value) <= FEATURE_MEMO_CHARS:
                    # a category's (or short text's) features, remembered: a pure function
                    known = memo.get(value)
                    if known is None:
                        found: list[float] = []
                        row(value, found)
                        known = tuple(found)
                        if len(memo) < limit:
                            memo[value] = known
                    values.extend(known)
                else:
                    row(value, values)
            rows[view] = values
        if self.all_fast:
            # the weighted sum of the members in Python floats: the same IEEE operations,
            # in the same order, as the array path below
            acc: list[float] | None = None
            for member in self.members:
                out = member.floats(rows[member.view])
                w = member.weight
                if w != 1.0:
                    out = [v * w for v in out]
                acc = out if acc is None else [a + v for a, v in zip(acc, out, strict=True)]
            assert acc is not None
            return acc
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
        return self.predict_checked(typed), typed

    def predict_checked(self, typed: Mapping[str, Any]) -> np.ndarray:
        """:meth:`predict_typed` with numpy's floating-point warnings silenced (the fast
        members use no numpy arithmetic)."""
        if self.all_fast:
            return self.predict_typed(typed)
        with np.errstate(all="ignore"):
            return self.predict_typed(typed)

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
