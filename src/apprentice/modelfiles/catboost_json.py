"""The ``catboost`` kind: a CatBoost model of oblivious trees, with CatBoost's own categorical
handling (one-hot splits and ordered target statistics, the CTR tables), in CatBoost's JSON
model format (``model_<i>.cb.json``), loaded with ``CatBoost.load_model(format="json")`` from
the checked bytes, never pickle.

The JSON is parsed here first with caps (:func:`load_json`) and checked: the float and
categorical features cover the columns of the feature view exactly once; every tree is
oblivious with at most :data:`MAX_DEPTH` splits and ``2**depth`` leaves per output (one per
class for multiclass); every split names a float feature, categorical feature or CTR border
that exists; CTR definitions name categorical features that exist; CTR tables are whole
rows of their stride; every border, leaf value, scale and bias is a finite number; nothing
apprentice never writes (non-symmetric trees, text or embedding features) is present.

Predictions are CatBoost's raw scores (``RawFormulaVal``) turned into probabilities here
(logistic for binary, softmax for multiclass), the same way the learner does, so a loaded
model predicts exactly what the fitted model predicted. Categorical columns arrive as the
feature view's codes and are passed to CatBoost as whole numbers (missing: ``-1``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.modelfiles.base import (
    SMALL_BATCH,
    MemberContrib,
    ModelKind,
    Owner,
    StoredModel,
    binary_columns,
    outputs,
    refuse,
    softmax,
    tree_shap,
)
from apprentice.modelfiles.jsonfile import load_json
from apprentice.modelfiles.trees import MAX_FEATURES, float_list

MAX_CATBOOST_BYTES = 512 * 1024 * 1024
MAX_CATBOOST_VALUES = 64_000_000
MAX_DEPTH = 16
MAX_TREES = 1_000_000
MAX_STRIDE = 64
MISSING_CODE = -1
_TOP = {"ctr_data", "features_info", "model_info", "oblivious_trees", "scale_and_bias"}
_FEATURES = {"float_features", "categorical_features", "ctrs"}
_NAN_TREATMENT = {"AsIs", "AsFalse", "AsTrue"}
_CTR_TYPES = {
    "Borders",
    "Buckets",
    "Counter",
    "BinarizedTargetMeanValue",
    "FloatTargetMeanValue",
    "FeatureFreq",
}


def _index(name: str, where: str, value: Any, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < high:
        raise refuse(name, f"{where} = {str(value)[:20]} is outside 0..{high - 1}")
    return value


def _items(name: str, where: str, value: Any, limit: int = MAX_FEATURES) -> list[Any]:
    if not isinstance(value, list) or len(value) > limit:
        raise refuse(name, f"{where} is not a list of at most {limit:,} entries")
    if not all(isinstance(v, dict) for v in value):
        raise refuse(name, f"{where} holds an entry that is not an object")
    return value


def _check_features(name: str, info: Any, width: int) -> tuple[int, int, int]:
    """The features cover the view; returns the counts of float features, categorical
    features and CTR borders."""
    if not isinstance(info, dict) or set(info) - _FEATURES:
        raise refuse(name, "describes features apprentice never writes (text, embeddings)")
    floats = _items(name, "float_features", info.get("float_features", []))
    cats = _items(name, "categorical_features", info.get("categorical_features", []))
    flat: list[int] = []
    for i, feature in enumerate(floats):
        _index(name, f"float feature {i} feature_index", feature.get("feature_index"), i + 1)
        if feature["feature_index"] != i:
            raise refuse(name, f"float feature {i} is numbered {feature['feature_index']}")
        flat.append(_index(name, f"float feature {i}", feature.get("flat_feature_index"), width))
        borders = feature.get("borders", [])
        float_list(
            name,
            f"float feature {i} borders",
            borders,
            len(borders) if isinstance(borders, list) else -1,
        )
        if feature.get("nan_value_treatment", "AsIs") not in _NAN_TREATMENT:
            raise refuse(name, f"float feature {i} treats missing values in an unknown way")
    for i, feature in enumerate(cats):
        if feature.get("feature_index") != i:
            raise refuse(name, f"categorical feature {i} is numbered otherwise")
        flat.append(
            _index(name, f"categorical feature {i}", feature.get("flat_feature_index"), width)
        )
    if sorted(flat) != list(range(width)):
        raise refuse(name, f"does not describe each of the {width} features of its view once")
    ctr_borders = 0
    for i, ctr in enumerate(_items(name, "ctrs", info.get("ctrs", []))):
        if ctr.get("ctr_type") not in _CTR_TYPES:
            raise refuse(name, f"CTR {i} has an unknown type")
        for element in _items(name, f"CTR {i} elements", ctr.get("elements"), 64):
            if "cat_feature_index" in element:
                _index(name, f"CTR {i} cat_feature_index", element["cat_feature_index"], len(cats))
            if "float_feature_index" in element:
                _index(
                    name,
                    f"CTR {i} float_feature_index",
                    element["float_feature_index"],
                    len(floats),
                )
        borders = ctr.get("borders", [])
        size = len(borders) if isinstance(borders, list) else -1
        float_list(name, f"CTR {i} borders", borders, size)
        values = [ctr.get(k, 0) for k in ("prior_numerator", "prior_denomerator", "scale", "shift")]
        float_list(name, f"CTR {i} priors", values, 4)
        _index(name, f"CTR {i} target_border_idx", ctr.get("target_border_idx", 0), MAX_STRIDE)
        ctr_borders += size
    return len(floats), len(cats), ctr_borders


def _check_trees(name: str, trees: Any, dims: int, counts: tuple[int, int, int]) -> None:
    n_float, n_cat, n_ctr = counts
    for t, tree in enumerate(_items(name, "oblivious_trees", trees, MAX_TREES)):
        where = f"tree {t}"
        if set(tree) - {"leaf_values", "leaf_weights", "splits"}:
            raise refuse(name, f"{where} holds fields apprentice never writes")
        splits = _items(name, f"{where} splits", tree.get("splits"), MAX_DEPTH)
        leaves = 1 << len(splits)
        float_list(name, f"{where} leaf_values", tree.get("leaf_values"), leaves * dims)
        if "leaf_weights" in tree:
            float_list(name, f"{where} leaf_weights", tree["leaf_weights"], leaves)
        for split in splits:
            kind = split.get("split_type")
            if kind == "FloatFeature":
                _index(
                    name, f"{where} float_feature_index", split.get("float_feature_index"), n_float
                )
                float_list(name, f"{where} border", [split.get("border")], 1)
            elif kind == "OneHotFeature":
                _index(name, f"{where} cat_feature_index", split.get("cat_feature_index"), n_cat)
                value = split.get("value")
                if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
                    raise refuse(name, f"{where}: a one-hot split value is not a whole number")
            elif kind == "OnlineCtr":
                if n_ctr == 0:
                    raise refuse(name, f"{where}: a CTR split names no CTR")
                _index(
                    name,
                    f"{where} ctr_target_border_idx",
                    split.get("ctr_target_border_idx"),
                    MAX_STRIDE,
                )
                float_list(name, f"{where} border", [split.get("border")], 1)
            else:
                raise refuse(
                    name,
                    f"{where}: a split of type {str(kind)[:30]!r} is not one apprentice writes",
                )
            _index(name, f"{where} split_index", split.get("split_index"), MAX_FEATURES)


def _check_ctr_data(name: str, data: Any, n_cat: int) -> None:
    if not isinstance(data, dict):
        raise refuse(name, "has CTR tables that are not an object")
    if data and n_cat == 0:
        raise refuse(name, "has CTR tables but no categorical feature")
    for table in data.values():
        if not isinstance(table, dict):
            raise refuse(name, "has a CTR table that is not an object")
        stride = table.get("hash_stride", 0)
        _index(name, "a CTR table's hash_stride", stride, MAX_STRIDE)
        values = table.get("hash_map", [])
        if stride < 2 or not isinstance(values, list) or len(values) % stride:
            raise refuse(name, "has a CTR table that is not whole rows of its stride")
        hashes = values[::stride]
        if not all(
            isinstance(h, str) and h.isdigit() and len(h) <= 20 and int(h) < 2**64 for h in hashes
        ):
            raise refuse(name, "has a CTR table whose keys are not 64-bit hashes")
        counts = [v for i, v in enumerate(values) if i % stride]
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**31 for v in counts
        ):
            raise refuse(name, "has a CTR table whose counts are not whole numbers")
        denominator = table.get("counter_denominator", 0)
        if (
            isinstance(denominator, bool)
            or not isinstance(denominator, int)
            or not 0 <= denominator < 2**62
        ):
            raise refuse(name, "has a CTR table with a bad denominator")


def check_catboost_json(data: bytes, name: str, *, task: str, n_classes: int, width: int) -> None:
    """Refuse a CatBoost JSON model that is not one apprentice writes for the task and a view
    of ``width`` features (see the module docstring)."""
    doc = load_json(data, name, max_bytes=MAX_CATBOOST_BYTES, max_values=MAX_CATBOOST_VALUES)
    if not isinstance(doc, dict) or set(doc) - _TOP or "oblivious_trees" not in doc:
        raise refuse(name, "is not a CatBoost model of oblivious trees")
    info = doc.get("model_info", {})
    if not isinstance(info, dict):
        raise refuse(name, "has model_info that is not an object")
    dims = outputs(task, n_classes)
    counts = _check_features(name, doc.get("features_info"), width)
    _check_trees(name, doc["oblivious_trees"], dims, counts)
    _check_ctr_data(name, doc.get("ctr_data", {}), counts[1])
    scale_bias = doc.get("scale_and_bias")
    if not (isinstance(scale_bias, list) and len(scale_bias) == 2):
        raise refuse(name, "has no scale and bias")
    float_list(name, "scale", [scale_bias[0]], 1)
    bias = scale_bias[1] if isinstance(scale_bias[1], list) else [scale_bias[1]]
    float_list(name, "bias", bias, dims if len(bias) != 1 else 1)


def catboost_rows(X: Any, categorical: list[int]) -> Any:
    """The feature matrix as CatBoost takes it: categorical codes as whole numbers."""
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X, dtype=float)
    if not categorical:
        return X
    rows = X.astype(object)
    for j in categorical:
        column = X[:, j]
        rows[:, j] = np.where(np.isnan(column), MISSING_CODE, column).astype(np.int64)
    return rows


def catboost_output(raw: Any, task: str) -> np.ndarray:
    """Probabilities (or values) from CatBoost's raw scores."""
    raw = np.asarray(raw, dtype=float)
    if task == "regression":
        return raw.ravel()
    if task == "binary":
        return binary_columns(1.0 / (1.0 + np.exp(-raw.ravel())))
    return softmax(raw.reshape(raw.shape[0], -1))


