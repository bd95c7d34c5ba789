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
from apprentice.errors import BundleError, ConfigError


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
    with pytest.raises(BundleError, match=r"manifest\.sig is missing"):
        load_bundle(tmp_path)  # the signature is checked before the manifest is parsed
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(tmp_path, trust=True)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(BundleError, match="not an apprentice bundle"):
        load_bundle(tmp_path, trust=True)


# --------------------------------------------------------------------------- signatures


def _tree_digest(path: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in sorted(path.iterdir()) if p.is_file()}


def test_key_is_created_once_with_owner_only_permissions(
    blood: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.bundle.sign import KEY_ENV, KEY_FILE, key_id, workspace_key

    monkeypatch.delenv(KEY_ENV)
    workspace = tmp_path / "ws"
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(workspace))
    assert workspace_key() is None  # loading never creates a key
    path = _copy(blood, tmp_path)
    sign_bundle(path)
    key_file = workspace / KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = workspace_key()
    assert key is not None and len(key) == 64
    sign_bundle(path)  # a second signature reuses the key
    assert workspace_key() == key
    signature = json.loads((path / "manifest.sig").read_text())
    assert signature["key_id"] == key_id(key) and signature["algorithm"] == "hmac-sha256"
    assert load_bundle(path).task == "binary"
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match=r"other users .*chmod 600"):
        load_bundle(path)


def test_bundle_signed_in_another_workspace_is_refused_unless_trusted(
    blood: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.bundle.sign import KEY_ENV, TRUST_ENV

    path = _copy(blood, tmp_path)
    before = _tree_digest(path)
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("APPRENTICE_WORKSPACE", str(tmp_path / "other"))
    with pytest.raises(
        BundleError, match=r"manifest\.sig was signed with key .* has no bundle key"
    ):
        load_bundle(path)
    sign_bundle(_copy_to(path, tmp_path / "mine"))  # this workspace now has its own key
    with pytest.raises(
        BundleError, match=r"manifest\.sig was signed with another key .*trust=True"
    ):
        load_bundle(path)
    assert load_bundle(path, trust=True).task == "binary"
    monkeypatch.setenv(TRUST_ENV, "1")
    assert load_bundle(path).task == "binary"
    with pytest.raises(BundleError, match="signed with another key"):
        load_bundle(path, trust=False)  # the argument wins over the environment
    monkeypatch.setenv(TRUST_ENV, "maybe")
    with pytest.raises(ConfigError, match=r"APPRENTICE_TRUST_BUNDLES='maybe' is not a boolean"):
        load_bundle(path)
    assert _tree_digest(path) == before  # refusing or trusting never rewrites the bundle


def _copy_to(path: Path, dest: Path) -> Path:
    shutil.copytree(path, dest)
    return dest


def test_unsigned_and_resigned_elsewhere(blood: TrainResult, tmp_path: Path) -> None:
    path = _copy(blood, tmp_path)
    (path / "manifest.sig").unlink()
    with pytest.raises(BundleError, match=r"manifest\.sig is missing: the bundle is not signed"):
        verify_bundle(path)
    assert verify_bundle(path, trust=True)["task"] == "binary"
    # a manifest edited by hand (a better metric), signature left as it was
    path2 = _copy_to(blood.path, tmp_path / "edited")
    manifest = _manifest(path2)
    manifest["metrics"] = {"roc_auc": 0.99}
    (path2 / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"manifest\.json does not match its signature"):
        load_bundle(path2)


def test_adopting_a_bundle_checks_its_digest_first(
    blood: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.bundle.sign import KEY_ENV, adopt_bundle, manifest_digest

    path = _copy(blood, tmp_path)
    digest = manifest_digest(path)
    monkeypatch.setenv(KEY_ENV, "z" * 64)  # another machine
    with pytest.raises(BundleError, match="signed with another key"):
        load_bundle(path)
    signature = (path / "manifest.sig").read_bytes()
    with pytest.raises(BundleError, match=r"is not the bundle you expect; do not sign it"):
        adopt_bundle(path, expected_digest="0" * 64)
    assert (path / "manifest.sig").read_bytes() == signature  # nothing overwritten
    adopt_bundle(path, expected_digest=digest.upper())
    assert load_bundle(path).task == "binary"


def test_deep_and_duplicate_json_are_bundle_errors(blood: TrainResult, tmp_path: Path) -> None:
    from apprentice.modelfiles.jsonfile import load_json

    with pytest.raises(BundleError, match=r"x\.json nests 100000 levels deep"):
        load_json(b"[" * 100_000 + b"]" * 100_000, "x.json")
    with pytest.raises(BundleError, match=r"x\.json repeats the key 'a'"):
        load_json(b'{"a": 1, "b": {"a": 2}, "a": 3}', "x.json")
    with pytest.raises(BundleError, match=r"x\.json is not valid JSON"):
        load_json(b'{"a": ', "x.json")
    assert load_json(b'{"a": "[[[[", "b": [1, {"c": "]]"}]}', "x.json") == {
        "a": "[[[[",
        "b": [1, {"c": "]]"}],
    }


def test_a_file_changed_after_verification_is_refused(blood: TrainResult, tmp_path: Path) -> None:
    """What is parsed is what was hashed: each file is read once and hashed again."""
    from apprentice.bundle.io import _member_bytes

    path = _copy(blood, tmp_path)
    manifest = verify_bundle(path)
    name = next(iter(manifest["features"].values()))
    assert _member_bytes(path, name, manifest, 1 << 20) == (path / name).read_bytes()
    (path / name).write_text("{}")  # swapped between the check and the parse
    with pytest.raises(BundleError, match=rf"{name} changed while the bundle was loaded"):
        _member_bytes(path, name, manifest, 1 << 20)
    with pytest.raises(BundleError, match=rf"{name} is [\d,]+ bytes, more than the 1 allowed"):
        _member_bytes(path, name, manifest, 1)


def test_key_is_created_where_hard_links_are_not_supported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apprentice.bundle import sign

    monkeypatch.delenv(sign.KEY_ENV)

    def no_links(src: object, dst: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(sign.os, "link", no_links)
    key = sign.workspace_key(tmp_path / "ws", create=True)
    assert key is not None and len(key) == 64
    assert (tmp_path / "ws" / sign.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert sign.workspace_key(tmp_path / "ws", create=True) == key
    assert [p.name for p in (tmp_path / "ws").iterdir()] == [sign.KEY_FILE]  # no temp left
