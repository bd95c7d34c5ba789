"""The ``sklearn`` kind: another scikit-learn model (forests, extra trees, histogram gradient
boosting) in the skops format (``model_<i>.skops``), never pickle.

skops rebuilds objects from a JSON schema and refuses types it does not trust. We go further
and accept only the exact types our model families produce (:data:`TRUSTED_TYPES`); a file
naming any other type (a function that runs code, a class from elsewhere) is refused before
skops is asked to load it, and its arrays are checked first
(:func:`~apprentice.modelfiles.skops_archive.check_skops_archive`).

Contributions: forests (random forest, extra trees) by Saabas path attribution (each split
on a row's path moves the node value, and the move is credited to the split's feature; exact
for the forest's averaged probability or value); other models have no per-row method here.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from apprentice.errors import BundleError
from apprentice.modelfiles.base import (
    MemberContrib,
    ModelKind,
    Owner,
    StoredModel,
    expand,
    thread_controller,
)
from apprentice.modelfiles.jsonfile import load_json
from apprentice.modelfiles.skops_archive import MAX_SKOPS_FILE_BYTES, check_skops_archive

_SK = "sklearn"
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        # containers and scalars
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.slice",
        "builtins.NoneType",
        "functools.partial",
        # numpy
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float64",
        "numpy.float32",
        "numpy.int64",
        "numpy.int32",
        "numpy.int8",
        "numpy.uint8",
        "numpy.uint32",
        "numpy.uint64",
        "numpy.bool_",
        "numpy.bool",
        "numpy.random._generator.Generator",
        "numpy.random.mtrand.RandomState",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        # forests
        f"{_SK}.ensemble._forest.RandomForestClassifier",
        f"{_SK}.ensemble._forest.RandomForestRegressor",
        f"{_SK}.ensemble._forest.ExtraTreesClassifier",
        f"{_SK}.ensemble._forest.ExtraTreesRegressor",
        f"{_SK}.tree._classes.DecisionTreeClassifier",
        f"{_SK}.tree._classes.DecisionTreeRegressor",
        f"{_SK}.tree._classes.ExtraTreeClassifier",
        f"{_SK}.tree._classes.ExtraTreeRegressor",
        f"{_SK}.tree._tree.Tree",
        # histogram gradient boosting
        f"{_SK}.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        f"{_SK}.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
        f"{_SK}.ensemble._hist_gradient_boosting.binning._BinMapper",
        f"{_SK}.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        f"{_SK}._loss._loss.CyHalfBinomialLoss",
        f"{_SK}._loss._loss.CyHalfMultinomialLoss",
        f"{_SK}._loss._loss.CyHalfSquaredError",
        f"{_SK}._loss.link.IdentityLink",
        f"{_SK}._loss.link.Interval",
        f"{_SK}._loss.link.LogitLink",
        f"{_SK}._loss.link.MultinomialLogit",
        f"{_SK}._loss.loss.HalfBinomialLoss",
        f"{_SK}._loss.loss.HalfMultinomialLoss",
        f"{_SK}._loss.loss.HalfSquaredError",
        # the categorical preprocessing HistGradientBoosting builds for itself
        f"{_SK}.compose._column_transformer.ColumnTransformer",
        f"{_SK}.preprocessing._encoders.OrdinalEncoder",
        f"{_SK}.preprocessing._function_transformer.FunctionTransformer",
        f"{_SK}.preprocessing._label.LabelEncoder",
        f"{_SK}.utils.validation.check_array",
    }
)

MAX_SCHEMA_BYTES = 64 * 1024 * 1024


def _walk(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        module, cls = node.get("__module__"), node.get("__class__")
        if isinstance(module, str) and isinstance(cls, str):
            found.add(f"{module}.{cls}")
        content = node.get("content")
        if isinstance(content, dict):
            # function and type nodes name their target inside ``content``
            mod2 = content.get("module_path") or content.get("__module__")
            name2 = content.get("function") or content.get("__class__")
            if isinstance(mod2, str) and isinstance(name2, str):
                found.add(f"{mod2}.{name2}")
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found)


def skops_types(source: Path | bytes, name: str | None = None) -> set[str]:
    """Every type and function a skops file (a path, or its bytes named ``name``) names, read
    from its schema; nothing is loaded."""
    label = name or (source.name if isinstance(source, Path) else "the skops file")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        with zipfile.ZipFile(handle) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > MAX_SCHEMA_BYTES:
                raise BundleError(f"{label}: the skops schema is too large to be a model")
            schema = load_json(archive.read(info), label, max_bytes=MAX_SCHEMA_BYTES, max_depth=200)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, zlib.error) as exc:
        raise BundleError(
            f"{label} is not a valid skops file ({type(exc).__name__}); the bundle is "
            "damaged or was tampered with: rebuild it with apprentice train"
        ) from None
    found: set[str] = set()
    _walk(schema, found)
    return found


def check_skops(source: Path | bytes, name: str | None = None) -> list[str]:
    """Refuse a skops file naming any type outside :data:`TRUSTED_TYPES`.

    Returns the sorted list of types the file names (all trusted).
    """
    label = name or (source.name if isinstance(source, Path) else "the skops file")
    found = skops_types(source, name)
    untrusted = sorted(found - TRUSTED_TYPES)
    if untrusted:
        shown = ", ".join(t[:60] for t in untrusted[:3]) + (" ..." if len(untrusted) > 3 else "")
        raise BundleError(
            f"{label} holds {len(untrusted)} untrusted type(s) ({shown}); apprentice loads "
            "only the model types it writes: do not load this bundle, rebuild it"
        )
    return sorted(found)


def load_skops(source: Path | bytes, name: str | None = None) -> Any:
    """Load a skops file (a path, or the bytes already validated) after :func:`check_skops`,
    trusting exactly the types it names."""
    import skops.io as sio

    label = name or (source.name if isinstance(source, Path) else "the skops file")
    types = check_skops(source, name)
    try:
        if isinstance(source, bytes):
            return sio.loads(source, trusted=types)
        return sio.load(source, trusted=types)
    except Exception as exc:  # skops raises many kinds on hostile input
        raise BundleError(
            f"{label} could not be loaded safely ({type(exc).__name__}); rebuild the bundle"
        ) from None


class SklearnModel(StoredModel):
    kind = "sklearn"

    def __init__(self, task: str, n_classes: int, estimator: Any) -> None:
        super().__init__(task, n_classes)
        self.estimator = estimator
        classes = getattr(estimator, "classes_", None)
        self.seen = np.asarray(classes).astype(np.int64) if classes is not None else None

    def predict(self, X: Any) -> np.ndarray:
        if hasattr(X, "toarray"):
            X = X.toarray()
        # one OpenMP thread: a server runs requests side by side, and OpenMP start-up costs
        # more than it saves on the small batches a bundle usually sees
        with thread_controller().limit(limits=1, user_api="openmp"):
            if self.task == "regression":
                return np.asarray(self.estimator.predict(X), dtype=float)
            return expand(self.estimator.predict_proba(X), self.seen, self.n_classes)

    def contributions(self, X: Any, owner: Owner) -> MemberContrib | None:
        return _forest(self, X, owner)


def _forest(model: SklearnModel, X: Any, owner: Owner) -> MemberContrib | None:
    """Saabas path attribution of a forest, or ``None`` for another model."""
    est = model.estimator
    trees = getattr(est, "estimators_", None)
    if not isinstance(trees, list | np.ndarray) or not trees:
        return None
    trees = list(np.ravel(trees))
    if not all(hasattr(t, "tree_") and hasattr(t, "decision_path") for t in trees):
        return None
    from scipy import sparse

    if sparse.issparse(X):
        X = X.toarray()
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    regression = model.task == "regression"
    k_seen = 1 if regression else len(est.classes_)
    values = np.zeros((n, owner.n_columns, k_seen))
    base = np.zeros(k_seen)
    A = owner.matrix()
    for tree in trees:
        t = tree.tree_
        v = np.asarray(t.value[:, 0, :], dtype=float)
        if not regression:
            total = v.sum(axis=1, keepdims=True)
            v = np.divide(v, total, out=np.zeros_like(v), where=total > 0)
        parent = np.full(t.node_count, -1)
        left, right = t.children_left, t.children_right
        inner = np.flatnonzero(left >= 0)
        parent[left[inner]] = inner
        parent[right[inner]] = inner
        nodes = np.flatnonzero(parent >= 0)
        feature = t.feature[parent[nodes]]
        path = tree.decision_path(X)[:, nodes]
        for j in range(k_seen):
            delta = v[nodes, j] - v[parent[nodes], j]
            per_feature = sparse.csr_matrix(
                (delta, (np.arange(len(nodes)), feature)), shape=(len(nodes), len(owner.index))
            )
            out = (path @ per_feature) @ A
            values[:, :, j] += out.toarray() if hasattr(out, "toarray") else out
        base += v[0]
    values /= len(trees)
    base = np.tile(base / len(trees), (n, 1))
    if not regression:
        seen = np.asarray(est.classes_).astype(np.int64)
        full = np.zeros((n, owner.n_columns, model.n_classes))
        full_base = np.zeros((n, model.n_classes))
        full[:, :, seen] = values
        full_base[:, seen] = base
        values, base = full, full_base
    return MemberContrib(values, base, "value" if regression else "probability", "saabas")


class SklearnKind(ModelKind):
    name = "sklearn"
    suffix = ".skops"
    max_bytes = MAX_SKOPS_FILE_BYTES
    libraries = ("skops",)

    def write(self, member: Mapping[str, Any], path: Path) -> None:
        import skops.io as sio

        est = member["estimator"]
        if hasattr(est, "n_jobs"):
            est.set_params(n_jobs=1)
        sio.dump(est, path)
        check_skops(path)

    def check(self, data: bytes, name: str, *, task: str, n_classes: int, width: int) -> Any:
        classes = n_classes if task == "multiclass" else (2 if task == "binary" else 1)
        check_skops_archive(data, name, n_classes=classes, n_features=width)
        return load_skops(data, name)

    def build(self, checked: Any, task: str, n_classes: int) -> SklearnModel:
        return SklearnModel(task, n_classes, checked)
