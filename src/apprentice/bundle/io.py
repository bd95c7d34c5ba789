"""Write, verify and load a bundle directory.

Layout::

    manifest.json          versions, task, classes, schema, metrics, SHA-256 of every file
    recipe.json            the cleaning recipe learned on the training rows (when cleaned)
    features_<view>.json   the feature spec of each view the models use
    model_<i>.txt          a LightGBM booster in its native text format
    model_<i>.json         a linear model or the constant baseline, as arrays
    model_<i>.skops        another scikit-learn model, skops format (no pickle)

Loading checks, before anything is parsed: every member name is a plain file name inside the
directory (no ``..``, no separators, no links), every file's SHA-256 matches the manifest, no
file is present that the manifest does not list, and each model file has the format its
kind requires. skops files are then checked against an explicit list of trusted types.
"""

from __future__ import annotations

import hashlib
import json
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

FORMAT = "apprentice-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 512 * 1024 * 1024
KIND_SUFFIX = {"constant": ".json", "linear": ".json", "lightgbm": ".txt", "sklearn": ".skops"}
LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "lightgbm", "skops", "pyarrow")


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


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def json_safe(value: Any) -> Any:
    """Plain JSON data: numpy values converted, NaN and infinities as null."""
    import math

    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return json_safe(_json_default(value))


