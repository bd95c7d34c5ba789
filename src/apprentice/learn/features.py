"""The feature pipeline: typed columns in, a numeric matrix out, by column kind.

Two views of the same columns serve the two kinds of learner:

``tree``
    numbers and booleans as they are (trees split on missing values natively); categories of
    low cardinality as integer codes (LightGBM and HistGradientBoosting treat them as
    categorical); high-cardinality categories by cross-fitted target encoding; datetimes as
    calendar parts plus elapsed days; text as a small TF-IDF plus its length.
``linear``
    numbers imputed with the median, a missing indicator where training had gaps, standardised
    and clipped; one-hot categories (target encoding above ``max_onehot`` levels); datetimes as
    standardised parts; text as a sparse word and bigram TF-IDF.

This module fits: everything learned is plain data (``spec_``), one plan per column. The
transforms themselves live in :mod:`apprentice.features` (one class per kind, for a column and
for a single value): training rows go through them here, and the bundle replays the stored
spec through the same classes without importing this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from apprentice.features import (
    CLIP,
    DATE_PARTS,
    KINDS,
    SPEC_VERSION,
    TOKEN_PATTERN,
    VIEWS,
    FeatureRuntime,
    as_datetime,
    as_keys,
    as_numeric,
    as_text,
    category_key,
    date_parts,
)

__all__ = [
    "KINDS",
    "VIEWS",
    "FeaturePipeline",
    "as_datetime",
    "as_keys",
    "as_numeric",
    "as_text",
    "category_key",
    "infer_kind",
]


def _is_text_like(values: pd.Series) -> bool:
    sample = values.dropna()
    if len(sample) > 2000:
        sample = sample.sample(2000, random_state=0)
    if len(sample) < 5:
        return False
    text = sample.astype(str)
    tokens = text.str.count(r"\S+").mean()
    unique_ratio = text.nunique() / len(text)
    return bool(tokens >= 3.0 and unique_ratio >= 0.3)


def infer_kind(series: pd.Series) -> str:
    """The feature kind of a typed column: numeric, boolean, datetime, categorical or text."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    non_null = series.dropna()
    if len(non_null) and non_null.map(lambda v: isinstance(v, bool | np.bool_)).all():
        return "boolean"
    return "text" if _is_text_like(series) else "categorical"


# --------------------------------------------------------------------------- the transformer


def _target_matrix(y: np.ndarray, target_type: str) -> np.ndarray:
    if target_type == "continuous":
        return np.asarray(y, dtype=float).reshape(-1, 1)
    codes = np.asarray(y).astype(np.int64)
    n_classes = int(codes.max()) + 1 if len(codes) else 0
    if target_type == "binary":
        return (codes == n_classes - 1).astype(float).reshape(-1, 1)
    return np.eye(max(n_classes, 1))[codes]


def _resolve_target_type(y: np.ndarray, target_type: str) -> str:
    if target_type != "auto":
        return target_type
    arr = np.asarray(y)
    if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
        return "continuous"
    n_unique = len(np.unique(arr))
    if n_unique <= 2:
        return "binary"
    return "multiclass" if n_unique <= 50 else "continuous"


