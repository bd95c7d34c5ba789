"""Write, verify and load a bundle directory.

Layout::

    manifest.json          versions, task, classes, schema, metrics, SHA-256 of every file
    recipe.json            the cleaning recipe learned on the training rows (when cleaned)
    features_<view>.json   the feature spec of each view the models use
    model_<i>.<suffix>     one model per member, in its kind's format (see
                           :mod:`apprentice.modelfiles`: LightGBM text, XGBoost and
                           CatBoost JSON, JSON arrays, skops)

    manifest.sig           the HMAC-SHA256 of manifest.json under the workspace key (see sign.py)

Loading checks, before anything is parsed: manifest.json's signature (unless the caller trusts
the bundle, see :mod:`apprentice.bundle.sign`), every member name is a plain file name inside
the directory (no ``..``, no separators, no links), every file's SHA-256 matches the manifest,
no file is present that the manifest does not list, and each model file has the format its
kind requires. Every file is then validated before a parser in native code sees it: JSON
with caps, each model file by its kind's checker (:data:`apprentice.modelfiles.KINDS`).
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import re
import shutil
import uuid
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from apprentice._version import __version__
from apprentice.errors import BundleError, ConfigError
from apprentice.modelfiles import KINDS, kind_of, refuse
from apprentice.modelfiles.jsonfile import (
    MAX_JSON_BYTES,
    dump_json,
    json_default,
    load_json,
)
from apprentice.modelfiles.jsonfile import json_safe as json_safe  # a public name of bundle.io
from apprentice.modelfiles.trees import MAX_CLASSES

FORMAT = "apprentice-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_NATIVE = sorted({name for k in KINDS.values() for name in k.libraries})
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "pyarrow", *_NATIVE)
#: kept for callers of the old private name
_json_default = json_default


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "apprentice": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_bundle(
    out: str | Path,
    *,
    export: Mapping[str, Any],
    recipe_json: str | None,
    manifest: Mapping[str, Any],
) -> Path:
    """Write the bundle of an exported model (``FinalModel.export()``) into ``out``.

    ``out`` is created, or replaced when it already holds a bundle; a directory holding
    anything else is refused. Returns the bundle path.
    """
    from apprentice.bundle.sign import sign_bundle

    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise ConfigError(f"{out} exists and is not a directory; choose another --out")
        if any(out.iterdir()) and not (out / MANIFEST).is_file():
            raise ConfigError(
                f"{out} is a non-empty directory that is not a bundle; choose another --out"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files: dict[str, str] = {}
        recipe_name = None
        if recipe_json is not None:
            recipe_name = "recipe.json"
            (tmp / recipe_name).write_text(recipe_json, encoding="utf-8")
        features: dict[str, str] = {}
        for view, spec in export["features"].items():
            name = f"features_{view}.json"
            dump_json(tmp / name, spec)
            features[view] = name
        members = []
        for i, member in enumerate(export["members"]):
            kind = kind_of(member["kind"])
            name = f"model_{i}{kind.suffix}"
            kind.write(member, tmp / name)
            members.append(
                {
                    "file": name,
                    "kind": kind.name,
                    "name": member["name"],
                    "family": member["family"],
                    "weight": member["weight"],
                    "view": member["view"],
                }
            )
        for path in sorted(tmp.iterdir()):
            files[path.name] = sha256_file(path)
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "apprentice_version": __version__,
            "libraries": library_versions(),
            **dict(manifest),
            "task": export["task"],
            "n_classes": export["n_classes"],
            "model": {"name": export["name"], "members": members},
            "features": features,
            "recipe": recipe_name,
            "files": files,
        }
        dump_json(tmp / MANIFEST, document)
        sign_bundle(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# --------------------------------------------------------------------------- verification


def _tampered(what: str) -> BundleError:
    return BundleError(
        f"{what}; the bundle was modified after it was written: do not use it, rebuild it "
        "with apprentice train"
    )


def _manifest_bytes(root: Path) -> bytes:
    """The exact bytes of the manifest (nothing parsed yet)."""
    if not root.exists():
        raise BundleError(f"no bundle at {root}: pass the directory apprentice train wrote")
    if not root.is_dir():
        raise BundleError(f"{root} is not a bundle directory (a bundle is a folder)")
    manifest_path = root / MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        raise BundleError(f"{root} holds no {MANIFEST}; it is not an apprentice bundle")
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{MANIFEST} in {root} is too large to be a manifest")
    return manifest_path.read_bytes()


def _parse_manifest(root: Path, data: bytes) -> dict[str, Any]:
    """The manifest's parse, structure checked (hashes not yet)."""
    try:
        manifest = load_json(data, MANIFEST, max_bytes=MAX_MANIFEST_BYTES)
    except BundleError as exc:
        raise BundleError(f"{MANIFEST} in {root} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{root} is not an apprentice bundle (unknown manifest format)")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BundleError(
            f"the bundle format version {manifest.get('format_version')!r} is not supported by "
            f"this apprentice ({FORMAT_VERSION}); rebuild it or upgrade apprentice"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise _tampered("manifest.json's file list is malformed")
    return manifest


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The parsed manifest of a bundle directory, structure checked (signature and hashes
    not yet: use :func:`verify_bundle` before trusting anything in it)."""
    root = Path(path)
    return _parse_manifest(root, _manifest_bytes(root))


def verify_bundle(path: str | Path, *, trust: bool | None = None) -> dict[str, Any]:
    """Check manifest.json's signature and every file of the bundle against it; return the
    manifest.

    Raises :class:`~apprentice.errors.BundleError` on an unsigned or wrongly signed manifest
    (unless ``trust``, or ``APPRENTICE_TRUST_BUNDLES=1`` when ``trust`` is None), an unsafe
    member name, a missing, linked, extra or modified file, or a model file whose format does
    not match its kind.
    """
    from apprentice.bundle.sign import SIGNATURE, check_signature

    root = Path(path)
    data = _manifest_bytes(root)
    check_signature(root, data, trust=trust)  # before anything in it is parsed
    manifest = _parse_manifest(root, data)
    files: dict[str, str] = manifest["files"]
    real_root = root.resolve()
    for name, expected in files.items():
        if not NAME_RE.match(name) or name in (MANIFEST, SIGNATURE, ".", ".."):
            raise _tampered("manifest.json names a file outside the bundle or with an unsafe name")
        member = root / name
        if member.is_symlink():
            raise _tampered(f"{name} is a link")
        if not member.is_file():
            raise _tampered(f"{name} is missing")
        if member.resolve().parent != real_root:
            raise _tampered("manifest.json names a file outside the bundle")
        if sha256_file(member) != expected.lower():
            raise _tampered(f"{name} does not match its SHA-256 in the manifest")
    present = {p.name for p in root.iterdir()} - {MANIFEST, SIGNATURE}
    extra = sorted(present - set(files))
    if extra:
        shown = ", ".join(repr(n)[:60] for n in extra[:3]) + (" ..." if len(extra) > 3 else "")
        raise _tampered(
            f"the bundle holds {len(extra)} file(s) the manifest does not list ({shown})"
        )
    model = manifest.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("members"), list):
        raise _tampered("manifest.json's model section is malformed")
    referenced: list[str] = []
    for member in model["members"]:
        if not isinstance(member, dict):
            raise _tampered("manifest.json's model section is malformed")
        file = member.get("file")
        kind = kind_of(member.get("kind"), file)
        if not isinstance(file, str) or not file.endswith(kind.suffix):
            raise _tampered(
                f"{str(file)[:60]!r}, a {kind.name} model, is not in its {kind.suffix} format"
            )
        weight = member.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise _tampered(f"the weight of {file} is not a number")
        if not math.isfinite(float(weight)):
            raise _tampered(f"the weight of {file} is not a finite number")
        referenced.append(file)
    features = manifest.get("features")
    if not isinstance(features, dict) or not all(isinstance(v, str) for v in features.values()):
        raise _tampered("manifest.json's feature section is malformed")
    referenced.extend(features.values())
    if manifest.get("recipe") is not None:
        if not isinstance(manifest["recipe"], str):
            raise _tampered("manifest.json's recipe entry is malformed")
        referenced.append(manifest["recipe"])
    unknown = [n for n in referenced if n not in files]
    if unknown:
        raise _tampered("manifest.json refers to a file it does not list")
    _check_task(manifest)
    return manifest


def _check_task(manifest: Mapping[str, Any]) -> None:
    task = manifest.get("task")
    if task not in ("binary", "multiclass", "regression"):
        raise _tampered("manifest.json names an unknown task")
    n_classes = manifest.get("n_classes")
    if n_classes is None:
        n_classes = 0
    if isinstance(n_classes, bool) or not isinstance(n_classes, int):
        raise _tampered("manifest.json's class count is not a whole number")
    low, high = {"binary": (2, 2), "multiclass": (2, MAX_CLASSES), "regression": (0, 1)}[task]
    if not low <= n_classes <= high:
        raise _tampered(f"manifest.json counts {n_classes} classes for a {task} task")
    classes = manifest.get("classes")
    if task != "regression" and (not isinstance(classes, list) or len(classes) != n_classes):
        raise _tampered("manifest.json's classes do not match its class count")


def _member_bytes(root: Path, name: str, manifest: Mapping[str, Any], limit: int) -> bytes:
    """The bytes of a listed file, read once and checked against the manifest again: what is
    parsed is exactly what was hashed and signed, even if the folder changes during loading."""
    path = root / name
    size = path.stat().st_size
    if size > limit:
        raise refuse(name, f"is {size:,} bytes, more than the {limit:,} allowed")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != str(manifest["files"].get(name, "")).lower():
        raise _tampered(f"{name} changed while the bundle was loaded")
    return data


def _member_json(root: Path, name: str, manifest: Mapping[str, Any]) -> Any:
    return load_json(_member_bytes(root, name, manifest, MAX_JSON_BYTES), name)


def local_bundle(path: str | Path, *, trust: bool | None = None) -> Path:
    """The bundle folder ``path`` on this machine: a local path as it is; a storage URL
    (``s3://bucket/prefix``, ``file://...``) downloaded into the workspace's cache
    ``<workspace>/cache/bundles/<manifest SHA-256>`` (reused while the manifest is the same).
    A download is verified (:func:`verify_bundle`, with ``trust``) before it enters the
    cache; verify the result again before trusting it, as any local bundle."""
    from apprentice import storage

    if not storage.is_url(path):
        return Path(path)
    from apprentice.config import get_settings

    cache = Path(get_settings().workspace).expanduser().resolve() / "cache" / "bundles"
    return storage.cached_bundle(
        str(path),
        cache,
        verify=lambda staged: verify_bundle(staged, trust=trust),
        max_manifest_bytes=MAX_MANIFEST_BYTES,
    )


def load_bundle(path: str | Path, *, trust: bool | None = None) -> Any:
    """Verify a bundle directory and load it as a :class:`~apprentice.bundle.Bundle`.

    ``path`` may be a storage URL (``s3://bucket/prefix``): the folder is downloaded into the
    workspace's cache first (:func:`local_bundle`) and verified there like any bundle.

    The manifest must carry a valid signature from this workspace's key unless ``trust`` is
    True (``None``: ``APPRENTICE_TRUST_BUNDLES``). Whatever the signature, nothing from the
    bundle runs as code and no file reaches a native parser unchecked: JSON is parsed with
    caps, and each model file is checked by its kind (:data:`apprentice.modelfiles.KINDS`)
    before its library parses it.
    """
    from apprentice.bundle.model import Bundle
    from apprentice.bundle.runtime import FeatureRuntime, ModelRuntime, Predictor

    root = local_bundle(path, trust=trust)
    manifest = verify_bundle(root, trust=trust)
    task = str(manifest["task"])
    n_classes = int(manifest.get("n_classes") or 0)
    features: dict[str, FeatureRuntime] = {}
    for view, name in manifest["features"].items():
        try:
            features[str(view)] = FeatureRuntime(_member_json(root, name, manifest))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
            raise refuse(name, "is not a feature spec apprentice wrote") from None
    members: list[tuple[ModelRuntime, float, str]] = []
    for member in manifest["model"]["members"]:
        kind, name = KINDS[member["kind"]], member["file"]
        view = str(member.get("view"))
        if view not in features:
            raise _tampered(
                "a model in manifest.json refers to a feature view the bundle does not hold"
            )
        data = _member_bytes(root, name, manifest, kind.max_bytes)
        width = features[view].n_outputs
        model = kind.load(data, name, task=task, n_classes=n_classes, width=width)
        runtime = ModelRuntime(model)
        members.append((runtime, float(member.get("weight", 1.0)), view))
    if not members:
        raise _tampered("manifest.json lists no model")
    cleaner = None
    if manifest.get("recipe"):
        from apprentice.bundle.cleaning import load_cleaner

        recipe = root / manifest["recipe"]
        data = _member_bytes(root, recipe.name, manifest, MAX_JSON_BYTES)
        load_json(data, recipe.name)  # caps on size and depth before the recipe is parsed
        try:
            cleaner = load_cleaner(data.decode("utf-8"))
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise refuse(recipe.name, "is not a cleaning recipe apprentice wrote") from None
    predictor = Predictor(task, n_classes, features, members)
    return Bundle(root, manifest, predictor, cleaner)
