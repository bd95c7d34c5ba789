"""The hostile-bundle corpus: tampered, malformed and malicious bundles, each loaded AND
predicted in a forked child with an address-space limit; none loads, none crashes (no signal
exit), none runs out of memory, each ends with a one-line BundleError naming the file.

One small bundle per model kind is built once for the module (LightGBM, XGBoost and CatBoost
multiclass; linear and LightGBM binary; a random forest and a histogram gradient boosting
written through ``write_bundle`` with the LightGBM bundle's real feature spec and recipe),
then each variant
mutates a copy. Validation variants re-hash the files and re-sign the tampered manifest with
the session's key, so that the validator, not the signature, is what refuses them.

The children are forked from one runner process that imported everything once, so that the
corpus runs in seconds rather than paying an interpreter start per variant.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from apprentice.bundle import TrainResult, load_bundle, train, write_bundle
from apprentice.bundle.cleaning import clean_frame
from apprentice.bundle.sign import KEY_ENV, sign_bundle
from apprentice.errors import BundleError
from tests.learn._data import TABLES, needs_tables

pytestmark = needs_tables

REPO = Path(__file__).resolve().parents[2]
LIMIT_BYTES = 1 << 30  # what a variant may add to the runner's address space
CHILD_SECONDS = 60

RUNNER = r"""
import json, os, resource, signal, sys
import pandas as pd
import lightgbm, skops.io, sklearn.ensemble, scipy.sparse, xgboost, catboost  # noqa: F401
from apprentice.bundle import load_bundle
from apprentice.modelfiles import thread_controller
from apprentice.errors import BundleError

jobs = json.loads(sys.stdin.read())
rows = {p: pd.read_csv(p).head(25) for p in {j["rows"] for j in jobs}}
thread_controller()

def vmsize():
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")

base = vmsize()
limit = base + int(sys.argv[1])
for job in jobs:
    pid = os.fork()
    if pid == 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        signal.alarm(int(sys.argv[2]))
        code, result = 0, {}
        try:
            bundle = load_bundle(job["path"])
            out = bundle.predict(rows[job["rows"]])
            result = {"outcome": "loaded", "n": int(len(out))}
        except BundleError as exc:
            code, result = 3, {"outcome": "BundleError", "message": str(exc)}
        except MemoryError:
            code, result = 5, {"outcome": "MemoryError"}
        except BaseException as exc:
            code, result = 4, {"outcome": type(exc).__name__, "message": str(exc)[:500]}
        with open(job["out"], "w") as handle:
            json.dump(result, handle)
        os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    print(json.dumps({"name": job["name"], "code": os.waitstatus_to_exitcode(status),
                      "maxrss_kb": usage.ru_maxrss, "base": base, "limit": limit}), flush=True)