def _dump_json(path: Path, payload: Any) -> None:
    text = json.dumps(json_safe(payload), allow_nan=False, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")


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
    from apprentice.bundle.trusted import check_skops

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
            _dump_json(tmp / name, spec)
            features[view] = name
        members = []
        for i, member in enumerate(export["members"]):
            kind = member["kind"]
            name = f"model_{i}{KIND_SUFFIX[kind]}"
            path = tmp / name
            if kind == "lightgbm":
                path.write_text(member["model_text"], encoding="utf-8")
            elif kind == "sklearn":
                import skops.io as sio

                est = member["estimator"]
                if hasattr(est, "n_jobs"):
                    est.set_params(n_jobs=1)
                sio.dump(est, path)
                check_skops(path)
            else:
                _dump_json(
                    path, {k: v for k, v in member.items() if k not in ("estimator", "view")}
                )
            members.append(
                {
                    "file": name,
                    "kind": kind,
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
        _dump_json(tmp / MANIFEST, document)
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


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The parsed manifest of a bundle directory, structure checked (hashes not yet)."""
    root = Path(path)
    if not root.exists():
        raise BundleError(f"no bundle at {root}: pass the directory apprentice train wrote")
    if not root.is_dir():
        raise BundleError(f"{root} is not a bundle directory (a bundle is a folder)")
    manifest_path = root / MANIFEST
    if not manifest_path.is_file() or manifest_path.is_symlink():
        raise BundleError(f"{root} holds no {MANIFEST}; it is not an apprentice bundle")
    if manifest_path.stat().st_size > MAX_MANIFEST_BYTES:
        raise BundleError(f"{MANIFEST} in {root} is too large to be a manifest")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BundleError(
            f"{MANIFEST} in {root} is not valid JSON; the bundle is damaged"
        ) from None
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
        raise _tampered("the manifest's file list is malformed")
    return manifest


def verify_bundle(path: str | Path) -> dict[str, Any]:
    """Check every file of the bundle against its manifest; return the manifest.

    Raises :class:`~apprentice.errors.BundleError` on an unsafe member name, a missing,
    linked, extra or modified file, or a model file whose format does not match its kind.
    """
    root = Path(path)
    manifest = read_manifest(root)
    files: dict[str, str] = manifest["files"]
    real_root = root.resolve()
    for name, expected in files.items():
        if not NAME_RE.match(name) or name in (MANIFEST, ".", ".."):
            raise _tampered("the manifest names a file outside the bundle or with an unsafe name")
        member = root / name
        if member.is_symlink():
            raise _tampered(f"{name} is a link")
        if not member.is_file():
            raise _tampered(f"{name} is missing")
        if member.resolve().parent != real_root:
            raise _tampered("the manifest names a file outside the bundle")
        if sha256_file(member) != expected.lower():
            raise _tampered(f"{name} does not match its SHA-256 in the manifest")
    present = {p.name for p in root.iterdir()} - {MANIFEST}
    extra = sorted(present - set(files))
    if extra:
        raise _tampered(f"the bundle holds {len(extra)} file(s) the manifest does not list")
    model = manifest.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("members"), list):
        raise _tampered("the manifest's model section is malformed")
    referenced: list[str] = []
    for member in model["members"]:
        if not isinstance(member, dict):
            raise _tampered("the manifest's model section is malformed")
        kind, file = member.get("kind"), member.get("file")
        if kind not in KIND_SUFFIX:
            raise BundleError(
                f"the bundle holds a model of kind {kind!r}; apprentice loads only "
                f"{', '.join(KIND_SUFFIX)} models and never pickle files"
            )
        if not isinstance(file, str) or not file.endswith(KIND_SUFFIX[kind]):
            raise _tampered(f"a {kind} model is not stored in its {KIND_SUFFIX[kind]} format")
        referenced.append(file)
    features = manifest.get("features")
    if not isinstance(features, dict):
        raise _tampered("the manifest's feature section is malformed")
    referenced.extend(str(v) for v in features.values())
    if manifest.get("recipe") is not None:
        referenced.append(str(manifest["recipe"]))
    unknown = [n for n in referenced if n not in files]
    if unknown:
        raise _tampered("the manifest refers to a file it does not list")
    return manifest


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise BundleError(f"{path.name} is too large")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BundleError(f"{path.name} is not valid JSON; the bundle is damaged") from None


def load_bundle(path: str | Path) -> Any:
    """Verify a bundle directory and load it as a :class:`~apprentice.bundle.Bundle`.

    Nothing from the bundle runs as code: JSON is parsed, LightGBM reads its own text format,
    and skops files are checked against :data:`~apprentice.bundle.trusted.TRUSTED_TYPES`.
    """
    from apprentice.bundle.model import Bundle
    from apprentice.bundle.runtime import FeatureRuntime, ModelRuntime, Predictor
    from apprentice.bundle.trusted import load_skops

    root = Path(path)
    manifest = verify_bundle(root)
    task = str(manifest.get("task"))
    if task not in ("binary", "multiclass", "regression"):
        raise _tampered("the manifest names an unknown task")
    n_classes = int(manifest.get("n_classes") or 0)
    features = {
        str(view): FeatureRuntime(_read_json(root / name))
        for view, name in manifest["features"].items()
    }
    members: list[tuple[ModelRuntime, float, str]] = []
    for member in manifest["model"]["members"]:
        kind = member["kind"]
        file = root / member["file"]
        view = str(member.get("view"))
        if view not in features:
            raise _tampered("a model refers to a feature view the bundle does not hold")
        payload: Any
        if kind == "lightgbm":
            import lightgbm as lgb

            try:
                payload = lgb.Booster(model_str=file.read_text(encoding="utf-8"))
            except Exception:
                raise BundleError(f"{file.name} is not a valid LightGBM model") from None
        elif kind == "sklearn":
            payload = load_skops(file)
        else:
            payload = _read_json(file)
            if not isinstance(payload, dict):
                raise BundleError(f"{file.name} is not a model description")
        try:
            runtime = ModelRuntime(kind, task, n_classes, payload)
        except (KeyError, TypeError, ValueError):
            raise BundleError(f"{file.name} is not a valid {kind} model") from None
        members.append((runtime, float(member.get("weight", 1.0)), view))
    if not members:
        raise _tampered("the bundle holds no model")
    cleaner = None
    if manifest.get("recipe"):
        from apprentice.bundle.cleaning import load_cleaner

        cleaner = load_cleaner((root / manifest["recipe"]).read_text(encoding="utf-8"))
    predictor = Predictor(task, n_classes, features, members)
    return Bundle(root, manifest, predictor, cleaner)
