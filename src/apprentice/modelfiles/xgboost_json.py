"""The ``xgboost`` kind: an XGBoost ``gbtree`` booster in XGBoost's own JSON model format
(``model_<i>.xgb.json``), loaded with ``Booster.load_model`` from the checked bytes, never
pickle.

XGBoost's C++ loader trusts the arrays it reads (a child or split index out of range reads
outside them), so the JSON is parsed here first with caps (:func:`load_json`) and checked:
the learner's class, feature and target counts equal what the manifest and the feature view
say; the objective is the one apprentice trains for the task; every tree has ``num_nodes``
entries in each array, children in range and after their parent with one parent each (a
tree, no cycle), the recorded parents agree, split features in range, no categorical split
(apprentice trains on numeric codes), finite split conditions and leaf values; the tree list,
``tree_info`` and ``iteration_indptr`` agree. Contributions are XGBoost's exact TreeSHAP on
the raw score (``pred_contribs=True``).
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
from apprentice.modelfiles.jsonfile import load_json
from apprentice.modelfiles.trees import (
    MAX_CLASSES,
    MAX_FEATURES,
    MAX_LEAVES,
    check_edges,
    float_list,
    int_list,
    whole,
)

MAX_XGBOOST_BYTES = 512 * 1024 * 1024
MAX_XGBOOST_VALUES = 64_000_000
MAX_TREES = 1_000_000
#: the objective apprentice trains for each task
OBJECTIVES = {"binary": "binary:logistic", "multiclass": "multi:softprob"}
REGRESSION = "reg:squarederror"
ROOT_PARENT = 2147483647
_NUMBER = re.compile(r"^\[?(-?[0-9.]+(?:[eE][-+]?[0-9]+)?(?:,-?[0-9.]+(?:[eE][-+]?[0-9]+)?)*)\]?$")


def _field(name: str, node: Any, key: str, where: str) -> Any:
    if not isinstance(node, dict) or key not in node:
        raise refuse(name, f"has no {where}{key}")
    return node[key]


def _check_tree(name: str, index: int, tree: Any, width: int) -> None:
    where = f"tree {index}"
    param = _field(name, tree, "tree_param", f"{where} ")
    n = whole(name, f"{where} num_nodes", str(_field(name, param, "num_nodes", "")), 1, MAX_LEAVES)
    features = whole(name, f"{where} num_feature", str(param.get("num_feature")), 0, MAX_FEATURES)
    if features != width:
        raise refuse(name, f"{where} expects {features} features where its view makes {width}")
    if str(param.get("size_leaf_vector", "1")) not in ("0", "1"):
        raise refuse(name, f"{where} has vector leaves, which apprentice never writes")
    if tree.get("id") != index:
        raise refuse(name, f"{where} is numbered {str(tree.get('id'))[:20]}")
    left = int_list(name, f"{where} left_children", tree.get("left_children"), n, -1, n - 1)
    right = int_list(name, f"{where} right_children", tree.get("right_children"), n, -1, n - 1)
    parents = int_list(name, f"{where} parents", tree.get("parents"), n, 0, ROOT_PARENT)
    split = int_list(name, f"{where} split_indices", tree.get("split_indices"), n, 0, 2**31 - 1)
    kinds = int_list(name, f"{where} split_type", tree.get("split_type"), n, 0, 1)
    int_list(name, f"{where} default_left", tree.get("default_left"), n, 0, 1)
    for key in ("split_conditions", "base_weights", "loss_changes", "sum_hessian"):
        float_list(name, f"{where} {key}", tree.get(key), n)
    if np.any(kinds != 0) or any(tree.get(k) for k in ("categories", "categories_nodes")):
        raise refuse(name, f"{where} has a categorical split, which apprentice never writes")
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise refuse(name, f"{where}: a node has one child")
    inner = np.flatnonzero(~leaf)
    if len(inner) and (split[inner].max() >= width):
        raise refuse(name, f"{where}: a split feature is outside 0..{width - 1}")
    children = np.concatenate([left[inner], right[inner]])
    check_edges(name, where, children, np.concatenate([inner, inner]), n)
    if parents[0] != ROOT_PARENT or np.any(parents[children] != np.concatenate([inner, inner])):
        raise refuse(name, f"{where}: its parents do not match its children")


def check_xgboost_json(data: bytes, name: str, *, task: str, n_classes: int, width: int) -> None:
    """Refuse an XGBoost JSON model whose counts, indices or sizes are not what they must be
    for the task and a view of ``width`` features (see the module docstring)."""
    doc = load_json(data, name, max_bytes=MAX_XGBOOST_BYTES, max_values=MAX_XGBOOST_VALUES)
    version = _field(name, doc, "version", "")
    if not (isinstance(version, list) and len(version) == 3 and version[0] in (2, 3)):
        raise refuse(name, "is not an XGBoost 2 or 3 model")
    learner = _field(name, doc, "learner", "")
    param = _field(name, learner, "learner_model_param", "")
    k = outputs(task, n_classes)
    num_class = whole(name, "num_class", str(param.get("num_class")), 0, MAX_CLASSES)
    if num_class != (n_classes if task == "multiclass" else 0):
        raise refuse(name, f"says num_class={num_class} for a {task} task of {n_classes}")
    if whole(name, "num_feature", str(param.get("num_feature")), 0, MAX_FEATURES) != width:
        raise refuse(name, f"expects {param.get('num_feature')} features; its view makes {width}")
    if str(param.get("num_target", "1")) != "1":
        raise refuse(name, "has several targets, which apprentice never writes")
    base = _NUMBER.match(str(param.get("base_score", "")))
    if base is None or not np.all(np.isfinite(np.array(base.group(1).split(","), dtype=float))):
        raise refuse(name, "has a base score that is not a finite number")
    objective = _field(name, learner, "objective", "")
    expected = OBJECTIVES.get(task, REGRESSION)
    if not isinstance(objective, dict) or objective.get("name") != expected:
        raise refuse(name, f"has the objective {str(objective)[:40]!r}, not {expected!r}")
    for key in ("feature_names", "feature_types"):
        listed = learner.get(key, [])
        if not isinstance(listed, list) or len(listed) not in (0, width):
            raise refuse(name, f"{key} does not name {width} features")
    if "c" in learner.get("feature_types", []):
        raise refuse(name, "has categorical features, which apprentice never writes")
    booster = _field(name, learner, "gradient_booster", "")
    if booster.get("name") != "gbtree":
        raise refuse(name, f"is a {str(booster.get('name'))[:20]!r} booster, not gbtree")
    model = _field(name, booster, "model", "the booster's ")
    _check_forest(name, model, k, width)


def _check_forest(name: str, model: Any, k: int, width: int) -> None:
    param = _field(name, model, "gbtree_model_param", "")
    trees = _field(name, model, "trees", "")
    count = whole(name, "num_trees", str(param.get("num_trees")), 0, MAX_TREES)
    if not isinstance(trees, list) or len(trees) != count:
        raise refuse(name, f"says num_trees={count} but holds another number of trees")
    if str(param.get("num_parallel_tree", "1")) != "1":
        raise refuse(name, "grows forests per round, which apprentice never writes")
    info = int_list(name, "tree_info", model.get("tree_info"), count, 0, k - 1)
    if count % k or np.any(info != np.arange(count) % k):
        raise refuse(name, f"does not grow one tree per output ({k}) each round")
    if "iteration_indptr" in model:
        rounds = count // k + 1
        indptr = int_list(name, "iteration_indptr", model["iteration_indptr"], rounds, 0, count)
        if np.any(indptr != np.arange(rounds) * k):
            raise refuse(name, "has iteration_indptr that does not match its trees")
    cats = model.get("cats", {})
    if not isinstance(cats, dict) or any(cats.get(key) for key in cats):
        raise refuse(name, "carries category encodings, which apprentice never writes")
    for i, tree in enumerate(trees):
        _check_tree(name, i, tree, width)


class XGBoostModel(StoredModel):
    kind = "xgboost"

    def __init__(self, task: str, n_classes: int, booster: Any) -> None:
        super().__init__(task, n_classes)
        self.booster = booster
        self.nthread = -1

    def _threads(self, n: int) -> int:
        """One thread for small batches (thread start-up costs more than it saves), all for
        large ones; the booster's setting changes only when the batch size class does."""
        threads = 1 if n <= SMALL_BATCH else 0
        if threads != self.nthread:
            self.booster.set_param({"nthread": threads})
            self.nthread = threads
        return threads

    def predict(self, X: Any) -> np.ndarray:
        self._threads(X.shape[0])
        raw = self.booster.inplace_predict(X)
        if self.task == "binary":
            return binary_columns(raw)
        return np.asarray(raw, dtype=float)

    def contributions(self, X: Any, owner: Owner) -> MemberContrib:
        import xgboost as xgb

        threads = self._threads(X.shape[0])
        raw = self.booster.predict(xgb.DMatrix(X, nthread=threads or None), pred_contribs=True)
        return tree_shap(np.asarray(raw).reshape(X.shape[0], -1), self.task, self.n_classes, owner)


class XGBoostKind(ModelKind):
    name = "xgboost"
    suffix = ".xgb.json"
    max_bytes = MAX_XGBOOST_BYTES
    libraries = ("xgboost", "xgboost-cpu")
    label = "XGBoost"
    build_errors = (Exception,)  # XGBoostError on a model its loader refuses

    def write(self, member: Mapping[str, Any], path: Path) -> None:
        path.write_text(member["model_json"], encoding="utf-8")

    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> bytes:
        check_xgboost_json(data, name, task=task, n_classes=n_classes, width=width)
        return data

    def build(self, checked: Any, task: str, n_classes: int) -> XGBoostModel:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(checked))
        return XGBoostModel(task, n_classes, booster)
