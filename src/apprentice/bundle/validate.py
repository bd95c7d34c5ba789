"""Every model file is checked before native code sees it, whatever signed it.

LightGBM's C++ parser and scikit-learn's Cython tree walkers trust their input: a child index
out of range reads or writes outside an array, a wrong ``tree_sizes`` aborts the process, a huge
class count allocates without bound. So a bundle file is parsed and checked here first, in
plain Python and numpy, with every index, count and size bounded:

* JSON (manifest, feature specs, recipe, linear models): size, nesting depth, number of
  values and duplicate keys (:func:`load_json`);
* LightGBM text models: header counts equal to what the manifest and the feature view say,
  ``tree_sizes`` exact, every node, feature, leaf and category index in range, each tree a
  tree (every node has one parent, children after parents: no cycle), no NaN threshold
  (:func:`check_lightgbm_text`);
* skops files: zip members and their declared sizes (no zip bomb), every ``.npy`` header
  consistent with its size, no shared object id with two meanings, and the arrays of every
  scikit-learn ``Tree`` and histogram-gradient-boosting ``TreePredictor`` checked like
  LightGBM's (:func:`check_skops_archive`).

Each refusal is a :class:`~apprentice.errors.BundleError` that names the file. A new model
format (XGBoost JSON/UBJSON, CatBoost) needs its own checker here, called by ``load_bundle``
on the bytes its library will parse, and its variants in ``tests/bundle/test_hostile.py``;
``load_bundle`` refuses a kind it has no checker for.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from apprentice.errors import BundleError

MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 100
MAX_JSON_VALUES = 8_000_000
MAX_LIGHTGBM_BYTES = 512 * 1024 * 1024
MAX_CLASSES = 100_000
MAX_FEATURES = 10_000_000
MAX_LEAVES = 1 << 20
MAX_SKOPS_MEMBERS = 200_000
MAX_SKOPS_BYTES = 4 * 1024**3
MAX_SKOPS_FILE_BYTES = 2 * 1024**3
MAX_SKOPS_RATIO = 200
SKOPS_SMALL_MEMBER = 1024 * 1024
MAX_SKOPS_SCHEMA_BYTES = 64 * 1024 * 1024
MAX_SKOPS_DEPTH = 200

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPEN = frozenset(b"[{")


def refuse(name: str, what: str) -> BundleError:
    """The error for a model file that failed a check."""
    return BundleError(
        f"{name} {what}; the bundle is damaged or was tampered with: do not use it, rebuild it "
        "with apprentice train"
    )


# --------------------------------------------------------------------------- JSON


def _no_duplicates(name: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise refuse(name, f"repeats the key {key[:40]!r} in one object")
            out[key] = value
        return out

    return hook


def json_shape(data: bytes) -> tuple[int, int]:
    """``(depth, values)`` of a JSON text: the deepest nesting of arrays and objects and an
    upper bound of the number of values, computed without parsing (strings are skipped)."""
    bare = _STRING.sub(b'""', data)
    codes = np.frombuffer(bare, dtype=np.uint8)
    opens = (codes == ord("[")) | (codes == ord("{"))
    closes = (codes == ord("]")) | (codes == ord("}"))
    step = opens.astype(np.int64) - closes.astype(np.int64)
    depth = int(np.cumsum(step).max()) if len(step) else 0
    values = int(np.count_nonzero(codes == ord(","))) + int(np.count_nonzero(opens)) + 1
    return depth, values


def load_json(
    data: bytes,
    name: str,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    max_values: int = MAX_JSON_VALUES,
) -> Any:
    """Parse bundle JSON with caps on size, depth and values; duplicate keys are refused."""
    if len(data) > max_bytes:
        raise refuse(name, f"is {len(data):,} bytes, more than the {max_bytes:,} allowed")
    depth, values = json_shape(data)
    if depth > max_depth:
        raise refuse(name, f"nests {depth} levels deep, more than the {max_depth} allowed")
    if values > max_values:
        raise refuse(name, f"holds about {values:,} values, more than the {max_values:,} allowed")
    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates(name))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise refuse(name, "is not valid JSON") from None


# --------------------------------------------------------------------------- trees


def _check_edges(name: str, where: str, children: np.ndarray, parents: np.ndarray, n: int) -> None:
    """Children in range, each after its parent, and every node but the root with exactly one
    parent: the nodes form one tree, every walk from the root ends."""
    if len(children) and (children.min() < 0 or children.max() >= n):
        raise refuse(name, f"{where}: a child index is out of range")
    if np.any(children <= parents):
        raise refuse(name, f"{where}: a child comes before its parent (a cycle)")
    counts = np.bincount(children, minlength=n) if n else np.zeros(0, dtype=np.int64)
    if n and (counts[0] != 0 or np.any(counts[1:] != 1)):
        raise refuse(name, f"{where}: the nodes do not form one tree")


# --------------------------------------------------------------------------- LightGBM

_TREE_RE = re.compile(r"^Tree=", re.M)
_INTS = re.compile(r"^-?\d{1,19}$")
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


def _int(name: str, where: str, text: str | None, low: int, high: int) -> int:
    if text is None or not _INTS.match(text.strip()):
        raise refuse(name, f"{where} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise refuse(name, f"{where} = {value} is outside {low}..{high}")
    return value


def _ints(name: str, where: str, text: str | None, count: int) -> np.ndarray:
    parts = (text or "").split()
    if len(parts) != count:
        raise refuse(name, f"{where} holds {len(parts)} values, not {count}")
    try:
        values = np.array(parts, dtype=np.int64)  # "1.5", "nan", "x" and overflow all raise
    except (ValueError, OverflowError):
        raise refuse(name, f"{where} holds a value that is not a whole number") from None
    if len(values) and (values.min() < -(2**62) or values.max() > 2**62):
        raise refuse(name, f"{where} holds a value out of range")
    return values


def _count(name: str, where: str, text: str | None, count: int) -> None:
    found = len((text or "").split())
    if found != count:
        raise refuse(name, f"{where} holds {found} values, not {count}")


def _floats(name: str, where: str, text: str | None, count: int) -> np.ndarray:
    parts = (text or "").split()
    if len(parts) != count:
        raise refuse(name, f"{where} holds {len(parts)} values, not {count}")
    try:
        return np.array(parts, dtype=np.float64)
    except (ValueError, OverflowError):
        raise refuse(name, f"{where} holds a value that is not a number") from None


def _check_lightgbm_tree(name: str, index: int, block: str, n_features: int) -> None:
    where = f"tree {index}"
    head, _, body = block.partition("\n")
    if head.strip() != f"Tree={index}":
        raise refuse(name, f"{where}: starts with {head[:40]!r}, not Tree={index}")
    fields = _lines(name, body, where)
    leaves = _int(name, f"{where} num_leaves", fields.get("num_leaves"), 1, MAX_LEAVES)
    inner = leaves - 1
    num_cat = _int(name, f"{where} num_cat", fields.get("num_cat"), 0, inner)
    if fields.get("is_linear", "0").strip() != "0":
        raise refuse(name, f"{where} is a linear tree, which apprentice never writes")
    leaf_value = _floats(name, f"{where} leaf_value", fields.get("leaf_value"), leaves)
    if not np.all(np.isfinite(leaf_value)):
        raise refuse(name, f"{where} has a leaf value that is not a finite number")
    # statistics prediction never reads: LightGBM parses them by count, so counts must hold
    for key in ("leaf_weight", "leaf_count"):
        if fields.get(key, "").strip():
            _count(name, f"{where} {key}", fields[key], leaves)
    for key in ("split_gain", "internal_value", "internal_weight", "internal_count"):
        if fields.get(key, "").strip() or inner:
            _count(name, f"{where} {key}", fields.get(key), inner)
    _floats(name, f"{where} shrinkage", fields.get("shrinkage", "1"), 1)
    feature = _ints(name, f"{where} split_feature", fields.get("split_feature"), inner)
    decision = _ints(name, f"{where} decision_type", fields.get("decision_type"), inner)
    left = _ints(name, f"{where} left_child", fields.get("left_child"), inner)
    right = _ints(name, f"{where} right_child", fields.get("right_child"), inner)
    threshold_text = fields.get("threshold")
    if inner == 0:
        return
    if feature.min() < 0 or feature.max() >= n_features:
        raise refuse(name, f"{where}: a split feature is outside 0..{n_features - 1}")
    if decision.min() < 0 or decision.max() > 15 or np.any(((decision >> 2) & 3) > 2):
        raise refuse(name, f"{where}: a decision type is not one LightGBM writes")
    threshold = _floats(name, f"{where} threshold", threshold_text, inner)
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
        bounds = _ints(name, f"{where} cat_boundaries", fields.get("cat_boundaries"), num_cat + 1)
        words = (fields.get("cat_threshold") or "").split()
        if bounds[0] != 0 or np.any(np.diff(bounds) < 0) or bounds[-1] != len(words):
            raise refuse(name, f"{where}: cat_boundaries do not match cat_threshold")
        values = _ints(name, f"{where} cat_threshold", fields.get("cat_threshold"), len(words))
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
    _check_edges(name, where, children, np.concatenate([ids, ids]), inner + leaves)


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
    num_class = _int(name, "num_class", header["num_class"], 1, MAX_CLASSES)
    if num_class != n_classes:
        raise refuse(name, f"says num_class={num_class} where the manifest needs {n_classes}")
    per_iter = _int(
        name, "num_tree_per_iteration", header["num_tree_per_iteration"], 1, MAX_CLASSES
    )
    if per_iter != num_class:
        raise refuse(name, f"grows {per_iter} trees per iteration for {num_class} class(es)")
    max_feature = _int(name, "max_feature_idx", header["max_feature_idx"], 0, MAX_FEATURES)
    if max_feature + 1 != n_features:
        raise refuse(
            name, f"expects {max_feature + 1} features where its feature view makes {n_features}"
        )
    if "label_index" in header:
        _int(name, "label_index", header["label_index"], 0, MAX_FEATURES)
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
        sizes = _ints(name, "tree_sizes", header["tree_sizes"], len(starts))
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


# --------------------------------------------------------------------------- skops


# a damaged member surfaces as any of these (zlib.error from a corrupt deflate stream)
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error)


class _Archive:
    """A skops zip opened with every member's declared size checked."""

    def __init__(self, data: bytes, name: str) -> None:
        self.name = name
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except _ZIP_ERRORS as exc:
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
    _check_edges(s.name, where, children, np.concatenate([ids, ids]), count)


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
    _check_edges(s.name, where, children, np.concatenate([ids, ids]), count)


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