"""


# --------------------------------------------------------------------------- helpers


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(path: Path) -> dict[str, Any]:
    return json.loads((path / "manifest.json").read_text())


def _resign(path: Path, manifest: dict[str, Any] | None = None) -> None:
    """Re-hash every listed plain file, write the manifest and sign it with the session key."""
    manifest = manifest if manifest is not None else _manifest(path)
    for name in list(manifest["files"]):
        member = path / name
        if member.is_file() and not member.is_symlink():
            manifest["files"][name] = _sha(member)
    (path / "manifest.json").write_text(json.dumps(manifest))
    sign_bundle(path)


def _member(path: Path, kind: str) -> Path:
    for member in _manifest(path)["model"]["members"]:
        if member["kind"] == kind:
            return path / member["file"]
    raise AssertionError(f"no {kind} member in {path}")


def _edit_lgb(path: Path, edit: Callable[[str], str]) -> None:
    model = _member(path, "lightgbm")
    model.write_text(edit(model.read_text()))
    _resign(path)


def _tree_line(text: str, key: str, value: str, tree: int = 0) -> str:
    """Replace ``key=...`` in tree ``tree`` (tree_sizes fixed so that only ``key`` is wrong)."""
    start = text.index(f"Tree={tree}\n")
    line = re.compile(rf"^{key}=.*$", re.M)
    match = line.search(text, start)
    assert match is not None
    text = text[: match.start()] + f"{key}={value}" + text[match.end() :]
    return _fix_sizes(text)


def _fix_sizes(text: str) -> str:
    starts = [m.start() for m in re.finditer(r"^Tree=", text, re.M)]
    end = text.index("end of trees")
    sizes = [b - a for a, b in zip(starts, [*starts[1:], end], strict=True)]
    return re.sub(
        r"^tree_sizes=.*$", "tree_sizes=" + " ".join(map(str, sizes)), text, count=1, flags=re.M
    )


def _header(text: str, key: str, value: str) -> str:
    return re.sub(rf"^{key}=.*$", f"{key}={value}", text, count=1, flags=re.M)


class _Skops:
    """A skops file opened for editing: its schema and its members."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.members = {i.filename: archive.read(i) for i in archive.infolist()}
        self.schema = json.loads(self.members["schema.json"])

    def nodes(self, cls: str) -> list[dict[str, Any]]:
        found, stack = [], [self.schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("__class__") == cls:
                    found.append(node)
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return sorted(found, key=lambda n: json.dumps(n, sort_keys=True))

    def state(self, node: dict[str, Any]) -> dict[str, Any]:
        return node["content"]["content"]

    def array(self, ref: dict[str, Any]) -> np.ndarray:
        return np.load(io.BytesIO(self.members[ref["file"]]), allow_pickle=False)

    def put(self, ref: dict[str, Any], value: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        self.members[ref["file"]] = buffer.getvalue()

    def save(self, bundle: Path) -> None:
        self.members["schema.json"] = json.dumps(self.schema).encode()
        with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in self.members.items():
                archive.writestr(name, data)
        _resign(bundle)


def _edit_tree(path: Path, edit: Callable[[_Skops, dict[str, Any], np.ndarray], None]) -> None:
    sk = _Skops(_member(path, "sklearn"))
    tree = sk.nodes("Tree")[0]
    ref = sk.state(tree)["nodes"]
    nodes = sk.array(ref).copy()
    edit(sk, tree, nodes)
    sk.put(ref, nodes)
    sk.save(path)


def _edit_predictor(path: Path, edit: Callable[[_Skops, dict[str, Any], np.ndarray], None]) -> None:
    sk = _Skops(_member(path, "sklearn"))
    predictor = sk.nodes("TreePredictor")[0]
    ref = sk.state(predictor)["nodes"]
    nodes = sk.array(ref).copy()
    edit(sk, predictor, nodes)
    sk.put(ref, nodes)
    sk.save(path)


def _first_split(nodes: np.ndarray, leaf_field: str) -> int:
    if leaf_field == "left_child":
        return int(np.flatnonzero(nodes["left_child"] != -1)[0])
    return int(np.flatnonzero(nodes["is_leaf"] == 0)[0])


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# --------------------------------------------------------------------------- fixtures


def _rows(table: str, target: str) -> pd.DataFrame:
    frame = pd.read_csv(TABLES / table)
    return frame[frame[target].notna()].reset_index(drop=True)


def _sklearn_bundle(base: TrainResult, estimator: Any, out: Path, family: str) -> Path:
    """A bundle holding ``estimator`` fitted on the base bundle's real feature matrix."""
    manifest = dict(base.bundle.manifest)
    rows = _rows("penguins.csv", "species")
    typed = clean_frame(base.bundle.cleaner, base.bundle.select_input(rows))
    view = next(iter(manifest["features"]))
    X = base.bundle.predictor.features[view].transform(typed)
    classes = [str(c) for c in manifest["classes"]]
    y = rows["species"].astype(str).map({c: i for i, c in enumerate(classes)}).to_numpy()
    spec = json.loads((base.path / manifest["features"][view]).read_text())
    if family == "hist_gradient_boosting":
        mask = np.zeros(X.shape[1], dtype=bool)
        mask[spec.get("categorical_indices", [])] = True
        estimator.set_params(categorical_features=mask)
    estimator.fit(np.asarray(X), y)
    recipe = (base.path / manifest["recipe"]).read_text() if manifest.get("recipe") else None
    kept = {
        k: v
        for k, v in manifest.items()
        if k not in ("files", "model", "features", "recipe", "profile", "format", "format_version")
    }
    export = {
        "task": manifest["task"],
        "n_classes": manifest["n_classes"],
        "name": family,
        "features": {view: spec},
        "members": [
            {
                "kind": "sklearn",
                "estimator": estimator,
                "name": family,
                "family": family,
                "weight": 1.0,
                "view": view,
            }
        ],
    }
    return write_bundle(out, export=export, recipe_json=recipe, manifest=kept)


@pytest.fixture(scope="module")
def bases(blood: TrainResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    root = tmp_path_factory.mktemp("hostile-bases")
    lgb = train(
        TABLES / "penguins.csv",
        target="species",
        out=root / "lgb",
        time_budget=None,
        max_trials=0,
        families=("lightgbm",),
        n_jobs=1,
        ensemble=False,
        n_boot=50,
    )
    xgb = train(
        TABLES / "penguins.csv",
        target="species",
        out=root / "xgb",
        time_budget=None,
        max_trials=0,
        families=("xgboost",),
        n_jobs=1,
        ensemble=False,
        n_boot=50,
    )
    cb = train(
        TABLES / "penguins.csv",
        target="species",
        out=root / "cb",
        time_budget=None,
        max_trials=0,
        families=("catboost",),
        n_jobs=1,
        ensemble=False,
        n_boot=50,
    )
    forest = RandomForestClassifier(n_estimators=3, max_depth=4, random_state=0, n_jobs=1)
    hgb = HistGradientBoostingClassifier(max_iter=3, max_leaf_nodes=8, random_state=0)
    out = {
        "lgb": lgb.path,
        "xgb": xgb.path,
        "cb": cb.path,
        "blood": blood.path,
        "forest": _sklearn_bundle(lgb, forest, root / "forest", "random_forest"),
        "hgb": _sklearn_bundle(lgb, hgb, root / "hgb", "hist_gradient_boosting"),
    }
    kinds = {k: {m["kind"] for m in _manifest(p)["model"]["members"]} for k, p in out.items()}
    assert "lightgbm" in kinds["lgb"] and "sklearn" in kinds["forest"] | kinds["hgb"]
    assert "linear" in kinds["blood"] and "xgboost" in kinds["xgb"] and "catboost" in kinds["cb"]
    return out


# --------------------------------------------------------------------------- the corpus

Mutation = Callable[[Path], None]
VARIANTS: list[tuple[str, str, Mutation, str]] = []


def variant(name: str, base: str, pattern: str) -> Callable[[Mutation], Mutation]:
    def register(fn: Mutation) -> Mutation:
        VARIANTS.append((name, base, fn, pattern))
        return fn

    return register


# -- signature and manifest


@variant("unsigned", "lgb", r"manifest\.sig is missing")
def _unsigned(path: Path) -> None:
    (path / "manifest.sig").unlink()


@variant("signed-with-another-key", "lgb", r"signed with another key")
def _other_key(path: Path) -> None:
    saved = os.environ[KEY_ENV]
    os.environ[KEY_ENV] = "x" * 64
    try:
        sign_bundle(path)
    finally:
        os.environ[KEY_ENV] = saved


@variant("rehashed-not-resigned", "lgb", r"does not match its signature")
def _rehashed(path: Path) -> None:
    model = _member(path, "lightgbm")
    model.write_text(_tree_line(model.read_text(), "left_child", "999"))
    manifest = _manifest(path)
    manifest["files"][model.name] = _sha(model)
    (path / "manifest.json").write_text(json.dumps(manifest))


@variant("signature-garbage", "lgb", r"manifest\.sig is not valid JSON")
def _sig_garbage(path: Path) -> None:
    (path / "manifest.sig").write_bytes(b"\xff{{{")


@variant("signature-symlink", "lgb", r"manifest\.sig is missing")
def _sig_link(path: Path) -> None:
    target = path.parent / "elsewhere.sig"
    shutil.move(path / "manifest.sig", target)
    (path / "manifest.sig").symlink_to(target)


@variant("manifest-path-traversal", "lgb", r"outside the bundle|unsafe name")
def _traversal(path: Path) -> None:
    manifest = _manifest(path)
    view = next(iter(manifest["features"]))
    outside = path.parent / "outside.json"
    shutil.copy(path / manifest["features"][view], outside)
    manifest["files"]["../outside.json"] = _sha(outside)
    manifest["features"][view] = "../outside.json"
    _resign(path, manifest)


@variant("member-symlink-outside", "lgb", r"is a link")
def _symlink(path: Path) -> None:
    manifest = _manifest(path)
    name = next(iter(manifest["features"].values()))
    outside = path.parent / "real.json"
    shutil.move(path / name, outside)
    (path / name).symlink_to(outside)
    _resign(path, manifest)


@variant("manifest-duplicate-key", "lgb", r"repeats the key 'task'")
def _duplicate(path: Path) -> None:
    text = (path / "manifest.json").read_text()
    (path / "manifest.json").write_text('{"task": "regression", ' + text[1:])
    sign_bundle(path)


@variant("manifest-deep-json", "lgb", r"nests \d+ levels deep")
def _manifest_deep(path: Path) -> None:
    text = (path / "manifest.json").read_text()
    (path / "manifest.json").write_text('{"metrics_extra": ' + _deep(200_000) + ", " + text[1:])
    sign_bundle(path)


@variant("manifest-1e9-classes", "lgb", r"counts 1000000000 classes")
def _many_classes(path: Path) -> None:
    manifest = _manifest(path)
    manifest["n_classes"] = 10**9
    _resign(path, manifest)


@variant("manifest-unknown-task", "lgb", r"unknown task")
def _task(path: Path) -> None:
    manifest = _manifest(path)
    manifest["task"] = "ranking"
    _resign(path, manifest)


@variant("manifest-nan-weight", "lgb", r"not a finite number")
def _nan_weight(path: Path) -> None:
    manifest = _manifest(path)
    manifest["model"]["members"][0]["weight"] = float("nan")
    _resign(path, manifest)


@variant("manifest-pickle-member", "lgb", r"never pickle")
def _pickle(path: Path) -> None:
    manifest = _manifest(path)
    (path / "model.pkl").write_bytes(b"\x80\x04cos\nsystem\n.")
    manifest["files"]["model.pkl"] = _sha(path / "model.pkl")
    manifest["model"]["members"][0].update(kind="pickle", file="model.pkl")
    _resign(path, manifest)


@variant("manifest-files-wrong-type", "lgb", r"file list is malformed")
def _files_type(path: Path) -> None:
    manifest = _manifest(path)
    manifest["files"] = [1, 2, 3]
    (path / "manifest.json").write_text(json.dumps(manifest))
    sign_bundle(path)


# -- JSON files


@variant("features-deep-json", "lgb", r"features_\w+\.json nests")
def _features_deep(path: Path) -> None:
    name = next(iter(_manifest(path)["features"].values()))
    (path / name).write_text(_deep(100_000))
    _resign(path)


@variant("features-too-large", "lgb", r"features_\w+\.json is [\d,]+ bytes")
def _features_large(path: Path) -> None:
    name = next(iter(_manifest(path)["features"].values()))
    with (path / name).open("w") as handle:
        handle.write('{"pad": "')
        handle.write("a" * (65 * 1024 * 1024))
        handle.write('"}')
    _resign(path)


@variant("features-wrong-types", "lgb", r"features_\w+\.json is not a feature spec")
def _features_types(path: Path) -> None:
    name = next(iter(_manifest(path)["features"].values()))
    spec = json.loads((path / name).read_text())
    spec["columns"] = [{"name": 3, "kind": "numeric"}]
    (path / name).write_text(json.dumps(spec))
    _resign(path)


@variant("recipe-deep-json", "lgb", r"recipe\.json nests")
def _recipe_deep(path: Path) -> None:
    (path / "recipe.json").write_text('{"a": ' + _deep(50_000) + "}")
    _resign(path)


@variant("recipe-truncated", "lgb", r"recipe\.json is not valid JSON")
def _recipe_cut(path: Path) -> None:
    text = (path / "recipe.json").read_text()
    (path / "recipe.json").write_text(text[: len(text) // 2])
    _resign(path)


@variant("linear-wrong-width", "blood", r"model_\d\.json does not hold one coefficient")
def _linear_width(path: Path) -> None:
    model = _member(path, "linear")
    payload = json.loads(model.read_text())
    payload["coef"] = [row + [0.5] * 1000 for row in payload["coef"]]
    model.write_text(json.dumps(payload))
    _resign(path)


@variant("linear-string-coef", "blood", r"model_\d\.json does not hold its arrays")
def _linear_types(path: Path) -> None:
    model = _member(path, "linear")
    payload = json.loads(model.read_text())
    payload["coef"] = "rm -rf /"
    model.write_text(json.dumps(payload))
    _resign(path)


# -- LightGBM text


@variant("lgb-left-child-out-of-range", "lgb", r"model_0\.txt tree 0: a child index")
def _lgb_child(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "left_child", " ".join(["2000000000"] * _inner(t))))


def _inner(text: str) -> int:
    return int(re.search(r"^num_leaves=(\d+)", text, re.M).group(1)) - 1  # type: ignore[union-attr]


@variant("lgb-split-feature-out-of-range", "lgb", r"a split feature is outside")
def _lgb_feature(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "split_feature", " ".join(["99"] * _inner(t))))


@variant("lgb-num-class-1e9", "lgb", r"num_class = 1000000000 is outside")
def _lgb_classes(path: Path) -> None:
    _edit_lgb(path, lambda t: _header(t, "num_class", "1000000000"))


@variant("lgb-bad-tree-sizes", "lgb", r"tree_sizes that do not match")
def _lgb_sizes(path: Path) -> None:
    _edit_lgb(
        path, lambda t: re.sub(r"^tree_sizes=(\d+)", r"tree_sizes=1\1", t, count=1, flags=re.M)
    )


@variant("lgb-nan-threshold", "lgb", r"a threshold is NaN")
def _lgb_nan(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "threshold", " ".join(["nan"] * _inner(t))))


@variant("lgb-negative-num-leaves", "lgb", r"num_leaves = -5 is outside")
def _lgb_negative(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "num_leaves", "-5"))


@variant("lgb-cycle", "lgb", r"before its parent|do not form one tree")
def _lgb_cycle(path: Path) -> None:
    def edit(text: str) -> str:
        n = _inner(text)
        return _tree_line(text, "left_child", " ".join(["0"] * n))

    _edit_lgb(path, edit)


@variant("lgb-truncated", "lgb", r"model_0\.txt has no 'end of trees'")
def _lgb_truncated(path: Path) -> None:
    _edit_lgb(path, lambda t: t[: len(t) // 2])


@variant("lgb-max-feature-idx", "lgb", r"expects 1000001 features")
def _lgb_width(path: Path) -> None:
    _edit_lgb(path, lambda t: _header(t, "max_feature_idx", "1000000"))


@variant("lgb-pandas-categorical-deep", "lgb", r"pandas categories")
def _lgb_pandas(path: Path) -> None:
    _edit_lgb(
        path, lambda t: t.replace("pandas_categorical:null", "pandas_categorical:" + _deep(100_000))
    )


@variant("lgb-categorical-without-sets", "lgb", r"categorical split names no category set")
def _lgb_categorical(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "decision_type", " ".join(["1"] * _inner(t))))


@variant("lgb-short-leaf-values", "lgb", r"leaf_value holds \d+ values")
def _lgb_leaves(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "leaf_value", "0.5"))


@variant("lgb-huge-num-leaves", "lgb", r"holds \d+ values, not")
def _lgb_huge(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "num_leaves", str(1 << 20)))


