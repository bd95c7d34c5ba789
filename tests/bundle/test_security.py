"""Hostile bundles are refused with a clear error, and nothing in them runs."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

from apprentice.bundle import TRUSTED_TYPES, TrainResult, load_bundle, verify_bundle
from apprentice.bundle.sign import sign_bundle
from apprentice.errors import BundleError


def _copy(result: TrainResult, tmp_path: Path) -> Path:
    dest = tmp_path / "bundle"
    shutil.copytree(result.path, dest)
    return dest


def _manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())


def _write_manifest(path: Path, manifest: dict) -> None:
    """Write a tampered manifest and sign it with the session's key: the attacker holds the key
    here, so what refuses the bundle is the check under test, not the signature."""
    (path / "manifest.json").write_text(json.dumps(manifest))
    sign_bundle(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Boom:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def test_a_valid_bundle_verifies(blood: TrainResult) -> None:
    manifest = verify_bundle(blood.path)
    assert set(manifest["files"]) == {p.name for p in blood.path.iterdir()} - {
        "manifest.json",
        "manifest.sig",
    }


def test_modified_file_is_refused(blood: TrainResult, tmp_path: Path) -> None:
    path = _copy(blood, tmp_path)
    features = path / "features_tree.json"
    features.write_text(features.read_text().replace('"median"', '"median" ', 1))
    with pytest.raises(BundleError, match="SHA-256"):
        load_bundle(path)


def test_pickle_that_would_run_code_is_refused(blood: TrainResult, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = _copy(blood, tmp_path)
    manifest = _manifest(path)
    # the attacker controls the manifest too: a pickle posing as a skops model, hash updated
    evil = path / "model_9.skops"
    evil.write_bytes(pickle.dumps(_Boom(str(marker))))
    manifest["files"][evil.name] = _sha(evil)
    manifest["model"]["members"] = [
        {
            "file": evil.name,
            "kind": "sklearn",
            "name": "x",
            "family": "random_forest",
            "weight": 1.0,
            "view": "tree",
        }
    ]
    _write_manifest(path, manifest)
    with pytest.raises(BundleError, match="not a valid skops file"):
        load_bundle(path)
    # a pickle declared as a pickle is refused before anything is read
    evil2 = path / "model.pkl"
    evil2.write_bytes(pickle.dumps(_Boom(str(marker))))
    manifest["files"][evil2.name] = _sha(evil2)
    manifest["model"]["members"] = [
        {
            "file": evil2.name,
            "kind": "pickle",
            "name": "x",
            "family": "x",
            "weight": 1.0,
            "view": "tree",
        }
    ]
    _write_manifest(path, manifest)
    with pytest.raises(BundleError, match="never pickle"):
        load_bundle(path)
    assert not marker.exists()


def test_untrusted_type_in_skops_is_refused(blood: TrainResult, tmp_path: Path) -> None:
    import skops.io as sio

    path = _copy(blood, tmp_path)
    manifest = _manifest(path)
    evil = path / "model_9.skops"
    sio.dump({"payload": _Boom("never")}, evil)  # a type skops would ask about
    manifest["files"][evil.name] = _sha(evil)
    manifest["model"]["members"] = [
        {
            "file": evil.name,
            "kind": "sklearn",
            "name": "x",
            "family": "random_forest",
            "weight": 1.0,
            "view": "tree",
        }
    ]
    _write_manifest(path, manifest)
    with pytest.raises(BundleError, match="untrusted type"):
        load_bundle(path)
    assert "builtins.eval" not in TRUSTED_TYPES and "os.system" not in TRUSTED_TYPES


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "sub/x.json", "..", ".hidden"])
def test_path_traversal_member_names_are_refused(
    blood: TrainResult, tmp_path: Path, name: str
) -> None:
    path = _copy(blood, tmp_path)
    (tmp_path / "outside.json").write_text("{}")
    manifest = _manifest(path)
    manifest["files"][name] = _sha(tmp_path / "outside.json")
    manifest["features"]["tree"] = name
    _write_manifest(path, manifest)
    with pytest.raises(BundleError, match=r"outside the bundle|unsafe name"):
        load_bundle(path)


def test_extra_missing_and_linked_files_are_refused(blood: TrainResult, tmp_path: Path) -> None:
    path = _copy(blood, tmp_path)
    (path / "notes.txt").write_text("hello")
    with pytest.raises(BundleError, match="does not list"):
        load_bundle(path)
    (path / "notes.txt").unlink()
    features = path / "features_tree.json"
    target = tmp_path / "real.json"
    shutil.move(features, target)
    with pytest.raises(BundleError, match="missing"):
        load_bundle(path)
    features.symlink_to(target)
    with pytest.raises(BundleError, match="link"):
        load_bundle(path)


def test_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no bundle"):
        load_bundle(tmp_path / "nothing")
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(BundleError, match="not an apprentice bundle"):
        load_bundle(tmp_path)
