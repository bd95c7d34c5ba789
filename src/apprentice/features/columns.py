"""The transform of each column kind, for a column and for a single value, in one place.

A fitted feature spec (``apprentice.learn.features.FeaturePipeline.to_spec()``) holds one
plan per column. :func:`column` turns a plan into the transformer of its kind; each kind's
``transform`` (a column to a block of the feature matrix) and ``transform_value`` (one value
to the same row of that block) sit side by side and share the kind's reading of a value
(:mod:`apprentice.features.values`), its constants and its tables. The learn stage fits
plans and transforms training rows through these classes; the bundle replays the same plans
through them, so training and serving compute features with the same code.
"""

from __future__ import annotations

import abc
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from apprentice.errors import BundleError
from apprentice.features.values import (
    as_datetime,
    as_keys,
    as_numeric,
    as_text,
    category_key,
    date_parts,
    number,
    text_of,
    timestamp,
    timestamp_parts,
)

#: the feature kinds, in the order ``infer_kind`` tries them
KINDS: tuple[str, ...] = ("numeric", "boolean", "datetime", "categorical", "text")
#: the learner views of the same columns
VIEWS: tuple[str, ...] = ("tree", "linear")
#: the version of the spec format on disk
SPEC_VERSION = 1
#: the TF-IDF token pattern (scikit-learn's default)
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
TOKEN_RE = re.compile(TOKEN_PATTERN)
#: standardised values of the linear view are clipped to [-CLIP, CLIP]
CLIP = 10.0


def _clip(v: float) -> float:
    return CLIP if v > CLIP else -CLIP if v < -CLIP else v


class Column(abc.ABC):
    """One column of a spec: its plan, its output width and the view it serves."""

    def __init__(self, plan: Mapping[str, Any], linear: bool) -> None:
        self.plan = plan
        self.kind: str = str(plan["kind"])
        self.name: str = str(plan["name"])
        self.linear = linear
        self.width = len(plan["outputs"])

    @abc.abstractmethod
    def transform(self, series: pd.Series) -> Any:
        """The ``(n, width)`` block of a column (dense, or CSR for sparse text)."""

    @abc.abstractmethod
    def transform_value(self, value: Any, out: list[float]) -> None:
        """Append the ``width`` features of one value to ``out``."""


class NumericColumn(Column):
    """Numbers and booleans: as they are (tree); imputed, standardised, clipped (linear)."""

    def __init__(self, plan: Mapping[str, Any], linear: bool) -> None:
        super().__init__(plan, linear)
        self.median = float(plan["median"])
        self.mean = float(plan["mean"])
        self.scale = float(plan["scale"])
        self.indicator = bool(plan["indicator"])

    def transform(self, series: pd.Series) -> np.ndarray:
        values = as_numeric(series)
        if not self.linear:
            return values.reshape(-1, 1)
        missing = np.isnan(values)
        filled = np.where(missing, self.median, values)
        scaled = np.clip((filled - self.mean) / self.scale, -CLIP, CLIP)
        if self.indicator:
            return np.column_stack([scaled, missing.astype(float)])
        return scaled.reshape(-1, 1)

    def transform_value(self, value: Any, out: list[float]) -> None:
        x = number(value)
        if not self.linear:
            out.append(x)
            return
        missing = x != x
        out.append(_clip(((self.median if missing else x) - self.mean) / self.scale))
        if self.indicator:
            out.append(1.0 if missing else 0.0)


