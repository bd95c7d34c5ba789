"""The ``lightgbm`` kind: a LightGBM booster in its native text format (``model_<i>.txt``).

LightGBM's C++ parser trusts its input (a child index out of range reads outside an array, a
wrong ``tree_sizes`` aborts the process, a huge class count allocates without bound), so the
text is checked here first, in plain Python and numpy: header counts equal to what the
manifest and the feature view say, ``tree_sizes`` exact, every node, feature, leaf and
category index in range, each tree a tree (every node has one parent, children after
parents: no cycle), no NaN threshold (:func:`check_lightgbm_text`). Contributions are
LightGBM's own exact TreeSHAP on the raw score. The model runs in LightGBM's C library without
the ``lightgbm`` Python package (:mod:`apprentice.modelfiles.lightgbm_capi` says why).
"""

from __future__ import annotations

import re
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
    tree_shap,
)
from apprentice.modelfiles.lightgbm_capi import Booster, LightGBMCallError
from apprentice.modelfiles.trees import (
    MAX_CLASSES,
    MAX_FEATURES,
    MAX_LEAVES,
    check_edges,
    count_of,
    numbers,
    whole,
    wholes,
)

MAX_LIGHTGBM_BYTES = 512 * 1024 * 1024

_TREE_RE = re.compile(r"^Tree=", re.M)
_HEADER_REQUIRED = (
    "version",
    "num_class",
    "num_tree_per_iteration",
    "max_feature_idx",
    "objective",
)