@variant("lgb-duplicate-key", "lgb", r"appears twice")
def _lgb_duplicate(path: Path) -> None:
    _edit_lgb(path, lambda t: _fix_sizes(t.replace("num_cat=0\n", "num_cat=0\nnum_cat=5\n", 1)))


@variant("lgb-nul-byte", "lgb", r"NUL")
def _lgb_nul(path: Path) -> None:
    _edit_lgb(path, lambda t: t.replace("objective=", "objective=\x00", 1))


@variant("lgb-not-utf8", "lgb", r"not UTF-8")
def _lgb_bytes(path: Path) -> None:
    model = _member(path, "lightgbm")
    model.write_bytes(b"tree\n\xff\xfe" + model.read_bytes())
    _resign(path)


@variant("lgb-objective-classes", "lgb", r"objective names another number of classes")
def _lgb_objective(path: Path) -> None:
    _edit_lgb(path, lambda t: _header(t, "objective", "multiclass num_class:1000000000"))


@variant("lgb-binary-in-blood", "blood", r"model_\d\.txt tree 0: a split feature")
def _blood_feature(path: Path) -> None:
    _edit_lgb(path, lambda t: _tree_line(t, "split_feature", " ".join(["-3"] * _inner(t))))


# -- skops: the archive


@variant("skops-zip-bomb", "forest", r"zip bomb")
def _bomb(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    ref = sk.state(sk.nodes("Tree")[0])["values"]
    sk.members[ref["file"]] = b"\x00" * (64 * 1024 * 1024)
    sk.save(path)


@variant("skops-npy-shape-lie", "forest", r"declares a shape its data does not fill")
def _shape_lie(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    ref = sk.state(sk.nodes("Tree")[0])["values"]
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1, 3), }"
    header += b" " * (117 - len(header)) + b"\n"
    sk.members[ref["file"]] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    sk.save(path)


