"""The prediction runtime: replays a feature spec and runs the stored models.

This module is what a server needs at prediction time. It imports neither
:mod:`apprentice.learn` nor :mod:`apprentice.evaluate`: the feature pipeline arrives as the
plain spec the learn stage exported (``FeaturePipeline.to_spec()``) and is replayed here, for
frames column by column with numpy, and for one row with plain Python (no pandas), so that a
single prediction costs well under a millisecond before the model runs.

Values reaching the runtime are typed (the cleaning recipe has run); text that still looks
like a number is parsed, and anything unusable becomes missing, never an error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import BundleError

SPEC_VERSION = 1
TOKEN_RE = re.compile(r"(?u)\b\w\w+\b")
CLIP = 10.0
_TRUE = frozenset({"true", "yes", "y", "t"})
_FALSE = frozenset({"false", "no", "n", "f"})
_NS_PER_DAY = 86_400e9
_ATTR = {"dayofweek": "day_of_week"}


# --------------------------------------------------------------------------- values


def category_key(value: Any) -> str | None:
    """The text key of a category value (twin of ``apprentice.learn.features.category_key``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value if value.strip() != "" else None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return str(value)


def number(value: Any) -> float:
    """A float from a typed or text value; NaN when missing or not a number."""
    if value is None:
        return math.nan
    if isinstance(value, bool | np.bool_):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        low = text.lower()
        if low in _TRUE:
            return 1.0
        if low in _FALSE:
            return 0.0
        if "_" in text:
            return math.nan
        try:
            return float(text)
        except ValueError:
            return math.nan
    if isinstance(value, pd.Timedelta):
        return value.total_seconds()
    if value is pd.NA or value is pd.NaT:
        return math.nan
    return math.nan


def timestamp(value: Any) -> pd.Timestamp | None:
    """A naive UTC timestamp, or ``None``."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
            ts = pd.Timestamp(value)
        elif isinstance(value, str):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ts = pd.to_datetime(value, errors="coerce", utc=True)
        else:
            return None
    except (ValueError, TypeError, OverflowError):
        return None
    if ts is pd.NaT or ts is None or pd.isna(ts):
        return None
    if ts.tzinfo is not None:
        ts = ts.tz_convert(UTC).tz_localize(None)
    return ts


def _series_numbers(series: pd.Series) -> np.ndarray:
    dtype = series.dtype
    if pd.api.types.is_timedelta64_dtype(dtype):
        return np.asarray(series.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan))
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return np.asarray(series.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    values = series.astype(object).map(_boolish)
    out = pd.to_numeric(values, errors="coerce")
    return np.asarray(out.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _boolish(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return 1.0
        if low in _FALSE:
            return 0.0
        return value.strip()
    return value


def _series_stamps(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamps = pd.to_datetime(series, errors="coerce", format="mixed", utc=True)
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.astype("datetime64[ns]")


def _series_keys(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = np.array([category_key(c) for c in series.cat.categories], dtype=object)
        codes = series.cat.codes.to_numpy()
        out = np.empty(len(series), dtype=object)
        valid = codes >= 0
        out[valid] = cats[codes[valid]]
        out[~valid] = None
        return out
    if isinstance(series.dtype, pd.StringDtype):
        out = series.to_numpy(dtype=object, na_value=None)
        blank = series.str.strip().eq("").to_numpy(dtype=bool, na_value=False)
        out[blank] = None
        return out
    return np.array([category_key(v) for v in series.tolist()], dtype=object)


def _part(ts: pd.Timestamp, part: str, ref_ns: int) -> float:
    if part == "elapsed_days":
        return (ts.value - ref_ns) / _NS_PER_DAY
    return float(getattr(ts, _ATTR.get(part, part)))


# --------------------------------------------------------------------------- features


class _Column:
    """One compiled column of a feature spec."""

    def __init__(self, plan: dict[str, Any], linear: bool) -> None:
        self.name: str = plan["name"]
        self.kind: str = plan["kind"]
        self.linear = linear
        self.width = len(plan["outputs"])
        self.plan = plan
        if self.kind in ("numeric", "boolean"):
            self.median = float(plan["median"])
            self.mean = float(plan["mean"])
            self.scale = float(plan["scale"])
            self.indicator = bool(plan["indicator"])
        elif self.kind == "datetime":
            self.parts: list[str] = list(plan["parts"])
            self.ref = int(plan["ref_ns"])
            self.medians = np.asarray(plan["median"], dtype=float)
            self.means = np.asarray(plan["mean"], dtype=float)
            self.scales = np.asarray(plan["scale"], dtype=float)
            self.indicator = bool(plan["indicator"])
        elif self.kind == "categorical":
            self.encoding: str = plan["encoding"]
            self.categories: list[str] = list(plan["categories"])
            self.index = {c: i for i, c in enumerate(self.categories)}
            self.lookup = pd.Index(self.categories, dtype=object)
            if self.encoding == "codes":
                self.other = float(len(self.categories)) if plan["other"] else math.nan
            elif self.encoding == "onehot":
                self.missing_column = bool(plan["missing_column"])
            else:
                values = np.asarray(plan["values"], dtype=float).reshape(len(self.categories), -1)
                default = np.asarray(plan["default"], dtype=float)
                table = np.vstack([values, default[None, :]])
                table = (table - np.asarray(plan["mean"])) / np.asarray(plan["scale"])
                if linear:
                    table = np.clip(table, -CLIP, CLIP)
                self.table = table
        elif self.kind == "text":
            self.vocab = {t: i for i, t in enumerate(plan["vocabulary"])}
            self.idf = np.asarray(plan["idf"], dtype=float)
            self.ngram_max = int(plan["ngram_max"])
            self.sparse = bool(plan["sparse"])
            self.len_mean = np.asarray(plan["length_mean"], dtype=float)
            self.len_scale = np.asarray(plan["length_scale"], dtype=float)
        else:
            raise BundleError(f"the feature spec has a column of unknown kind {self.kind!r}")

    # -- one row

    def row(self, value: Any, out: list[float]) -> None:
        kind = self.kind
        if kind in ("numeric", "boolean"):
            x = number(value)
            if not self.linear:
                out.append(x)
                return
            missing = x != x
            v = (self.median if missing else x) - self.mean
            v /= self.scale
            out.append(CLIP if v > CLIP else -CLIP if v < -CLIP else v)
            if self.indicator:
                out.append(1.0 if missing else 0.0)
            return
        if kind == "categorical":
            key = category_key(value)
            enc = self.encoding
            if enc == "codes":
                if key is None:
                    out.append(math.nan)
                else:
                    i = self.index.get(key)
                    out.append(float(i) if i is not None else self.other)
                return
            if enc == "onehot":
                vec = [0.0] * self.width
                if key is None:
                    if self.missing_column:
                        vec[-1] = 1.0
                else:
                    i = self.index.get(key)
                    if i is not None:
                        vec[i] = 1.0
                out.extend(vec)
                return
            i = (
                self.index.get(key, len(self.categories))
                if key is not None
                else len(self.categories)
            )
            out.extend(self.table[i].tolist())
            return
        if kind == "datetime":
            ts = timestamp(value)
            if ts is None:
                parts = [math.nan] * len(self.parts)
            else:
                parts = [_part(ts, p, self.ref) for p in self.parts]
            if not self.linear:
                out.extend(parts)
                return
            arr = np.asarray(parts, dtype=float)
            missing = bool(np.isnan(arr).any())
            arr = np.where(np.isnan(arr), self.medians, arr)
            arr = np.clip((arr - self.means) / self.scales, -CLIP, CLIP)
            out.extend(arr.tolist())
            if self.indicator:
                out.append(1.0 if missing else 0.0)
            return
        # text
        text = "" if category_key(value) is None else str(value)
        lengths = (np.array([len(text), len(text.split())], dtype=float) - self.len_mean) / (
            self.len_scale
        )
        out.extend(lengths.tolist())
        start = len(out)
        out.extend([0.0] * len(self.vocab))
        for j, w in self._tfidf(text).items():
            out[start + j] = w

    def _tfidf(self, text: str) -> dict[int, float]:
        if not self.vocab:
            return {}
        tokens = TOKEN_RE.findall(text.lower())
        counts: dict[int, int] = {}
        for n in range(1, self.ngram_max + 1):
            for i in range(len(tokens) - n + 1):
                term = tokens[i] if n == 1 else " ".join(tokens[i : i + n])
                j = self.vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
        weights = {j: (1.0 + math.log(c)) * self.idf[j] for j, c in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values()))
        if norm > 0:
            weights = {j: w / norm for j, w in weights.items()}
        return weights

    # -- many rows

    def frame(self, series: pd.Series) -> Any:
        n = len(series)
        kind = self.kind
        if kind in ("numeric", "boolean"):
            values = _series_numbers(series)
            if not self.linear:
                return values.reshape(-1, 1)
            missing = np.isnan(values)
            filled = np.where(missing, self.median, values)
            scaled = np.clip((filled - self.mean) / self.scale, -CLIP, CLIP)
            if self.indicator:
                return np.column_stack([scaled, missing.astype(float)])
            return scaled.reshape(-1, 1)
        if kind == "datetime":
            stamps = _series_stamps(series)
            matrix = np.empty((n, len(self.parts)))
            missing_rows = stamps.isna().to_numpy()
            for j, part in enumerate(self.parts):
                if part == "elapsed_days":
                    col = (stamps.astype("int64").to_numpy().astype(float) - self.ref) / _NS_PER_DAY
                else:
                    attr = _ATTR.get(part, part)
                    col = getattr(stamps.dt, attr).to_numpy(dtype=float, na_value=np.nan)
                col = np.array(col, dtype=float)
                col[missing_rows] = np.nan
                matrix[:, j] = col
            if not self.linear:
                return matrix
            missing = np.isnan(matrix).any(axis=1)
            filled = np.where(np.isnan(matrix), self.medians, matrix)
            scaled = np.clip((filled - self.means) / self.scales, -CLIP, CLIP)
            if self.indicator:
                scaled = np.column_stack([scaled, missing.astype(float)])
            return scaled
        if kind == "categorical":
            keys = _series_keys(series)
            missing = np.fromiter((k is None for k in keys), dtype=bool, count=n)
            codes = self.lookup.get_indexer(keys).astype(np.int64)
            if self.encoding == "codes":
                out = codes.astype(float)
                out[codes < 0] = self.other
                out[missing] = np.nan
                return out.reshape(-1, 1)
            if self.encoding == "onehot":
                out = np.zeros((n, self.width))
                hit = np.flatnonzero(codes >= 0)
                out[hit, codes[hit]] = 1.0
                if self.missing_column:
                    out[missing, -1] = 1.0
                return out
            return self.table[np.where(codes >= 0, codes, len(self.categories))]
        texts = ["" if category_key(v) is None else str(v) for v in series.tolist()]
        lengths = np.array([[len(t), len(t.split())] for t in texts], dtype=float).reshape(-1, 2)
        lengths = (lengths - self.len_mean) / self.len_scale
        if not self.vocab:
            return lengths
        from scipy import sparse

        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, t in enumerate(texts):
            for j, w in self._tfidf(t).items():
                rows.append(i)
                cols.append(j)
                vals.append(w)
        tfidf = sparse.csr_matrix((vals, (rows, cols)), shape=(n, len(self.vocab)))
        if self.sparse:
            return sparse.hstack([sparse.csr_matrix(lengths), tfidf], format="csr")
        return np.column_stack([lengths, tfidf.toarray()])


class FeatureRuntime:
    """Replays one view of a learned feature spec (see :mod:`apprentice.learn.features`)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not isinstance(spec, Mapping) or spec.get("version") != SPEC_VERSION:
            raise BundleError(
                "the feature spec has an unsupported version; rebuild the bundle with this "
                "apprentice version"
            )
        self.view: str = str(spec["view"])
        linear = self.view == "linear"
        self.columns = [_Column(plan, linear) for plan in spec["columns"]]
        self.categorical_indices: list[int] = list(spec.get("categorical_indices", []))
        self.n_outputs = sum(c.width for c in self.columns)
        self.input_columns = [c.name for c in self.columns]
        self.sparse = any(c.kind == "text" and c.sparse and c.vocab for c in self.columns)

    def transform(self, frame: pd.DataFrame) -> Any:
        """The feature matrix of a typed frame (absent columns count as missing values)."""
        n = len(frame)
        blocks = []
        for col in self.columns:
            series = frame[col.name] if col.name in frame.columns else pd.Series([None] * n)
            blocks.append(col.frame(series))
        if not blocks:
            return np.zeros((n, 0))
        from scipy import sparse

        if any(sparse.issparse(b) for b in blocks):
            return sparse.hstack(
                [b if sparse.issparse(b) else sparse.csr_matrix(b) for b in blocks], format="csr"
            )
        return np.column_stack(blocks).astype(np.float64, copy=False)

    def transform_row(self, row: Mapping[str, Any]) -> np.ndarray:
        """The ``(1, n_outputs)`` feature row of one typed record."""
        out: list[float] = []
        get = row.get
        for col in self.columns:
            col.row(get(col.name), out)
        return np.asarray(out, dtype=np.float64).reshape(1, -1)


# --------------------------------------------------------------------------- models


SMALL_BATCH = 1000
_CONTROLLER: Any = None


def _controller() -> Any:
    """One threadpoolctl controller per process (finding the libraries is the slow part)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class ModelRuntime:
    """One stored model: ``constant``, ``linear``, ``lightgbm`` or ``sklearn``."""

    def __init__(self, kind: str, task: str, n_classes: int, payload: Any) -> None:
        self.kind = kind
        self.task = task
        self.n_classes = n_classes
        if kind == "constant":
            self.values = np.asarray(payload["values"], dtype=float)
        elif kind == "linear":
            self.coef = np.asarray(payload["coef"], dtype=float)
            self.intercept = np.asarray(payload["intercept"], dtype=float)
            self.link = str(payload["link"])
            seen = payload.get("classes_seen")
            self.seen: np.ndarray | None = np.asarray(
                seen if seen is not None else [], dtype=np.int64
            )
        elif kind == "lightgbm":
            self.booster = payload
        elif kind == "sklearn":
            self.estimator = payload
            classes = getattr(payload, "classes_", None)
            self.seen = np.asarray(classes).astype(np.int64) if classes is not None else None
        else:
            raise BundleError(f"the bundle holds a model of unknown kind {kind!r}")

    def predict(self, X: Any) -> np.ndarray:
        """Probabilities ``(n, n_classes)`` or values ``(n,)``."""
        n = X.shape[0]
        kind = self.kind
        if kind == "constant":
            if self.task == "regression":
                return np.full(n, self.values[0])
            return np.tile(self.values, (n, 1))
        if kind == "linear":
            z = np.asarray(X @ self.coef.T) + self.intercept
            if self.link == "identity":
                return z.ravel()
            if self.link == "logistic":
                p = 1.0 / (1.0 + np.exp(-z.ravel()))
                proba = np.column_stack([1.0 - p, p])
            else:
                proba = _softmax(z)
            return self._expand(proba, self.seen)
        if kind == "lightgbm":
            # one thread for small batches: thread start-up costs more than it saves
            raw = self.booster.predict(X, num_threads=1 if n <= SMALL_BATCH else 0)
            if self.task == "binary":
                return np.column_stack([1.0 - raw, raw])
            return np.asarray(raw, dtype=float)
        if hasattr(X, "toarray"):
            X = X.toarray()
        # one OpenMP thread: a server runs requests side by side, and OpenMP start-up costs
        # more than it saves on the small batches a bundle usually sees
        with _controller().limit(limits=1, user_api="openmp"):
            if self.task == "regression":
                return np.asarray(self.estimator.predict(X), dtype=float)
            return self._expand(self.estimator.predict_proba(X), self.seen)

    def _expand(self, proba: np.ndarray, seen: np.ndarray | None) -> np.ndarray:
        if (
            seen is None
            or len(seen) == 0
            or (proba.shape[1] == self.n_classes and len(seen) == self.n_classes)
        ):
            return proba
        out = np.zeros((proba.shape[0], self.n_classes))
        out[:, seen] = proba
        return out


class Predictor:
    """Feature views plus weighted member models: a typed frame or record to predictions."""

    def __init__(
        self,
        task: str,
        n_classes: int,
        features: dict[str, FeatureRuntime],
        members: list[tuple[ModelRuntime, float, str]],
    ) -> None:
        self.task = task
        self.n_classes = n_classes
        self.features = features
        self.members = members
        self.input_columns = sorted({c for f in features.values() for c in f.input_columns})

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        matrices = {view: f.transform(frame) for view, f in self.features.items()}
        return self._combine(matrices)

    def predict_row(self, row: Mapping[str, Any]) -> np.ndarray:
        matrices = {view: f.transform_row(row) for view, f in self.features.items()}
        return self._combine(matrices)

    def combine(self, matrices: dict[str, Any]) -> np.ndarray:
        """Weighted member outputs from feature matrices keyed by view."""
        return self._combine(matrices)

    def _combine(self, matrices: dict[str, Any]) -> np.ndarray:
        total: np.ndarray | None = None
        for model, weight, view in self.members:
            pred = model.predict(matrices[view])
            if weight != 1.0:
                pred = pred * weight
            total = pred if total is None else total + pred
        assert total is not None
        return total