class DatetimeColumn(Column):
    """Calendar parts and elapsed days (tree); imputed, standardised and clipped (linear)."""

    def __init__(self, plan: Mapping[str, Any], linear: bool) -> None:
        super().__init__(plan, linear)
        self.parts: list[str] = list(plan["parts"])
        self.ref = int(plan["ref_ns"])
        self.medians = np.asarray(plan["median"], dtype=float)
        self.means = np.asarray(plan["mean"], dtype=float)
        self.scales = np.asarray(plan["scale"], dtype=float)
        self.median_list: list[float] = self.medians.tolist()
        self.mean_list: list[float] = self.means.tolist()
        self.scale_list: list[float] = self.scales.tolist()
        self.indicator = bool(plan["indicator"])

    def _finish(self, matrix: np.ndarray) -> np.ndarray:
        if not self.linear:
            return matrix
        missing = np.isnan(matrix).any(axis=1)
        filled = np.where(np.isnan(matrix), self.medians, matrix)
        scaled = np.clip((filled - self.means) / self.scales, -CLIP, CLIP)
        if self.indicator:
            scaled = np.column_stack([scaled, missing.astype(float)])
        return scaled

    def transform(self, series: pd.Series) -> np.ndarray:
        return self._finish(date_parts(as_datetime(series), self.parts, self.ref))

    def transform_value(self, value: Any, out: list[float]) -> None:
        parts = timestamp_parts(timestamp(value), self.parts, self.ref)
        if not self.linear:
            out.extend(parts)
            return
        missing = any(x != x for x in parts)
        for x, median, mean, scale in zip(
            parts, self.median_list, self.mean_list, self.scale_list, strict=True
        ):
            out.append(_clip(((median if x != x else x) - mean) / scale))
        if self.indicator:
            out.append(1.0 if missing else 0.0)


