"""Signed manifests: who wrote a bundle, checked before anything in it is read.

A bundle's ``manifest.json`` lists the SHA-256 of every file; ``manifest.sig`` holds an
HMAC-SHA256 of the manifest's exact bytes under the **workspace key**, so that someone who
can write the bundle folder (or the MLflow artifact store) cannot change a file and re-hash it.

The key is, in this order:

1. ``APPRENTICE_BUNDLE_KEY`` (at least 32 characters): one secret shared by the machines that
   train and serve (CI, a server fleet); generate it with
   ``python -c "import secrets; print(secrets.token_hex(32))"``;
2. ``<workspace>/bundle.key``, created with mode 0600 the first time a bundle is written in
   the workspace (``APPRENTICE_WORKSPACE``, default ``.apprentice/``).

Loading an unsigned bundle, or one signed with another key, is refused unless the caller
trusts it explicitly: ``load_bundle(path, trust=True)`` or ``APPRENTICE_TRUST_BUNDLES=1``.
Trust skips only the signature: hashes and the validation of every model file still run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import uuid
from pathlib import Path

from apprentice.errors import BundleError, ConfigError

log = logging.getLogger(__name__)

SIGNATURE = "manifest.sig"
KEY_FILE = "bundle.key"
KEY_ENV = "APPRENTICE_BUNDLE_KEY"
TRUST_ENV = "APPRENTICE_TRUST_BUNDLES"
ALGORITHM = "hmac-sha256"
MIN_KEY_CHARS = 32
MAX_KEY_CHARS = 4096
MAX_SIGNATURE_BYTES = 4096
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _workspace(workspace: str | Path | None) -> Path:
    if workspace is not None:
        return Path(workspace).expanduser()
    from apprentice.config import get_settings

    return Path(get_settings().workspace).expanduser()


def _check_key_text(text: str, where: str) -> bytes:
    key = text.strip()
    if not MIN_KEY_CHARS <= len(key) <= MAX_KEY_CHARS:
        raise ConfigError(
            f"the bundle key in {where} must be {MIN_KEY_CHARS} to {MAX_KEY_CHARS} characters; "
            'generate one with python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return key.encode("utf-8")


def _read_key_file(path: Path) -> bytes:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a plain file; remove it and write the bundle again")
    if info.st_mode & 0o077:
        raise ConfigError(
            f"{path} can be read or written by other users (mode "
            f"{stat.S_IMODE(info.st_mode):o}); run chmod 600 {path}"
        )
    if info.st_size > MAX_KEY_CHARS + 2:
        raise ConfigError(f"{path} is too large to be a bundle key; remove it")
    return _check_key_text(path.read_text(encoding="ascii", errors="replace"), str(path))


def workspace_key(workspace: str | Path | None = None, *, create: bool = False) -> bytes | None:
    """The key bundles are signed with: ``APPRENTICE_BUNDLE_KEY``, else the workspace's
    ``bundle.key`` (created with mode 0600 when ``create``); ``None`` when there is none."""
    env = os.environ.get(KEY_ENV)
    if env:
        return _check_key_text(env, KEY_ENV)
    path = _workspace(workspace) / KEY_FILE
    if path.exists() or path.is_symlink():
        return _read_key_file(path)
    if not create:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_hex(32) + "\n"
    tmp = path.parent / f".{KEY_FILE}.{uuid.uuid4().hex[:8]}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        try:
            os.link(tmp, path)  # atomic: a concurrent writer's key wins, never half a file
            log.info("created the bundle signing key %s", path)
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: exclusive create instead
            _create_exclusive(path, text)
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key_file(path)


def _create_exclusive(path: Path, text: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    log.info("created the bundle signing key %s", path)


def key_id(key: bytes) -> str:
    """A short public name of a key (it reveals nothing of the key)."""
    return hashlib.sha256(b"apprentice-bundle-key:" + key).hexdigest()[:16]


def _mac(key: bytes, manifest: bytes) -> str:
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


def manifest_digest(root: str | Path) -> str:
    """The SHA-256 of ``manifest.json``: it covers every file of the bundle."""
    from apprentice.bundle.io import MANIFEST

    return hashlib.sha256((Path(root) / MANIFEST).read_bytes()).hexdigest()


def sign_bundle(root: str | Path, *, workspace: str | Path | None = None) -> Path:
    """Write ``manifest.sig`` for the manifest as it is now; the key is created if needed.

    Call it after apprentice itself wrote or rewrote ``manifest.json``; to adopt a bundle
    from elsewhere, check its origin first (see :func:`adopt_bundle`).
    """
    from apprentice.bundle.io import MANIFEST

    root = Path(root)
    key = workspace_key(workspace, create=True)
    assert key is not None
    body = (root / MANIFEST).read_bytes()
    document = {
        "algorithm": ALGORITHM,
        "key_id": key_id(key),
        "manifest_sha256": hashlib.sha256(body).hexdigest(),
        "signature": _mac(key, body),
    }
    target = root / SIGNATURE
    tmp = root / f".{SIGNATURE}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(document), encoding="utf-8")
    os.replace(tmp, target)
    return target


def trust_from_env() -> bool:
    """``APPRENTICE_TRUST_BUNDLES`` as a boolean (unset: ``False``)."""
    raw = os.environ.get(TRUST_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE or raw == "":
        return False
    raise ConfigError(f"{TRUST_ENV}={raw!r} is not a boolean; set it to 1 or 0, or unset it")


def _unsigned(root: Path, what: str) -> BundleError:
    return BundleError(
        f"{root / SIGNATURE} {what}. Rebuild the bundle with apprentice in this workspace, "
        f"share the key that signed it ({KEY_ENV}), or, if you trust where it came from, load "
        f"it with trust=True or {TRUST_ENV}=1"
    )


def check_signature(
    root: Path, manifest: bytes, *, trust: bool | None = None, workspace: str | Path | None = None
) -> bool:
    """Check ``manifest.sig`` against the exact manifest bytes that will be parsed.

    Returns ``True`` when the signature is valid, ``False`` when it is not but the caller
    trusts the bundle (``trust``, or ``APPRENTICE_TRUST_BUNDLES`` when ``trust`` is None).
    """
    trusted = trust_from_env() if trust is None else bool(trust)
    try:
        _verify(root, manifest, workspace)
    except BundleError as exc:
        if not trusted:
            raise
        log.warning("loading %s without a valid signature because it is trusted: %s", root, exc)
        return False
    return True


def _verify(root: Path, manifest: bytes, workspace: str | Path | None) -> None:
    path = root / SIGNATURE
    if path.is_symlink() or not path.exists():
        raise _unsigned(root, "is missing: the bundle is not signed, nobody vouches for it")
    if not path.is_file() or path.stat().st_size > MAX_SIGNATURE_BYTES:
        raise _unsigned(root, "is not a signature file")
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        raise _unsigned(root, "is not valid JSON") from None
    if (
        not isinstance(document, dict)
        or document.get("algorithm") != ALGORITHM
        or not isinstance(document.get("key_id"), str)
        or not isinstance(document.get("signature"), str)
    ):
        raise _unsigned(root, f"is not an {ALGORITHM} signature apprentice wrote")
    key = workspace_key(workspace)
    if key is None:
        raise _unsigned(
            root,
            f"was signed with key {document['key_id'][:16]!r} and this workspace "
            f"({_workspace(workspace)}) has no bundle key",
        )
    mine = key_id(key)
    if not hmac.compare_digest(document["key_id"], mine):
        raise _unsigned(
            root,
            f"was signed with another key ({document['key_id'][:16]!r}, this workspace holds "
            f"{mine!r})",
        )
    if not hmac.compare_digest(document["signature"], _mac(key, manifest)):
        raise BundleError(
            f"{root / 'manifest.json'} does not match its signature {path}: the bundle was "
            "modified after it was written; do not use it, rebuild it with apprentice train"
        )


def adopt_bundle(
    root: str | Path, *, expected_digest: str, workspace: str | Path | None = None
) -> Path:
    """Sign a bundle from elsewhere with this workspace's key, after checking that its
    manifest is exactly the one you expect (``expected_digest``, the SHA-256 printed by the
    machine that wrote it, or stored by the registry)."""
    actual = manifest_digest(root)
    if not hmac.compare_digest(actual, expected_digest.strip().lower()):
        raise BundleError(
            f"{Path(root) / 'manifest.json'} has SHA-256 {actual}, not {expected_digest}: "
            "it is not the bundle you expect; do not sign it"
        )
    return sign_bundle(root, workspace=workspace)