def _encode_lookup(
    keys: np.ndarray, targets: np.ndarray, smoothing: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    prior = targets.mean(axis=0)
    present = np.array([k is not None for k in keys], dtype=bool)
    if not present.any():
        return {}, prior
    frame = pd.DataFrame(targets[present])
    frame["__key__"] = keys[present]
    grouped = frame.groupby("__key__", sort=True)
    sums = grouped.sum().to_numpy(dtype=float)
    counts = grouped.size().to_numpy(dtype=float)[:, None]
    values = (sums + smoothing * prior) / (counts + smoothing)
    return dict(zip(grouped.size().index.tolist(), values, strict=True)), prior


def _lookup(keys: np.ndarray, table: dict[str, np.ndarray], default: np.ndarray) -> np.ndarray:
    categories = list(table)
    codes = pd.Index(categories, dtype=object).get_indexer(keys).astype(np.int64)
    values = np.vstack(
        [np.asarray([table[c] for c in categories]).reshape(len(categories), -1), default[None]]
    )
    return values[np.where(codes >= 0, codes, len(categories))]


class FeaturePipeline(TransformerMixin, BaseEstimator):
    """Turns a typed frame into the numeric matrix a learner of one ``view`` needs.

    Parameters are stored as given. ``fit`` learns the per-column plan (``spec_``);
    ``fit_transform`` additionally cross-fits the target encoding of high-cardinality
    categories, so a training row never sees its own target.
    """

    n_features_in_: int
    feature_names_in_: np.ndarray
    spec_: dict[str, Any]
    feature_names_out_: np.ndarray
    categorical_indices_: list[int]
    target_type_: str

    def __init__(
        self,
        *,
        view: str = "tree",
        kinds: dict[str, str] | None = None,
        max_onehot: int = 30,
        max_native_categories: int = 64,
        min_category_count: int = 3,
        text_max_features: int | None = None,
        te_smoothing: float = 10.0,
        te_folds: int = 5,
        target_type: str = "auto",
        random_state: int = 0,
    ) -> None:
        self.view = view
        self.kinds = kinds
        self.max_onehot = max_onehot
        self.max_native_categories = max_native_categories
        self.min_category_count = min_category_count
        self.text_max_features = text_max_features
        self.te_smoothing = te_smoothing
        self.te_folds = te_folds
        self.target_type = target_type
        self.random_state = random_state

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags

    # -- input handling

    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            frame = X
            names = [str(c) for c in frame.columns]
            if any(not isinstance(c, str) for c in frame.columns):
                frame = frame.set_axis(names, axis=1)
            if reset:
                self.feature_names_in_ = np.asarray(names, dtype=object)
            elif hasattr(self, "feature_names_in_"):
                missing = [c for c in self.feature_names_in_ if c not in set(names)]
                if missing:
                    raise ValueError(
                        f"{len(missing)} column(s) seen in fit are missing, e.g. {missing[0]!r}"
                    )
                if names != list(self.feature_names_in_):
                    frame = frame[list(self.feature_names_in_)]
            elif frame.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {frame.shape[1]} features, but FeaturePipeline is expecting "
                    f"{self.n_features_in_} features as input"
                )
        else:
            if sparse.issparse(X):
                raise TypeError("FeaturePipeline needs a DataFrame or a dense array, not sparse")
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise ValueError(
                    f"Expected 2D array, got {arr.ndim}D array instead. Reshape your data "
                    "with array.reshape(-1, 1) for a single feature or array.reshape(1, -1) "
                    "for a single sample."
                )
            if arr.dtype.kind == "c":
                raise ValueError("Complex data not supported")
            if reset and hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            if not reset:
                if hasattr(self, "feature_names_in_"):
                    raise ValueError("X has no feature names, but was fitted with feature names")
                if arr.shape[1] != self.n_features_in_:
                    raise ValueError(
                        f"X has {arr.shape[1]} features, but FeaturePipeline is expecting "
                        f"{self.n_features_in_} features as input"
                    )
            frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
            if arr.dtype.kind in "fiub":
                frame = frame.astype(float)
        if reset:
            if frame.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 "
                    "is required."
                )
            if frame.shape[1] < 1:
                raise ValueError(
                    f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 "
                    "is required."
                )
            self.n_features_in_ = frame.shape[1]
        if any(pd.api.types.is_complex_dtype(frame[c].dtype) for c in frame.columns):
            raise ValueError("Complex data not supported")
        numeric = frame.select_dtypes(include=[np.number])
        if numeric.shape[1] and np.isinf(numeric.to_numpy(dtype=float)).any():
            raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
        return frame

    # -- fitting

    def fit(self, X: Any, y: Any = None) -> FeaturePipeline:
        """Learn the per-column plan from ``X`` (and ``y`` for target encoding)."""
        self._fit(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit, then transform with out-of-fold target encodings for the training rows."""
        frame = self._fit(X, y)
        out = self._transform(frame)
        if y is None or not self._te_columns():
            return out
        return self._cross_fit(frame, np.asarray(y), out)

    def _fit(self, X: Any, y: Any) -> pd.DataFrame:
        if self.view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {self.view!r}")
        frame = self._frame(X, reset=True)
        kinds = dict(self.kinds or {})
        target: np.ndarray | None = None
        self.target_type_ = "none"
        if y is not None:
            y_arr = np.asarray(y)
            if len(y_arr) != len(frame):
                raise ValueError(
                    f"Found input variables with inconsistent numbers of samples: "
                    f"[{len(frame)}, {len(y_arr)}]"
                )
            self.target_type_ = _resolve_target_type(y_arr, self.target_type)
            target = _target_matrix(y_arr, self.target_type_)
        columns: list[dict[str, Any]] = []
        for name in frame.columns:
            series = frame[name]
            kind = kinds.get(name) or infer_kind(series)
            if kind not in KINDS:
                raise ValueError(f"kind of column {name!r} must be one of {KINDS}, got {kind!r}")
            plan = self._plan(str(name), kind, series, target)
            if plan is not None:
                columns.append(plan)
        self.spec_ = {"version": SPEC_VERSION, "view": self.view, "columns": columns}
        self.feature_names_out_ = np.asarray(
            [n for plan in columns for n in plan["outputs"]], dtype=object
        )
        self.categorical_indices_ = []
        offset = 0
        for plan in columns:
            if plan.get("encoding") == "codes":
                self.categorical_indices_.append(offset)
            offset += len(plan["outputs"])
        return frame

    def _plan(
        self, name: str, kind: str, series: pd.Series, target: np.ndarray | None
    ) -> dict[str, Any] | None:
        linear = self.view == "linear"
        if kind in ("numeric", "boolean"):
            values = as_numeric(series)
            present = values[~np.isnan(values)]
            if len(present) == 0:
                return None
            median = float(np.median(present))
            filled = np.where(np.isnan(values), median, values)
            mean, scale = float(filled.mean()), float(filled.std())
            indicator = bool(linear and len(present) < len(values))
            outputs = [name]
            if indicator:
                outputs.append(f"{name}__missing")
            return {
                "name": name,
                "kind": kind,
                "median": median,
                "mean": mean,
                "scale": scale if scale > 0 else 1.0,
                "indicator": indicator,
                "outputs": outputs,
            }
        if kind == "datetime":
            stamps = as_datetime(series)
            if stamps.notna().sum() == 0:
                return None
            ref = int(stamps.min().value)
            has_time = bool((stamps.dt.hour.fillna(0) != 0).any())
            parts = [p for p in DATE_PARTS if p != "hour" or has_time]
            matrix = date_parts(stamps, parts, ref)
            medians = np.nanmedian(matrix, axis=0)
            filled = np.where(np.isnan(matrix), medians, matrix)
            keep = [j for j in range(len(parts)) if np.nanstd(matrix[:, j]) > 0]
            if not keep:
                return None
            parts = [parts[j] for j in keep]
            scale = filled[:, keep].std(axis=0)
            indicator = bool(linear and stamps.isna().any())
            outputs = [f"{name}__{p}" for p in parts]
            if indicator:
                outputs.append(f"{name}__missing")
            return {
                "name": name,
                "kind": "datetime",
                "parts": parts,
                "ref_ns": ref,
                "median": medians[keep].tolist(),
                "mean": filled[:, keep].mean(axis=0).tolist(),
                "scale": np.where(scale > 0, scale, 1.0).tolist(),
                "indicator": indicator,
                "outputs": outputs,
            }
        if kind == "text":
            return self._plan_text(name, series)
        return self._plan_categorical(name, series, target)

    def _plan_categorical(
        self, name: str, series: pd.Series, target: np.ndarray | None
    ) -> dict[str, Any] | None:
        keys = as_keys(series)
        present = pd.Series(keys[np.array([k is not None for k in keys], dtype=bool)])
        if present.empty:
            return None
        counts = present.value_counts()
        frequent = counts[counts >= self.min_category_count]
        n_levels = len(frequent)
        limit = self.max_onehot if self.view == "linear" else self.max_native_categories
        has_missing = bool(len(present) < len(keys))
        if counts.size <= 1 and not has_missing:
            return None
        if n_levels <= limit:
            categories = sorted(frequent.index.tolist())
            if self.view == "linear":
                outputs = [f"{name}={c}" for c in categories]
                if has_missing:
                    outputs.append(f"{name}__missing")
                return {
                    "name": name,
                    "kind": "categorical",
                    "encoding": "onehot",
                    "categories": categories,
                    "missing_column": has_missing,
                    "outputs": outputs,
                }
            return {
                "name": name,
                "kind": "categorical",
                "encoding": "codes",
                "categories": categories,
                "other": bool(len(frequent) < len(counts)),
                "outputs": [name],
            }
        if target is None:
            freq = (counts / len(keys)).sort_index()
            return {
                "name": name,
                "kind": "categorical",
                "encoding": "frequency",
                "categories": freq.index.tolist(),
                "values": [[float(v)] for v in freq.to_numpy()],
                "default": [0.0],
                "mean": [0.0],
                "scale": [1.0],
                "outputs": [f"{name}__freq"],
            }
        table, prior = _encode_lookup(keys, target, self.te_smoothing)
        categories = sorted(table)
        values = np.array([table[c] for c in categories]) if categories else np.zeros((0, 1))
        encoded = _lookup(keys, table, prior)
        if self.view == "linear":
            mean = encoded.mean(axis=0)
            scale = encoded.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
        else:
            mean, scale = np.zeros(len(prior)), np.ones(len(prior))
        k = target.shape[1]
        return {
            "name": name,
            "kind": "categorical",
            "encoding": "target",
            "categories": categories,
            "values": values.tolist(),
            "default": prior.tolist(),
            "mean": np.asarray(mean).tolist(),
            "scale": np.asarray(scale).tolist(),
            "outputs": [f"{name}__te" if k == 1 else f"{name}__te{j}" for j in range(k)],
        }

    def _plan_text(self, name: str, series: pd.Series) -> dict[str, Any] | None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = as_text(series)
        linear = self.view == "linear"
        max_features = self.text_max_features or (5000 if linear else 50)
        ngram_max = 2 if linear else 1
        lengths = np.array([[len(t), len(t.split())] for t in texts], dtype=float)
        vocabulary: list[str] = []
        idf: list[float] = []
        vec = TfidfVectorizer(
            token_pattern=TOKEN_PATTERN,
            lowercase=True,
            ngram_range=(1, ngram_max),
            sublinear_tf=True,
            min_df=2 if len(texts) >= 10 else 1,
            max_features=max_features,
            dtype=np.float64,
        )
        try:
            vec.fit(texts)
            order = sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])
            vocabulary = [term for term, _ in order]
            idf = vec.idf_.tolist()
        except ValueError:  # empty vocabulary
            vocabulary, idf = [], []
        scale = lengths.std(axis=0)
        return {
            "name": name,
            "kind": "text",
            "vocabulary": vocabulary,
            "idf": idf,
            "ngram_max": ngram_max,
            "sparse": linear,
            "length_mean": lengths.mean(axis=0).tolist() if linear else [0.0, 0.0],
            "length_scale": np.where(scale > 0, scale, 1.0).tolist() if linear else [1.0, 1.0],
            "outputs": [f"{name}__chars", f"{name}__words"]
            + [f"{name}__tfidf:{t}" for t in vocabulary],
        }

    # -- transforming

    def _te_columns(self) -> list[int]:
        return [
            i
            for i, p in enumerate(self.spec_["columns"])
            if p["kind"] == "categorical" and p["encoding"] == "target"
        ]

    def _cross_fit(self, frame: pd.DataFrame, y: np.ndarray, out: Any) -> Any:
        from sklearn.model_selection import KFold, StratifiedKFold

        target = _target_matrix(y, self.target_type_)
        n = len(frame)
        k = max(2, min(self.te_folds, n))
        if self.target_type_ != "continuous" and np.unique(y, return_counts=True)[1].min() >= k:
            splitter: Any = StratifiedKFold(k, shuffle=True, random_state=self.random_state)
        else:
            splitter = KFold(k, shuffle=True, random_state=self.random_state)
        starts = np.cumsum([0] + [len(p["outputs"]) for p in self.spec_["columns"]])
        dense = out.tolil() if sparse.issparse(out) else out
        for ci in self._te_columns():
            plan = self.spec_["columns"][ci]
            keys = as_keys(frame[plan["name"]])
            oof = np.empty((n, target.shape[1]))
            for tr, va in splitter.split(np.zeros(n), y):
                table, prior = _encode_lookup(keys[tr], target[tr], self.te_smoothing)
                oof[va] = _lookup(keys[va], table, prior)
            oof = (oof - np.asarray(plan["mean"])) / np.asarray(plan["scale"])
            if self.view == "linear":
                oof = np.clip(oof, -CLIP, CLIP)
            s = starts[ci]
            dense[:, s : s + oof.shape[1]] = oof
        return dense.tocsr() if sparse.issparse(out) else dense

    def transform(self, X: Any) -> Any:
        """The feature matrix: dense ``float64``, or CSR when the linear view holds text."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "spec_")
        frame = self._frame(X, reset=False)
        return self._transform(frame)

    def _transform(self, frame: pd.DataFrame) -> Any:
        return FeatureRuntime(self.spec_).transform(frame)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "spec_")
        return self.feature_names_out_

    def to_spec(self) -> dict[str, Any]:
        """The learned plan as JSON-ready data (what the bundle stores)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "spec_")
        return {
            **self.spec_,
            "categorical_indices": list(self.categorical_indices_),
            "n_outputs": len(self.feature_names_out_),
        }