def _lines(name: str, block: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in block.split("\n"):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise refuse(name, f"{where}: the line {line[:40]!r} is not key=value")
        if key in out:
            raise refuse(name, f"{where}: the key {key[:40]!r} appears twice")
        out[key] = value
    return out


def _check_lightgbm_tree(name: str, index: int, block: str, n_features: int) -> None:
    where = f"tree {index}"
    head, _, body = block.partition("\n")
    if head.strip() != f"Tree={index}":
        raise refuse(name, f"{where}: starts with {head[:40]!r}, not Tree={index}")
    fields = _lines(name, body, where)
    leaves = whole(name, f"{where} num_leaves", fields.get("num_leaves"), 1, MAX_LEAVES)
    inner = leaves - 1
    num_cat = whole(name, f"{where} num_cat", fields.get("num_cat"), 0, inner)
    if fields.get("is_linear", "0").strip() != "0":
        raise refuse(name, f"{where} is a linear tree, which apprentice never writes")
    leaf_value = numbers(name, f"{where} leaf_value", fields.get("leaf_value"), leaves)
    if not np.all(np.isfinite(leaf_value)):
        raise refuse(name, f"{where} has a leaf value that is not a finite number")
    # statistics prediction never reads: LightGBM parses them by count, so counts must hold
    for key in ("leaf_weight", "leaf_count"):
        if fields.get(key, "").strip():
            count_of(name, f"{where} {key}", fields[key], leaves)
    for key in ("split_gain", "internal_value", "internal_weight", "internal_count"):
        if fields.get(key, "").strip() or inner:
            count_of(name, f"{where} {key}", fields.get(key), inner)
    numbers(name, f"{where} shrinkage", fields.get("shrinkage", "1"), 1)
    feature = wholes(name, f"{where} split_feature", fields.get("split_feature"), inner)
    decision = wholes(name, f"{where} decision_type", fields.get("decision_type"), inner)
    left = wholes(name, f"{where} left_child", fields.get("left_child"), inner)
    right = wholes(name, f"{where} right_child", fields.get("right_child"), inner)
    threshold_text = fields.get("threshold")
    if inner == 0:
        return
    if feature.min() < 0 or feature.max() >= n_features:
        raise refuse(name, f"{where}: a split feature is outside 0..{n_features - 1}")
    if decision.min() < 0 or decision.max() > 15 or np.any(((decision >> 2) & 3) > 2):
        raise refuse(name, f"{where}: a decision type is not one LightGBM writes")
    threshold = numbers(name, f"{where} threshold", threshold_text, inner)
    if np.any(np.isnan(threshold)):
        raise refuse(name, f"{where}: a threshold is NaN")
    categorical = (decision & 1) == 1
    if np.any(categorical):
        cats = threshold[categorical]
        if (
            num_cat == 0
            or np.any(cats != np.floor(cats))
            or cats.min() < 0
            or cats.max() >= num_cat
        ):
            raise refuse(name, f"{where}: a categorical split names no category set")
        bounds = wholes(name, f"{where} cat_boundaries", fields.get("cat_boundaries"), num_cat + 1)
        words = (fields.get("cat_threshold") or "").split()
        if bounds[0] != 0 or np.any(np.diff(bounds) < 0) or bounds[-1] != len(words):
            raise refuse(name, f"{where}: cat_boundaries do not match cat_threshold")
        values = wholes(name, f"{where} cat_threshold", fields.get("cat_threshold"), len(words))
        if len(values) and (values.min() < 0 or values.max() >= 2**32):
            raise refuse(name, f"{where}: a category bit set is out of range")
    elif num_cat:
        raise refuse(name, f"{where}: num_cat is {num_cat} but no split is categorical")
    # nodes: internal 0..inner-1, then leaf j as inner + j
    for side in (left, right):
        if np.any(side >= inner) or np.any(side < -leaves):
            raise refuse(name, f"{where}: a child index is out of range")
    ids = np.arange(inner, dtype=np.int64)
    children = np.concatenate([left, right])
    children = np.where(children >= 0, children, inner + ~children)
    check_edges(name, where, children, np.concatenate([ids, ids]), inner + leaves)


def check_lightgbm_text(text: str, name: str, *, n_classes: int, n_features: int) -> None:
    """Refuse a LightGBM text model whose counts, indices or sizes are not what they must be.

    ``n_classes`` is what the booster must output per row (1 for binary and regression) and
    ``n_features`` the width of the feature view the model predicts from.
    """
    if "\x00" in text or "\r" in text:
        raise refuse(name, "holds a NUL or carriage-return byte LightGBM never writes")
    if not text.startswith("tree\n"):
        raise refuse(name, "does not start like a LightGBM model")
    first = _TREE_RE.search(text)
    end = text.find("\nend of trees")
    if end < 0:
        raise refuse(name, "has no 'end of trees' line (truncated?)")
    header_end = first.start() if first is not None and first.start() < end else end
    header = _lines(name, text[5:header_end], "the header")
    missing = [k for k in _HEADER_REQUIRED if k not in header]
    if missing:
        raise refuse(name, f"lacks the header line(s) {', '.join(missing)}")
    if header["version"].strip() not in ("v2", "v3", "v4"):
        raise refuse(name, f"has the unknown model version {header['version'][:20]!r}")
    num_class = whole(name, "num_class", header["num_class"], 1, MAX_CLASSES)
    if num_class != n_classes:
        raise refuse(name, f"says num_class={num_class} where the manifest needs {n_classes}")
    per_iter = whole(
        name, "num_tree_per_iteration", header["num_tree_per_iteration"], 1, MAX_CLASSES
    )
    if per_iter != num_class:
        raise refuse(name, f"grows {per_iter} trees per iteration for {num_class} class(es)")
    max_feature = whole(name, "max_feature_idx", header["max_feature_idx"], 0, MAX_FEATURES)
    if max_feature + 1 != n_features:
        raise refuse(
            name, f"expects {max_feature + 1} features where its feature view makes {n_features}"
        )
    if "label_index" in header:
        whole(name, "label_index", header["label_index"], 0, MAX_FEATURES)
    for key in ("feature_names", "feature_infos"):
        if key in header and len(header[key].split()) != n_features:
            raise refuse(name, f"{key} does not name {n_features} features")
    for token in header["objective"].split()[1:]:
        option, _, value = token.partition(":")
        if option == "num_class" and value != str(num_class):
            raise refuse(name, "its objective names another number of classes")
        if len(value) > 64:
            raise refuse(name, "its objective holds an overlong option")
    starts = [m.start() for m in _TREE_RE.finditer(text, 0, end + 1)]
    bounds = [*starts, end + 1]
    if len(starts) % num_class:
        raise refuse(name, f"holds {len(starts)} trees, not a multiple of {num_class}")
    if "tree_sizes" in header:
        sizes = wholes(name, "tree_sizes", header["tree_sizes"], len(starts))
        actual = np.diff(np.asarray(bounds, dtype=np.int64))
        if not np.array_equal(sizes, actual):
            raise refuse(name, "has tree_sizes that do not match its trees")
    for i, start in enumerate(starts):
        _check_lightgbm_tree(name, i, text[start : bounds[i + 1]], n_features)
    _check_lightgbm_tail(name, text[end + 1 :])


def _check_lightgbm_tail(name: str, tail: str) -> None:
    lines = tail.split("\n")
    if lines[0] != "end of trees":
        raise refuse(name, "does not close its trees")
    rest = [line for line in lines[1:] if line.strip()]
    if rest and rest[-1].startswith("pandas_categorical:"):
        value = rest.pop()[len("pandas_categorical:") :]
        if value.strip() != "null":
            raise refuse(name, "carries pandas categories, which apprentice never writes")
    section = ""
    for line in rest:
        if line in ("feature_importances:", "parameters:", "end of parameters"):
            section = line
            continue
        if section == "parameters:" and not re.fullmatch(
            r"\[[a-z_0-9]{1,64}: [^\n]{0,4096}\]", line
        ):
            raise refuse(name, f"has a parameter line {line[:40]!r} LightGBM does not write")
        if section == "end of parameters":
            raise refuse(name, "holds text after its parameters")
        if section == "":
            raise refuse(name, f"holds the unexpected line {line[:40]!r} after its trees")


class LightGBMModel(StoredModel):
    kind = "lightgbm"

    def __init__(self, task: str, n_classes: int, booster: Booster) -> None:
        super().__init__(task, n_classes)
        self.booster = booster

    def predict(self, X: Any) -> np.ndarray:
        # one thread for small batches: thread start-up costs more than it saves
        raw = self.booster.predict(X, num_threads=1 if X.shape[0] <= SMALL_BATCH else 0)
        if self.task == "binary":
            return binary_columns(raw)
        return np.asarray(raw, dtype=float)

    def contributions(self, X: Any, owner: Owner) -> MemberContrib:
        threads = 1 if X.shape[0] <= SMALL_BATCH else 0
        raw = self.booster.contributions(X, num_threads=threads)
        return tree_shap(raw, self.task, self.n_classes, owner)


class LightGBMKind(ModelKind):
    name = "lightgbm"
    suffix = ".txt"
    max_bytes = MAX_LIGHTGBM_BYTES
    libraries = ("lightgbm",)
    label = "LightGBM"
    build_errors = (LightGBMCallError,)  # LightGBM's parser refused the text

    def write(self, member: Mapping[str, Any], path: Path) -> None:
        path.write_text(member["model_text"], encoding="utf-8")

    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> str:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise refuse(name, "is not UTF-8 text") from None
        check_lightgbm_text(text, name, n_classes=outputs(task, n_classes), n_features=width)
        return text

    def build(self, checked: Any, task: str, n_classes: int) -> LightGBMModel:
        return LightGBMModel(task, n_classes, Booster(checked))
