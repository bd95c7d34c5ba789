"""LightGBM's C library called directly: load a checked text model, predict, contributions.

Why not ``lightgbm.Booster``: importing the ``lightgbm`` Python package imports scikit-learn
and SciPy when they are installed (``lightgbm.compat``), about a second of CPU that every
``apprentice predict`` paid before its first row, and it makes SciPy and scikit-learn
install requirements of a serving image that never uses them. Prediction needs five functions
of ``lib_lightgbm`` (load from a string, count the outputs, predict on a dense or CSR matrix,
free), so they are called here through :mod:`ctypes` on the library the ``lightgbm`` wheel
ships. The numbers are LightGBM's own: the same C++ code on the same inputs, converted exactly
as ``lightgbm.Booster.predict`` converts them (``float32``/``float64`` kept, anything else as
``float32``); tests compare the two bit for bit.

The text must have passed :func:`apprentice.modelfiles.lightgbm_text.check_lightgbm_text`
first: LightGBM's parser trusts its input.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.errors import BundleError

#: predict types and data types of LightGBM's C API (``c_api.h``)
PREDICT_NORMAL = 0
PREDICT_RAW_SCORE = 1
PREDICT_CONTRIB = 3
DTYPE_FLOAT32 = 0
DTYPE_FLOAT64 = 1
DTYPE_INT32 = 2
DTYPE_INT64 = 3


def _library_path() -> Path:
    spec = importlib.util.find_spec("lightgbm")
    if spec is None or not spec.submodule_search_locations:
        raise BundleError(
            "this bundle holds a LightGBM model but lightgbm is not installed: "
            "pip install 'lightgbm>=4.5,<5'"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    name = {"win32": "lib_lightgbm.dll", "darwin": "lib_lightgbm.dylib"}.get(
        sys.platform, "lib_lightgbm.so"
    )
    for folder in (package / "lib", package / "bin", package.parent):
        if (folder / name).is_file():
            return folder / name
    raise BundleError(
        f"lightgbm is installed at {package} but its library {name} is not there: "
        "reinstall lightgbm"
    )


@cache
def library() -> ctypes.CDLL:
    """``lib_lightgbm``, loaded once (the same file the ``lightgbm`` package loads)."""
    lib = ctypes.cdll.LoadLibrary(str(_library_path()))
    lib.LGBM_GetLastError.restype = ctypes.c_char_p
    return lib


class LightGBMCallError(BundleError):
    """LightGBM's C library returned an error (its own message is kept)."""


def call(code: int) -> None:
    """Raise LightGBM's own message when a C API call returned non-zero."""
    if code != 0:
        message = library().LGBM_GetLastError().decode("utf-8", "replace")
        raise LightGBMCallError(f"LightGBM refused the call: {message}")


def c_str(text: str) -> ctypes.c_char_p:
    return ctypes.c_char_p(text.encode("utf-8"))


def _as_float(values: np.ndarray) -> tuple[np.ndarray, int]:
    # lightgbm.Booster.predict keeps float32/float64 and converts anything else to float32
    if values.dtype == np.float64:
        return np.ascontiguousarray(values), DTYPE_FLOAT64
    if values.dtype == np.float32:
        return np.ascontiguousarray(values), DTYPE_FLOAT32
    return np.ascontiguousarray(values, dtype=np.float32), DTYPE_FLOAT32