class CategoricalColumn(Column):
    """Categories as integer codes, one-hot columns, or a target/frequency encoding."""

    def __init__(self, plan: Mapping[str, Any], linear: bool) -> None:
        super().__init__(plan, linear)
        self.encoding: str = plan["encoding"]
        self.categories: list[str] = list(plan["categories"])
        self.index = {c: i for i, c in enumerate(self.categories)}
        self.lookup = pd.Index(self.categories, dtype=object)
        self.other = math.nan
        self.missing_column = False
        self.table = np.zeros((0, 0))
        if self.encoding == "codes":
            self.other = float(len(self.categories)) if plan["other"] else math.nan
        elif self.encoding == "onehot":
            self.missing_column = bool(plan["missing_column"])
        else:  # target or frequency: a table of values, the default in its last row
            values = np.asarray(plan["values"], dtype=float).reshape(len(self.categories), -1)
            default = np.asarray(plan["default"], dtype=float)
            table = np.vstack([values, default[None, :]])
            table = (table - np.asarray(plan["mean"])) / np.asarray(plan["scale"])
            self.table = np.clip(table, -CLIP, CLIP) if linear else table

    def codes(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Category positions (-1 when unknown or missing) and the missing mask of keys."""
        missing = np.fromiter((k is None for k in keys), dtype=bool, count=len(keys))
        return self.lookup.get_indexer(keys).astype(np.int64), missing

    def encode(self, keys: np.ndarray) -> np.ndarray:
        n = len(keys)
        codes, missing = self.codes(keys)
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

    def transform(self, series: pd.Series) -> np.ndarray:
        return self.encode(as_keys(series))

    def transform_value(self, value: Any, out: list[float]) -> None:
        key = category_key(value)
        i = self.index.get(key) if key is not None else None
        if self.encoding == "codes":
            out.append(math.nan if key is None else float(i) if i is not None else self.other)
        elif self.encoding == "onehot":
            vec = [0.0] * self.width
            if i is not None:
                vec[i] = 1.0
            elif key is None and self.missing_column:
                vec[-1] = 1.0
            out.extend(vec)
        else:
            out.extend(self.table[len(self.categories) if i is None else i].tolist())


class TextColumn(Column):
    """Characters and words (standardised in the linear view) plus a sublinear TF-IDF."""

    def __init__(self, plan: Mapping[str, Any], linear: bool) -> None:
        super().__init__(plan, linear)
        self.vocab = {t: i for i, t in enumerate(plan["vocabulary"])}
        self.idf = np.asarray(plan["idf"], dtype=float)
        self.ngram_max = int(plan["ngram_max"])
        self.sparse = bool(plan["sparse"])
        self.len_mean = np.asarray(plan["length_mean"], dtype=float)
        self.len_scale = np.asarray(plan["length_scale"], dtype=float)

    def tfidf(self, text: str) -> dict[int, float]:
        """Vocabulary position -> l2-normalised ``(1 + log tf) * idf`` of one text."""
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

    def _lengths(self, texts: list[str]) -> np.ndarray:
        lengths = np.array([[len(t), len(t.split())] for t in texts], dtype=float).reshape(-1, 2)
        return (lengths - self.len_mean) / self.len_scale

    def transform(self, series: pd.Series) -> Any:
        texts = as_text(series)
        lengths = self._lengths(texts)
        if not self.vocab:
            return lengths
        from scipy import sparse

        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, t in enumerate(texts):
            for j, w in self.tfidf(t).items():
                rows.append(i)
                cols.append(j)
                vals.append(w)
        tfidf = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)))
        if self.sparse:
            return sparse.hstack([sparse.csr_matrix(lengths), tfidf], format="csr")
        return np.column_stack([lengths, tfidf.toarray()])

    def transform_value(self, value: Any, out: list[float]) -> None:
        text = text_of(value)
        out.extend(self._lengths([text])[0].tolist())
        start = len(out)
        out.extend([0.0] * len(self.vocab))
        for j, w in self.tfidf(text).items():
            out[start + j] = w


_CLASSES: dict[str, type[Column]] = {
    "numeric": NumericColumn,
    "boolean": NumericColumn,
    "datetime": DatetimeColumn,
    "categorical": CategoricalColumn,
    "text": TextColumn,
}


def column(plan: Mapping[str, Any], linear: bool) -> Column:
    """The transformer of one plan of a feature spec."""
    cls = _CLASSES.get(str(plan.get("kind")))
    if cls is None:
        raise BundleError(f"the feature spec has a column of unknown kind {plan.get('kind')!r}")
    return cls(plan, linear)


def hstack(blocks: list[Any], n: int) -> Any:
    """Blocks side by side: dense float64, or CSR when any block is sparse."""
    if not blocks:
        return np.zeros((n, 0))
    if any(hasattr(b, "tocsr") for b in blocks):  # SciPy is imported only for sparse blocks
        from scipy import sparse

        return sparse.hstack(
            [b if sparse.issparse(b) else sparse.csr_matrix(b) for b in blocks], format="csr"
        )
    return np.column_stack(blocks).astype(np.float64, copy=False)


class FeatureRuntime:
    """Replays one view of a fitted feature spec, for a frame or for one record."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not isinstance(spec, Mapping) or spec.get("version") != SPEC_VERSION:
            raise BundleError(
                "the feature spec has an unsupported version; rebuild the bundle with this "
                "apprentice version"
            )
        self.view: str = str(spec["view"])
        linear = self.view == "linear"
        self.columns = [column(plan, linear) for plan in spec["columns"]]
        self.categorical_indices: list[int] = list(spec.get("categorical_indices", []))
        self.n_outputs = sum(c.width for c in self.columns)
        self.input_columns = [c.name for c in self.columns]
        self.sparse = any(
            isinstance(c, TextColumn) and c.sparse and bool(c.vocab) for c in self.columns
        )

    def transform(self, frame: pd.DataFrame) -> Any:
        """The feature matrix of a frame (absent columns count as missing values)."""
        n = len(frame)
        present = set(frame.columns)
        blocks = [
            col.transform(frame[col.name] if col.name in present else pd.Series([None] * n))
            for col in self.columns
        ]
        return hstack(blocks, n)

    def transform_row(self, row: Mapping[str, Any]) -> np.ndarray:
        """The ``(1, n_outputs)`` feature row of one record."""
        out: list[float] = []
        get = row.get
        for col in self.columns:
            col.transform_value(get(col.name), out)
        return np.asarray(out, dtype=np.float64).reshape(1, -1)
