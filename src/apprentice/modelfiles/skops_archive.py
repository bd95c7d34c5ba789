"""The checks of a skops file before anything in it is built: zip members and their declared
sizes (no zip bomb), every ``.npy`` header consistent with its size, no shared object id with
two meanings, and the arrays of every scikit-learn ``Tree`` and histogram-gradient-boosting
``TreePredictor`` checked like LightGBM's (children in range, after their parent, one parent
each; features in range; no NaN threshold) (:func:`check_skops_archive`). scikit-learn's
Cython tree walkers trust these arrays: an index out of range reads or writes outside them.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from apprentice.modelfiles.base import refuse
from apprentice.modelfiles.jsonfile import load_json
from apprentice.modelfiles.trees import MAX_FEATURES, check_edges

MAX_SKOPS_MEMBERS = 200_000
MAX_SKOPS_BYTES = 4 * 1024**3
MAX_SKOPS_FILE_BYTES = 2 * 1024**3
MAX_SKOPS_RATIO = 200
SKOPS_SMALL_MEMBER = 1024 * 1024
MAX_SKOPS_SCHEMA_BYTES = 64 * 1024 * 1024
MAX_SKOPS_DEPTH = 200

# a damaged member surfaces as any of these (zlib.error from a corrupt deflate stream)
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error)


class _Archive:
    """A skops zip opened with every member's declared size checked."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (*_ZIP_ERRORS, NotImplementedError) as exc:  # e.g. "zip file version 6.4"
            raise refuse(name, f"is not a valid skops file ({type(exc).__name__})") from None
        if len(infos) > MAX_SKOPS_MEMBERS:
            raise refuse(self.name, f"holds {len(infos):,} members")
        total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self.infos:
                raise refuse(self.name, f"holds the member {info.filename[:40]!r} twice")
            if info.flag_bits & 0x1:
                raise refuse(self.name, "holds an encrypted member")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise refuse(self.name, "uses a compression apprentice does not write")
            limit = max(SKOPS_SMALL_MEMBER, MAX_SKOPS_RATIO * info.compress_size)
            if info.file_size > limit:
                raise refuse(
                    self.name,
                    f"member {info.filename[:40]!r} would decompress to {info.file_size:,} bytes "
                    f"from {info.compress_size:,} (a zip bomb)",
                )
            total += info.file_size
            self.infos[info.filename] = info
        if total > MAX_SKOPS_BYTES:
            raise refuse(self.name, f"would decompress to {total:,} bytes in all")
        if "schema.json" not in self.infos:
            raise refuse(self.name, "is not a valid skops file (no schema.json)")

    def read(self, member: str) -> bytes:
        try:
            return self.zip.read(self.infos[member])
        except KeyError:
            raise refuse(
                self.name, f"refers to the member {member[:40]!r} it does not hold"
            ) from None
        except (*_ZIP_ERRORS, NotImplementedError) as exc:
            raise refuse(
                self.name, f"member {member[:40]!r} is damaged ({type(exc).__name__})"
            ) from None

    def check_npy(self, member: str) -> tuple[tuple[int, ...], np.dtype]:
        """The header of a ``.npy`` member, consistent with the member's size."""
        info = self.infos.get(member)
        if info is None:
            raise refuse(self.name, f"refers to the member {member[:40]!r} it does not hold")
        try:
            with self.zip.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                elif version == (2, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
                else:
                    raise ValueError(version)
                offset = handle.tell()
        except (*_ZIP_ERRORS, SyntaxError) as exc:
            raise refuse(
                self.name, f"member {member[:40]!r} is not a numpy array ({type(exc).__name__})"
            ) from None
        if dtype.hasobject:
            raise refuse(self.name, f"member {member[:40]!r} holds Python objects")
        count = math.prod(int(s) for s in shape)
        if count * dtype.itemsize != info.file_size - offset:
            raise refuse(
                self.name, f"member {member[:40]!r} declares a shape its data does not fill"
            )
        return tuple(int(s) for s in shape), dtype

    def array(self, member: str) -> np.ndarray:
        self.check_npy(member)
        try:
            return np.asarray(np.load(io.BytesIO(self.read(member)), allow_pickle=False))
        except _ZIP_ERRORS as exc:
            raise refuse(
                self.name, f"member {member[:40]!r} is not a numpy array ({type(exc).__name__})"
            ) from None


def _ident(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _iter_nodes(schema: Any) -> Any:
    """Every dict in the schema, iteratively (the depth was capped on reading)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


class _Schema:
    """The schema of a skops file, read the way skops reads it.

    skops builds one object per ``__id__`` (the first node it meets with that id; later ones,
    and ``CachedNode`` references, reuse it). So wherever the checks read a node, every node
    sharing its id must say the same thing, or the file is refused: what is checked is then
    what skops builds, whichever node it meets first.
    """

    def __init__(self, archive: _Archive, schema: Any) -> None:
        self.archive = archive
        self.name = archive.name
        self.by_id: dict[Any, list[dict[str, Any]]] = {}
        self.consistent: dict[str, bool] = {}
        for node in _iter_nodes(schema):
            if "__loader__" not in node or node.get("__loader__") == "CachedNode":
                continue
            ident = node.get("__id__")
            if ident is not None:
                self.by_id.setdefault(_ident(ident), []).append(node)

    def resolve(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        ident = node.get("__id__")
        others = self.by_id.get(_ident(ident), []) if ident is not None else []
        if node.get("__loader__") == "CachedNode":
            if not others:
                raise refuse(self.name, "refers to an object it does not hold")
            node = others[0]
        if len(others) > 1 or (others and others[0] is not node):
            key = _ident(ident)
            if key not in self.consistent:
                bodies = {json.dumps(o, sort_keys=True) for o in others}
                self.consistent[key] = len(bodies) == 1
            if not self.consistent[key]:
                raise refuse(self.name, f"gives the object id {str(ident)[:24]} two meanings")
        return node

    def scalar(self, node: Any, where: str) -> Any:
        node = self.resolve(node)
        if not isinstance(node, dict) or node.get("__loader__") != "JsonNode":
            raise refuse(self.name, f"{where} is not a plain value")
        content = node.get("content")
        if not isinstance(content, str) or len(content) > 64:
            raise refuse(self.name, f"{where} is not a plain value")
        try:
            return json.loads(content)
        except (json.JSONDecodeError, RecursionError):
            raise refuse(self.name, f"{where} is not a plain value") from None

    def integer(self, node: Any, where: str, low: int, high: int) -> int:
        value = self.scalar(node, where)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise refuse(self.name, f"{where} = {str(value)[:20]} is outside {low}..{high}")
        return value

    def array(self, node: Any, where: str) -> np.ndarray:
        node = self.resolve(node)
        if (
            not isinstance(node, dict)
            or node.get("__loader__") != "NdArrayNode"
            or node.get("type") != "numpy"
            or not isinstance(node.get("file"), str)
        ):
            raise refuse(self.name, f"{where} is not a stored numpy array")
        return self.archive.array(node["file"])

    def state(self, node: dict[str, Any], where: str) -> dict[str, Any]:
        content = node.get("content")
        if isinstance(content, dict) and isinstance(content.get("content"), dict):
            return dict(content["content"])
        raise refuse(self.name, f"{where} has no readable state")


_SK_NODE = np.dtype(
    {
        "names": [
            "left_child",
            "right_child",
            "feature",
            "threshold",
            "impurity",
            "n_node_samples",
            "weighted_n_node_samples",
            "missing_go_to_left",
        ],
        "formats": ["<i8", "<i8", "<i8", "<f8", "<f8", "<i8", "<f8", "u1"],
        "offsets": [0, 8, 16, 24, 32, 40, 48, 56],
        "itemsize": 64,
    }
)
_HGB_NODE = np.dtype(
    [
        ("value", "<f8"),
        ("count", "<u4"),
        ("feature_idx", "<i8"),
        ("num_threshold", "<f8"),
        ("missing_go_to_left", "u1"),
        ("left", "<u4"),
        ("right", "<u4"),
        ("gain", "<f8"),
        ("depth", "<u4"),
        ("is_leaf", "u1"),
        ("bin_threshold", "u1"),
        ("is_categorical", "u1"),
        ("bitset_idx", "<u4"),
    ]
)


def _check_sklearn_tree(
    s: _Schema, node: dict[str, Any], where: str, n_features: int, n_classes: int
) -> None:
    reduce = node.get("__reduce__")
    args = s.resolve(reduce.get("args")) if isinstance(reduce, dict) else None
    items = args.get("content") if isinstance(args, dict) else None
    if not isinstance(items, list) or len(items) != 3:
        raise refuse(s.name, f"{where} is not built the way scikit-learn builds a tree")
    width = s.integer(items[0], f"{where} n_features", 1, MAX_FEATURES)
    if width != n_features:
        raise refuse(s.name, f"{where} expects {width} features where its view makes {n_features}")
    classes = s.array(items[1], f"{where} n_classes")
    outputs = s.integer(items[2], f"{where} n_outputs", 1, 1)
    if classes.shape != (outputs,) or classes.dtype.kind not in "iu":
        raise refuse(s.name, f"{where} n_classes is not one count per output")
    if classes.min() < 1 or classes.max() > max(n_classes, 1):
        raise refuse(
            s.name, f"{where} counts {int(classes.max())} classes, more than the manifest's"
        )
    state = s.state(node, where)
    count = s.integer(state.get("node_count"), f"{where} node_count", 1, 1 << 31)
    s.integer(state.get("max_depth"), f"{where} max_depth", 0, count)
    nodes = s.array(state.get("nodes"), f"{where} nodes")
    values = s.array(state.get("values"), f"{where} values")
    if nodes.dtype != _SK_NODE or nodes.shape != (count,):
        raise refuse(s.name, f"{where} nodes are not {count} scikit-learn tree nodes")
    if values.dtype != np.float64 or values.shape != (count, outputs, int(classes.max())):
        raise refuse(s.name, f"{where} values do not have one row per node and class")
    left, right = nodes["left_child"], nodes["right_child"]
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise refuse(s.name, f"{where}: a node has one child")
    inner = ~leaf
    feature = nodes["feature"][inner]
    if len(feature) and (feature.min() < 0 or feature.max() >= n_features):
        raise refuse(s.name, f"{where}: a split feature is outside 0..{n_features - 1}")
    if np.any(np.isnan(nodes["threshold"][inner])):
        raise refuse(s.name, f"{where}: a threshold is NaN")
    if np.any(nodes["missing_go_to_left"] > 1):
        raise refuse(s.name, f"{where}: a missing-value direction is not 0 or 1")
    ids = np.flatnonzero(inner).astype(np.int64)
    children = np.concatenate([left[inner], right[inner]]).astype(np.int64)
    check_edges(s.name, where, children, np.concatenate([ids, ids]), count)


def _check_hgb_predictor(
    s: _Schema, node: dict[str, Any], where: str, n_features: int, categorical: set[int]
) -> None:
    state = s.state(node, where)
    nodes = s.array(state.get("nodes"), f"{where} nodes")
    raw = s.array(state.get("raw_left_cat_bitsets"), f"{where} raw_left_cat_bitsets")
    binned = s.array(state.get("binned_left_cat_bitsets"), f"{where} binned_left_cat_bitsets")
    if nodes.dtype != _HGB_NODE or nodes.ndim != 1 or len(nodes) < 1:
        raise refuse(s.name, f"{where} nodes are not histogram-gradient-boosting nodes")
    for bits, label in ((raw, "raw"), (binned, "binned")):
        if bits.dtype != np.uint32 or bits.ndim != 2 or bits.shape[1] != 8:
            raise refuse(s.name, f"{where} {label} category bit sets are not 8 words each")
    if raw.shape != binned.shape:
        raise refuse(s.name, f"{where} category bit sets disagree")
    count = len(nodes)
    leaf = nodes["is_leaf"]
    if (
        np.any(leaf > 1)
        or np.any(nodes["is_categorical"] > 1)
        or np.any(nodes["missing_go_to_left"] > 1)
    ):
        raise refuse(s.name, f"{where}: a node flag is not 0 or 1")
    inner = leaf == 0
    feature = nodes["feature_idx"][inner]
    if len(feature) and (feature.min() < 0 or feature.max() >= n_features):
        raise refuse(s.name, f"{where}: a split feature is outside 0..{n_features - 1}")
    if np.any(np.isnan(nodes["num_threshold"][inner])):
        raise refuse(s.name, f"{where}: a threshold is NaN")
    splits = inner & (nodes["is_categorical"] == 1)
    if np.any(nodes["bitset_idx"][splits] >= raw.shape[0]):
        raise refuse(s.name, f"{where}: a categorical split names no category set")
    # scikit-learn looks the known categories up by the bin mapper's categorical features
    if not set(nodes["feature_idx"][splits].tolist()) <= categorical:
        raise refuse(s.name, f"{where}: a categorical split is on a feature that is not")
    ids = np.flatnonzero(inner).astype(np.int64)
    children = np.concatenate([nodes["left"][inner], nodes["right"][inner]]).astype(np.int64)
    check_edges(s.name, where, children, np.concatenate([ids, ids]), count)


def _check_bin_mapper(s: _Schema, node: dict[str, Any], where: str, n_features: int) -> set[int]:
    """Check a bin mapper; return its categorical features."""
    state = s.state(node, where)
    flags = s.array(state.get("is_categorical_"), f"{where} is_categorical_")
    if flags.shape != (n_features,) or flags.dtype.kind not in "biu" or np.any(flags > 1):
        raise refuse(s.name, f"{where} does not flag each of the {n_features} features")
    listed = s.resolve(state.get("bin_thresholds_"))
    items = listed.get("content") if isinstance(listed, dict) else None
    if not isinstance(items, list) or len(items) != n_features:
        raise refuse(s.name, f"{where} does not hold bin thresholds for each feature")
    for index in np.flatnonzero(flags):
        cats = s.array(items[int(index)], f"{where} categories of feature {index}")
        if cats.ndim != 1 or len(cats) > 256 or cats.dtype.kind not in "fiu":
            raise refuse(s.name, f"{where} categories of feature {index} are not a short list")
        if len(cats) and (
            not np.all(np.isfinite(cats))
            or np.any(cats != np.floor(cats))
            or cats.min() < 0
            or cats.max() > 255
        ):
            raise refuse(s.name, f"{where} categories of feature {index} are outside 0..255")
    return {int(i) for i in np.flatnonzero(flags)}


_ESTIMATORS = (
    "RandomForest",
    "ExtraTrees",
    "ExtraTree",
    "DecisionTree",
    "HistGradientBoosting",
)
_COUNT_KEYS = {"n_classes_", "n_trees_per_iteration_"}
_WIDTH_KEYS = {"n_features_in_", "_n_features"}


def check_skops_archive(data: bytes, name: str, *, n_classes: int, n_features: int) -> None:
    """Refuse a skops file (its bytes, named ``name``) that is a zip bomb, has inconsistent
    arrays or tree arrays that would make scikit-learn read or write outside them; nothing is
    unpickled or built. Load the same bytes afterwards, never the file again."""
    archive = _Archive(data, name)
    info = archive.infos["schema.json"]
    if info.file_size > MAX_SKOPS_SCHEMA_BYTES:
        raise refuse(name, "has a schema too large to be a model")
    schema = load_json(
        archive.read("schema.json"),
        name,
        max_bytes=MAX_SKOPS_SCHEMA_BYTES,
        max_depth=MAX_SKOPS_DEPTH,
    )
    s = _Schema(archive, schema)
    for member in archive.infos:
        if member != "schema.json":
            archive.check_npy(member)
    classes = max(n_classes, 1)
    categorical: set[int] | None = None
    for node in _iter_nodes(schema):
        if node.get("__class__") == "_BinMapper":
            found = _check_bin_mapper(s, node, "the bin mapper", n_features)
            categorical = found if categorical is None else categorical & found
    for node in _iter_nodes(schema):
        cls, module = node.get("__class__"), node.get("__module__")
        if cls == "Tree" and module == "sklearn.tree._tree":
            _check_sklearn_tree(s, node, "a decision tree", n_features, classes)
        elif cls == "TreePredictor":
            if categorical is None:
                raise refuse(name, "holds boosted trees without their bin mapper")
            _check_hgb_predictor(s, node, "a boosted tree", n_features, categorical)
        content = node.get("content")
        if (
            node.get("__loader__") == "ObjectNode"
            and isinstance(cls, str)
            and cls.startswith(_ESTIMATORS)
            and isinstance(content, dict)
        ):
            attrs = content.get("content")
            if not isinstance(attrs, Mapping):
                continue
            for key in _COUNT_KEYS & attrs.keys():
                value = s.resolve(attrs[key])
                if isinstance(value, dict) and value.get("__loader__") == "JsonNode":
                    s.integer(value, key, 1, max(classes, 2))
            for key in _WIDTH_KEYS & attrs.keys():
                value = s.resolve(attrs[key])
                if isinstance(value, dict) and value.get("__loader__") == "JsonNode":
                    s.integer(value, key, n_features, n_features)
            if "n_outputs_" in attrs:
                s.integer(attrs["n_outputs_"], "n_outputs_", 1, 1)
            if "classes_" in attrs and isinstance(s.resolve(attrs["classes_"]), dict):
                target = s.resolve(attrs["classes_"])
                if target.get("__loader__") == "NdArrayNode" and target.get("type") == "numpy":
                    labels = s.array(target, "classes_")
                    if labels.ndim != 1 or len(labels) > classes or labels.dtype.kind not in "biuf":
                        raise refuse(name, "names classes the manifest does not have")
                    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
                        raise refuse(name, "names classes the manifest does not have")