class Booster:
    """A loaded LightGBM model: ``predict`` and ``contributions`` of a 2-d matrix.

    Calls may come from several threads: LightGBM's prediction is re-entrant for one handle.
    """

    def __init__(self, model_text: str) -> None:
        lib = library()
        self.handle = ctypes.c_void_p()
        iterations = ctypes.c_int(0)
        call(
            lib.LGBM_BoosterLoadModelFromString(
                c_str(model_text), ctypes.byref(iterations), ctypes.byref(self.handle)
            )
        )
        self.iterations = iterations.value
        out = ctypes.c_int(0)
        call(lib.LGBM_BoosterGetNumClasses(self.handle, ctypes.byref(out)))
        self.n_outputs = out.value
        call(lib.LGBM_BoosterGetNumFeature(self.handle, ctypes.byref(out)))
        self.n_features = out.value

    def num_model_per_iteration(self) -> int:
        return self.n_outputs

    def _out_len(self, rows: int, predict_type: int) -> int:
        out = ctypes.c_int64(0)
        call(
            library().LGBM_BoosterCalcNumPredict(
                self.handle,
                ctypes.c_int(rows),
                ctypes.c_int(predict_type),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                ctypes.byref(out),
            )
        )
        return int(out.value)

    def _run(self, X: Any, predict_type: int, num_threads: int) -> np.ndarray:
        if hasattr(X, "tocsr") and predict_type != PREDICT_CONTRIB:
            return self._run_csr(X.tocsr(), predict_type, num_threads)
        if hasattr(X, "toarray"):
            X = X.toarray()
        matrix = np.asarray(X)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise BundleError(
                f"the LightGBM model expects {self.n_features} features, "
                f"got an array of shape {matrix.shape}"
            )
        data, dtype = _as_float(matrix)
        inputs = (
            data.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_int(dtype),
            ctypes.c_int32(data.shape[0]),
            ctypes.c_int32(data.shape[1]),
            ctypes.c_int(1),  # row major
        )
        return self._into(library().LGBM_BoosterPredictForMat, inputs, data.shape[0],
                          predict_type, num_threads)  # fmt: skip

    def _run_csr(self, csr: Any, predict_type: int, num_threads: int) -> np.ndarray:
        if csr.shape[1] != self.n_features:
            raise BundleError(
                f"the LightGBM model expects {self.n_features} features, "
                f"got a sparse matrix of shape {csr.shape}"
            )
        data, dtype = _as_float(np.asarray(csr.data))
        indptr = np.ascontiguousarray(csr.indptr)
        if indptr.dtype == np.int32:
            indptr_type = DTYPE_INT32
        else:
            indptr = indptr.astype(np.int64, copy=False)
            indptr_type = DTYPE_INT64
        indices = np.ascontiguousarray(csr.indices, dtype=np.int32)
        inputs = (
            indptr.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_int(indptr_type),
            indices.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)),
            data.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_int(dtype),
            ctypes.c_int64(len(indptr)),
            ctypes.c_int64(len(data)),
            ctypes.c_int64(csr.shape[1]),
        )
        return self._into(library().LGBM_BoosterPredictForCSR, inputs, csr.shape[0],
                          predict_type, num_threads)  # fmt: skip

    def _into(
        self, function: Any, inputs: tuple[Any, ...], rows: int, predict_type: int, threads: int
    ) -> np.ndarray:
        """Call a ``LGBM_BoosterPredictFor*`` function (its matrix arguments ``inputs``) into a
        result of the size LightGBM announces; ``(n,)`` or ``(n, outputs per row)``."""
        per_row = self._out_len(1, predict_type)
        result = np.empty(rows * per_row, dtype=np.float64)
        written = ctypes.c_int64(0)
        call(
            function(
                self.handle,
                *inputs,
                ctypes.c_int(predict_type),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                c_str(f"num_threads={threads}"),
                ctypes.byref(written),
                result.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )
        if written.value != result.size:
            raise BundleError(
                f"LightGBM wrote {written.value} values where {result.size} were expected"
            )
        return result if per_row == 1 else result.reshape(rows, per_row)

    def predict(self, X: Any, *, num_threads: int = 1, raw_score: bool = False) -> np.ndarray:
        """Probabilities (binary: ``(n,)`` of the positive class; multiclass ``(n, k)``) or
        values, exactly as ``lightgbm.Booster.predict``; ``raw_score``: the margins."""
        return self._run(X, PREDICT_RAW_SCORE if raw_score else PREDICT_NORMAL, num_threads)

    def contributions(self, X: Any, *, num_threads: int = 1) -> np.ndarray:
        """LightGBM's exact TreeSHAP on the raw score: ``(n, k * (features + 1))``."""
        return self._run(X, PREDICT_CONTRIB, num_threads)

    def __del__(self) -> None:
        handle = getattr(self, "handle", None)
        if handle is not None and handle.value:
            with contextlib.suppress(Exception):
                library().LGBM_BoosterFree(handle)
            handle.value = None