class CatBoostModel(StoredModel):
    kind = "catboost"

    def __init__(self, task: str, n_classes: int, model: Any) -> None:
        super().__init__(task, n_classes)
        self.catboost = model
        self.categorical = [int(i) for i in model.get_cat_feature_indices()]

    def predict(self, X: Any) -> np.ndarray:
        threads = 1 if X.shape[0] <= SMALL_BATCH else -1
        rows = catboost_rows(X, self.categorical)
        raw = self.catboost.predict(rows, prediction_type="RawFormulaVal", thread_count=threads)
        return catboost_output(raw, self.task)

    def contributions(self, X: Any, owner: Owner) -> MemberContrib:
        from catboost import Pool

        pool = Pool(catboost_rows(X, self.categorical), cat_features=self.categorical or None)
        threads = 1 if X.shape[0] <= SMALL_BATCH else -1
        raw = self.catboost.get_feature_importance(pool, type="ShapValues", thread_count=threads)
        return tree_shap(np.asarray(raw).reshape(X.shape[0], -1), self.task, self.n_classes, owner)


def load_catboost_json(data: bytes) -> Any:
    """A CatBoost model from JSON bytes (CatBoost reads JSON from a file only: a private
    temporary copy of exactly these bytes)."""
    from catboost import CatBoost

    handle, path = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        model = CatBoost()
        model.load_model(path, format="json")
    finally:
        os.unlink(path)
    return model


class CatBoostKind(ModelKind):
    name = "catboost"
    suffix = ".cb.json"
    max_bytes = MAX_CATBOOST_BYTES
    libraries = ("catboost",)
    label = "CatBoost"
    build_errors = (Exception,)  # CatBoostError on a model its loader refuses

    def write(self, member: Mapping[str, Any], path: Path) -> None:
        path.write_text(member["model_json"], encoding="utf-8")

    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> bytes:
        check_catboost_json(data, name, task=task, n_classes=n_classes, width=width)
        return data

    def build(self, checked: Any, task: str, n_classes: int) -> CatBoostModel:
        return CatBoostModel(task, n_classes, load_catboost_json(checked))