@variant("skops-object-array", "forest", r"holds Python objects")
def _object_array(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    ref = sk.state(sk.nodes("Tree")[0])["values"]
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (117 - len(header)) + b"\n"
    body = b"\x80\x04cos\nsystem\n."
    sk.members[ref["file"]] = (
        b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body
    )
    sk.save(path)


@variant("skops-deep-schema", "forest", r"model_0\.skops nests")
def _deep_schema(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    sk.schema["deep"] = json.loads(_deep(500))
    sk.save(path)


@variant("skops-truncated-zip", "forest", r"model_0\.skops is not a valid skops file")
def _truncated_zip(path: Path) -> None:
    model = _member(path, "sklearn")
    model.write_bytes(model.read_bytes()[:1000])
    _resign(path)


@variant("skops-missing-member", "forest", r"refers to the member")
def _missing_member(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    ref = sk.state(sk.nodes("Tree")[0])["nodes"]
    del sk.members[ref["file"]]
    sk.save(path)


@variant("skops-id-two-meanings", "forest", r"two meanings")
def _two_meanings(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    trees = sk.nodes("Tree")
    sk.state(trees[0])["nodes"]["__id__"] = sk.state(trees[1])["values"]["__id__"]
    sk.save(path)


# -- skops: scikit-learn tree arrays


@variant("tree-child-2e9", "forest", r"a decision tree: a child index is out of range")
def _tree_child(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        nodes["left_child"][_first_split(nodes, "left_child")] = 2_000_000_000

    _edit_tree(path, edit)


@variant("tree-feature-out-of-range", "forest", r"a decision tree: a split feature is outside")
def _tree_feature(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        nodes["feature"][_first_split(nodes, "left_child")] = 10**6

    _edit_tree(path, edit)


@variant("tree-nan-threshold", "forest", r"a decision tree: a threshold is NaN")
def _tree_nan(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        nodes["threshold"][_first_split(nodes, "left_child")] = np.nan

    _edit_tree(path, edit)


@variant("tree-cycle", "forest", r"a child comes before its parent|do not form one tree")
def _tree_cycle(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        nodes["right_child"][_first_split(nodes, "left_child")] = 0

    _edit_tree(path, edit)


@variant("tree-node-count-lie", "forest", r"nodes are not \d+ scikit-learn tree nodes")
def _tree_count(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        sk.state(tree)["node_count"] = {**sk.state(tree)["node_count"], "content": "1000000"}

    _edit_tree(path, edit)


@variant("tree-1e9-classes", "forest", r"n_classes|classes, more than")
def _tree_classes(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        ref = tree["__reduce__"]["args"]["content"][1]
        sk.put(ref, np.array([10**9], dtype=np.intp))

    _edit_tree(path, edit)


@variant("tree-negative-count", "forest", r"node_count = -4 is outside")
def _tree_negative(path: Path) -> None:
    def edit(sk: _Skops, tree: dict[str, Any], nodes: np.ndarray) -> None:
        sk.state(tree)["node_count"] = {**sk.state(tree)["node_count"], "content": "-4"}

    _edit_tree(path, edit)


@variant("forest-1e9-classes", "forest", r"n_classes_ = 1000000000 is outside")
def _forest_classes(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    top = sk.state(sk.schema)
    # a fresh object id: reusing the id of the shared small int 3 is refused as ambiguous
    top["n_classes_"] = {**top["n_classes_"], "content": "1000000000", "__id__": 1}
    sk.save(path)


@variant("forest-wrong-dtype-nodes", "forest", r"nodes are not \d+ scikit-learn tree nodes")
def _tree_dtype(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    ref = sk.state(sk.nodes("Tree")[0])["nodes"]
    sk.put(ref, np.zeros(5, dtype=np.float64))
    sk.save(path)


# -- skops: histogram gradient boosting


@variant("hgb-child-out-of-range", "hgb", r"a boosted tree: a child index is out of range")
def _hgb_child(path: Path) -> None:
    def edit(sk: _Skops, pred: dict[str, Any], nodes: np.ndarray) -> None:
        nodes["left"][_first_split(nodes, "is_leaf")] = 4_000_000_000

    _edit_predictor(path, edit)


@variant("hgb-feature-out-of-range", "hgb", r"a boosted tree: a split feature is outside")
def _hgb_feature(path: Path) -> None:
    def edit(sk: _Skops, pred: dict[str, Any], nodes: np.ndarray) -> None:
        nodes["feature_idx"][_first_split(nodes, "is_leaf")] = 123456

    _edit_predictor(path, edit)


@variant("hgb-bitset-out-of-range", "hgb", r"categorical split names no category set")
def _hgb_bitset(path: Path) -> None:
    def edit(sk: _Skops, pred: dict[str, Any], nodes: np.ndarray) -> None:
        split = _first_split(nodes, "is_leaf")
        nodes["is_categorical"][split] = 1
        nodes["bitset_idx"][split] = 1_000_000

    _edit_predictor(path, edit)


@variant(
    "hgb-categorical-split-on-numeric", "hgb", r"categorical split is on a feature that is not"
)
def _hgb_numeric_as_categorical(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    flags = sk.array(sk.state(sk.nodes("_BinMapper")[0])["is_categorical_"])
    numeric = int(np.flatnonzero(flags == 0)[0])
    predictor = sk.nodes("TreePredictor")[0]
    state = sk.state(predictor)
    nodes = sk.array(state["nodes"]).copy()
    split = _first_split(nodes, "is_leaf")
    nodes["feature_idx"][split] = numeric
    nodes["is_categorical"][split] = 1
    nodes["bitset_idx"][split] = 0
    sk.put(state["nodes"], nodes)
    for key in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):  # a set it may name
        sk.put(state[key], np.full((1, 8), 0xFFFFFFFF, dtype=np.uint32))
    sk.save(path)


@variant("hgb-categories-over-255", "hgb", r"categories of feature \d+ are outside 0\.\.255")
def _hgb_categories(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    mapper = sk.nodes("_BinMapper")[0]
    flags = sk.array(sk.state(mapper)["is_categorical_"])
    index = int(np.flatnonzero(flags)[0])
    ref = sk.state(mapper)["bin_thresholds_"]["content"][index]
    sk.put(ref, np.array([0.0, 1.0, 70000.0]))
    sk.save(path)


@variant("hgb-flags-wrong-length", "hgb", r"does not flag each of the \d+ features")
def _hgb_flags(path: Path) -> None:
    sk = _Skops(_member(path, "sklearn"))
    mapper = sk.nodes("_BinMapper")[0]
    sk.put(sk.state(mapper)["is_categorical_"], np.zeros(1, dtype=np.uint8))
    sk.save(path)


# --------------------------------------------------------------------------- the run


def _run_corpus(bases: dict[str, Path], root: Path, jobs: list[dict[str, str]]) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO / "src"),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
    }
    env.pop(  # the children must judge signatures themselves
        "APPRENTICE_TRUST_BUNDLES", None
    )
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(LIMIT_BYTES), str(CHILD_SECONDS)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{") and '"name"' in line:
            record = json.loads(line)
            reports[record["name"]] = record
    for job in jobs:
        out = Path(job["out"])
        reports[job["name"]]["result"] = json.loads(out.read_text()) if out.is_file() else None
    return reports


# -- XGBoost JSON models

XGB = r"model_\d\.xgb\.json"


def _edit_xgb(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the parsed XGBoost model (``doc``), write it back and re-sign the bundle."""
    model = _member(path, "xgboost")
    doc = json.loads(model.read_text())
    edit(doc)
    model.write_text(json.dumps(doc))
    _resign(path)


def _xgb_model(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["learner"]["gradient_booster"]["model"]


def _xgb_tree(doc: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return _xgb_model(doc)["trees"][index]


def _xgb_split(tree: dict[str, Any]) -> int:
    return next(i for i, c in enumerate(tree["left_children"]) if c != -1)


@variant("xgb-child-out-of-range", "xgb", XGB + r" tree 0 left_children holds a value outside")
def _xgb_child(path: Path) -> None:
    _edit_xgb(path, lambda d: _xgb_tree(d)["left_children"].__setitem__(0, 10**6))


@variant("xgb-child-negative", "xgb", XGB + r" tree 0 right_children holds a value outside")
def _xgb_child_negative(path: Path) -> None:
    _edit_xgb(path, lambda d: _xgb_tree(d)["right_children"].__setitem__(0, -7))


@variant("xgb-cycle", "xgb", XGB + r" tree 0: a child comes before its parent")
def _xgb_cycle(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        tree = _xgb_tree(doc)
        tree["right_children"][_xgb_split(tree)] = 0

    _edit_xgb(path, edit)


@variant("xgb-one-child", "xgb", XGB + r" tree 0: a node has one child")
def _xgb_one_child(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        tree = _xgb_tree(doc)
        tree["right_children"][_xgb_split(tree)] = -1

    _edit_xgb(path, edit)


@variant("xgb-parents-disagree", "xgb", XGB + r" tree 0: its parents do not match")
def _xgb_parents(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        tree = _xgb_tree(doc)
        tree["parents"][tree["left_children"][_xgb_split(tree)]] = len(tree["parents"]) - 1

    _edit_xgb(path, edit)


@variant("xgb-feature-out-of-range", "xgb", XGB + r" tree 0: a split feature is outside")
def _xgb_feature(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        tree = _xgb_tree(doc)
        tree["split_indices"][_xgb_split(tree)] = 5000

    _edit_xgb(path, edit)


@variant("xgb-wrong-node-count", "xgb", XGB + r" tree 0 left_children does not hold \d+ values")
def _xgb_nodes(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        param = _xgb_tree(doc)["tree_param"]
        param["num_nodes"] = str(int(param["num_nodes"]) + 2)

    _edit_xgb(path, edit)


@variant("xgb-huge-node-count", "xgb", XGB + r" tree 0 num_nodes = \d+ is outside")
def _xgb_huge_nodes(path: Path) -> None:
    _edit_xgb(path, lambda d: _xgb_tree(d)["tree_param"].__setitem__("num_nodes", "4000000000"))


@variant("xgb-wrong-tree-count", "xgb", XGB + r" says num_trees=\d+ but holds another number")
def _xgb_trees(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        param = _xgb_model(doc)["gbtree_model_param"]
        param["num_trees"] = str(int(param["num_trees"]) + 3)

    _edit_xgb(path, edit)


@variant("xgb-huge-tree-count", "xgb", XGB + r" num_trees = \d+ is outside")
def _xgb_huge_trees(path: Path) -> None:
    _edit_xgb(
        path, lambda d: _xgb_model(d)["gbtree_model_param"].__setitem__("num_trees", "10" * 9)
    )


@variant("xgb-tree-info", "xgb", XGB + r" does not grow one tree per output")
def _xgb_tree_info(path: Path) -> None:
    _edit_xgb(path, lambda d: _xgb_model(d)["tree_info"].__setitem__(0, 1))


@variant("xgb-num-class", "xgb", XGB + r" says num_class=7")
def _xgb_classes(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["learner"]["learner_model_param"]["num_class"] = "7"

    _edit_xgb(path, edit)


@variant("xgb-num-feature", "xgb", XGB + r" expects 900 features")
def _xgb_width(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["learner"]["learner_model_param"]["num_feature"] = "900"

    _edit_xgb(path, edit)


@variant("xgb-objective", "xgb", XGB + r" has the objective")
def _xgb_objective(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["learner"]["objective"] = {"name": "reg:squarederror"}

    _edit_xgb(path, edit)


@variant("xgb-dart", "xgb", XGB + r" is a 'dart' booster")
def _xgb_dart(path: Path) -> None:
    _edit_xgb(path, lambda d: d["learner"]["gradient_booster"].__setitem__("name", "dart"))


@variant("xgb-categorical-split", "xgb", XGB + r" tree 0 has a categorical split")
def _xgb_categorical(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        tree = _xgb_tree(doc)
        tree["split_type"][_xgb_split(tree)] = 1

    _edit_xgb(path, edit)


@variant("xgb-nan-condition", "xgb", XGB + r" tree 0 split_conditions holds a value that is not")
def _xgb_nan(path: Path) -> None:
    model = _member(path, "xgboost")
    doc = json.loads(model.read_text())
    _xgb_tree(doc)["split_conditions"][0] = float("nan")
    model.write_text(json.dumps(doc))  # Python writes the NaN literal XGBoost reads
    _resign(path)


@variant("xgb-deep-json", "xgb", XGB + r" nests \d+ levels deep")
def _xgb_deep(path: Path) -> None:
    model = _member(path, "xgboost")
    text = model.read_text()
    model.write_text('{"x": ' + _deep(100_000) + ", " + text[1:])
    _resign(path)


@variant("xgb-duplicate-key", "xgb", XGB + r" repeats the key 'learner'")
def _xgb_duplicate(path: Path) -> None:
    model = _member(path, "xgboost")
    text = model.read_text()
    model.write_text('{"learner": {}, ' + text[1:])
    _resign(path)


@variant("xgb-truncated", "xgb", XGB + r" is not valid JSON")
def _xgb_truncated(path: Path) -> None:
    model = _member(path, "xgboost")
    text = model.read_text()
    model.write_text(text[: len(text) // 2])
    _resign(path)


@variant("xgb-ubjson-binary", "xgb", XGB + r" is not valid JSON")
def _xgb_binary(path: Path) -> None:
    model = _member(path, "xgboost")
    model.write_bytes(b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner" + bytes(range(256)))
    _resign(path)


# -- CatBoost JSON models

CB = r"model_\d\.cb\.json"


def _edit_cb(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit the parsed CatBoost model (``doc``), write it back and re-sign the bundle."""
    model = _member(path, "catboost")
    doc = json.loads(model.read_text())
    edit(doc)
    model.write_text(json.dumps(doc))
    _resign(path)


def _cb_tree(doc: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return doc["oblivious_trees"][index]


def _cb_split(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(s for t in doc["oblivious_trees"] for s in t["splits"] if s["split_type"] == kind)


@variant("cb-float-index", "cb", CB + r" tree \d+ float_feature_index = 999 is outside")
def _cb_float(path: Path) -> None:
    _edit_cb(path, lambda d: _cb_split(d, "FloatFeature").__setitem__("float_feature_index", 999))


@variant("cb-onehot-index", "cb", CB + r" tree 0 cat_feature_index = 50 is outside")
def _cb_onehot(path: Path) -> None:
    split = {"split_type": "OneHotFeature", "cat_feature_index": 50, "value": 1, "split_index": 0}
    _edit_cb(path, lambda d: _cb_tree(d)["splits"].__setitem__(0, split))


@variant("cb-ctr-without-ctrs", "cb", CB + r" tree 0: a CTR split names no CTR")
def _cb_ctr(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["features_info"].pop("ctrs", None)
        doc.pop("ctr_data", None)
        split = {"split_type": "OnlineCtr", "border": 1.5, "ctr_target_border_idx": 0}
        _cb_tree(doc)["splits"][0] = {**split, "split_index": 0}

    _edit_cb(path, edit)


@variant("cb-unknown-split", "cb", CB + r" tree 0: a split of type 'TextFeature' is not")
def _cb_text(path: Path) -> None:
    _edit_cb(path, lambda d: _cb_tree(d)["splits"][0].__setitem__("split_type", "TextFeature"))


@variant("cb-leaf-count", "cb", CB + r" tree 0 leaf_values does not hold \d+ values")
def _cb_leaves(path: Path) -> None:
    _edit_cb(path, lambda d: _cb_tree(d)["leaf_values"].pop())


@variant("cb-too-deep", "cb", CB + r" tree 0 splits is not a list of at most 16")
def _cb_deep_tree(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        tree = _cb_tree(doc)
        tree["splits"] = (tree["splits"] * 20)[:20]
        tree["leaf_values"] = [0.0] * (3 << 20)

    _edit_cb(path, edit)


@variant("cb-nan-leaf", "cb", CB + r" tree 0 leaf_values holds a value that is not a finite")
def _cb_nan(path: Path) -> None:
    _edit_cb(path, lambda d: _cb_tree(d)["leaf_values"].__setitem__(0, float("nan")))


@variant("cb-infinite-bias", "cb", CB + r" bias holds a value that is not a finite")
def _cb_bias(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["scale_and_bias"][1] = [float("inf")] * len(doc["scale_and_bias"][1])

    _edit_cb(path, edit)


@variant("cb-feature-missing", "cb", CB + r" does not describe each of the \d+ features")
def _cb_width(path: Path) -> None:
    _edit_cb(path, lambda d: d["features_info"]["float_features"].pop())


@variant("cb-feature-twice", "cb", CB + r" does not describe each of the \d+ features")
def _cb_twice(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        floats = doc["features_info"]["float_features"]
        floats[1]["flat_feature_index"] = floats[0]["flat_feature_index"]

    _edit_cb(path, edit)


@variant("cb-huge-feature-index", "cb", CB + r" float feature 0 = \d+ is outside")
def _cb_huge(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["features_info"]["float_features"][0]["flat_feature_index"] = 10**15

    _edit_cb(path, edit)


@variant("cb-ctr-table-stride", "cb", CB + r" has a CTR table that is not whole rows")
def _cb_table(path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["ctr_data"] = {"x": {"hash_stride": 3, "hash_map": ["1", 2, 3, "4"]}}

    _edit_cb(path, edit)


@variant("cb-non-symmetric", "cb", CB + r" is not a CatBoost model of oblivious trees")
def _cb_non_symmetric(path: Path) -> None:
    _edit_cb(path, lambda d: d.__setitem__("trees", [{"split": 1}]))


@variant("cb-deep-json", "cb", CB + r" nests \d+ levels deep")
def _cb_deep(path: Path) -> None:
    model = _member(path, "catboost")
    text = model.read_text()
    model.write_text('{"x": ' + _deep(100_000) + ", " + text.lstrip()[1:])
    _resign(path)


@variant("cb-duplicate-key", "cb", CB + r" repeats the key 'oblivious_trees'")
def _cb_duplicate(path: Path) -> None:
    model = _member(path, "catboost")
    text = model.read_text()
    model.write_text('{"oblivious_trees": [], ' + text.lstrip()[1:])
    _resign(path)


@variant("cb-truncated", "cb", CB + r" is not valid JSON")
def _cb_truncated(path: Path) -> None:
    model = _member(path, "catboost")
    text = model.read_text()
    model.write_text(text[: len(text) // 2])
    _resign(path)


@pytest.fixture(scope="module")
def corpus(bases: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    rows = {
        "blood": str(TABLES / "blood_transfusion.csv"),
        "lgb": str(TABLES / "penguins.csv"),
        "xgb": str(TABLES / "penguins.csv"),
        "cb": str(TABLES / "penguins.csv"),
        "forest": str(TABLES / "penguins.csv"),
        "hgb": str(TABLES / "penguins.csv"),
    }
    jobs = []
    snapshots: dict[str, dict[str, str]] = {}
    for kind, path in bases.items():  # the untouched bundles: they must load and predict
        jobs.append(
            {
                "name": f"control-{kind}",
                "path": str(path),
                "rows": rows[kind],
                "out": str(root / f"control-{kind}.json"),
            }
        )
    for name, base, mutate, _ in VARIANTS:
        folder = root / name
        folder.mkdir()
        target = folder / "bundle"
        shutil.copytree(bases[base], target, symlinks=True)
        mutate(target)
        snapshots[name] = _snapshot(target)
        jobs.append(
            {
                "name": name,
                "path": str(target),
                "rows": rows[base],
                "out": str(root / f"{name}.json"),
            }
        )
    reports = _run_corpus(bases, root, jobs)
    for name, before in snapshots.items():
        reports[name]["unchanged"] = _snapshot(root / name / "bundle") == before
    return reports


def _snapshot(path: Path) -> dict[str, str]:
    """Every entry of a bundle folder: a link by its target, a file by its SHA-256."""
    return {
        p.name: (f"link:{os.readlink(p)}" if p.is_symlink() else _sha(p))
        for p in sorted(path.iterdir())
    }


def test_the_corpus_is_large_enough() -> None:
    assert len(VARIANTS) >= 40
    assert len({name for name, *_ in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("kind", ["lgb", "xgb", "cb", "blood", "forest", "hgb"])
def test_untouched_bundles_load_and_predict_under_the_limit(
    corpus: dict[str, Any], kind: str
) -> None:
    report = corpus[f"control-{kind}"]
    assert report["code"] == 0, report
    assert report["result"] == {"outcome": "loaded", "n": 25}


@pytest.mark.parametrize(
    "name,pattern", [(n, p) for n, _, _, p in VARIANTS], ids=[n for n, *_ in VARIANTS]
)
def test_hostile_bundle_is_refused_cleanly(corpus: dict[str, Any], name: str, pattern: str) -> None:
    report = corpus[name]
    code, result = report["code"], report["result"]
    assert code >= 0, f"{name}: the child died of signal {-code}"
    assert code != 5, f"{name}: the child ran out of its address space"
    assert result is not None and result["outcome"] == "BundleError", f"{name}: {result}"
    message = result["message"]
    assert code == 3 and "\n" not in message
    assert report["unchanged"], f"{name}: loading changed the bundle folder"
    assert re.search(pattern, message), f"{name}: {message}"
    # every refusal names a file of the bundle
    assert re.search(
        r"(manifest\.(json|sig)|model_\d+\.[\w.]+|features_\w+\.json|recipe\.json|\.json|\.txt|\.skops)",
        message,
    )


def test_trusting_skips_only_the_signature(
    bases: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bundle"
    shutil.copytree(bases["lgb"], path)
    (path / "manifest.sig").unlink()
    monkeypatch.setenv("APPRENTICE_TRUST_BUNDLES", "1")
    rows = _rows("penguins.csv", "species").head(5)
    assert len(load_bundle(path).predict(rows)) == 5
    # trusted, yet a malformed model is still refused by the validator
    model = _member(path, "lightgbm")
    text = model.read_text()
    model.write_text(_tree_line(text, "left_child", " ".join(["999"] * _inner(text))))
    manifest = _manifest(path)
    manifest["files"][model.name] = _sha(model)
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="child index"):
        load_bundle(path)
