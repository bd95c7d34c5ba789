"""Object storage: every path apprentice reads or writes may also be an fsspec URL.

``s3://bucket/key`` (``s3fs``), ``gs://`` (``gcsfs``), ``az://`` / ``abfs://`` (``adlfs``) and
``file://`` name a file or folder the same way a local path does. Credentials come from the
usual environment of each store (for S3: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_PROFILE``; a non-AWS server through ``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL`` or ``MLFLOW_S3_ENDPOINT_URL``).

Nothing downstream reads a remote object directly:

* an input is copied to a local temporary file that keeps the object's name (its extension
  drives format detection), read, and removed (:func:`local_input`);
* an output is written to a local temporary file and uploaded only once it is complete, so a
  failed write leaves no half-written object (:func:`local_output`, :func:`upload_dir`);
* a bundle folder is downloaded into a local cache keyed by the SHA-256 of its manifest
  (:func:`cached_bundle`); the caller verifies it as any local bundle before use.

Every failure is an :class:`~apprentice.errors.ApprenticeError` whose one-line message names
the URL and what to do: the store's package missing, no credentials, no such bucket, no such
object, access denied. fsspec and the store packages are imported inside functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from apprentice.errors import InputError, SourceNotFoundError, StorageError

log = logging.getLogger(__name__)

#: URL schemes that name a file or folder in a store fsspec reaches
SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "file", "memory")
#: the package each remote scheme needs, and the extra that installs it
_PACKAGES = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", None),
    "gcs": ("gcsfs", None),
    "az": ("adlfs", None),
    "abfs": ("adlfs", None),
    "abfss": ("adlfs", None),
    "adl": ("adlfs", None),
}
#: object stores write an object in one request (or a multipart upload that appears only
#: when complete), so an upload never shows a half-written object
_ATOMIC_PUT = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl")
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL")
MANIFEST = "manifest.json"


def scheme_of(spec: str | os.PathLike[str]) -> str:
    """The lower-case scheme of ``spec`` (``""`` for a plain path)."""
    text = str(spec)
    if "://" not in text:
        return ""
    return text.split("://", 1)[0].lower()


def is_url(spec: str | os.PathLike[str] | Any) -> bool:
    """Whether ``spec`` is a storage URL (``s3://``, ``gs://``, ``az://``, ``file://``, ...)."""
    return isinstance(spec, str | os.PathLike) and scheme_of(spec) in SCHEMES


def is_remote(spec: str | os.PathLike[str] | Any) -> bool:
    """A storage URL other than ``file://``."""
    return is_url(spec) and scheme_of(spec) != "file"


def name_of(spec: str | os.PathLike[str]) -> str:
    """The last part of a path or URL (``s3://b/data/rows.csv`` -> ``rows.csv``)."""
    text = str(spec).rstrip("/")
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.rsplit("/", 1)[-1]


def _file_path(url: str) -> Path:
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    return Path(urllib.request.url2pathname(parts.path))


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path inside it."""
    scheme = scheme_of(url)
    try:
        import fsspec
    except ImportError:
        raise StorageError(
            f"{url}: reading and writing storage URLs needs fsspec; "
            "pip install 'ml-apprentice[s3]' (or fsspec and the store's package)"
        ) from None
    options: dict[str, Any] = {}
    if scheme in ("s3", "s3a"):
        endpoint = next((os.environ[v] for v in _ENDPOINT_VARIABLES if os.environ.get(v)), None)
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        package, extra = _PACKAGES.get(scheme, (scheme, None))
        how = f"pip install 'ml-apprentice[{extra}]'" if extra else f"pip install {package}"
        raise StorageError(
            f"{url}: the {scheme}:// store needs the package {package}, which is not "
            f"installed; {how}"
        ) from None
    except ValueError as exc:
        raise StorageError(f"{url}: not a usable storage URL ({exc})") from None
    return fs, path


def _bucket(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    return rest.split("/", 1)[0]


def _is_credentials_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    text = " ".join(str(e) for e in _chain(exc)).lower()
    return bool(names & {"NoCredentialsError", "PartialCredentialsError"}) or (
        "unable to locate credentials" in text
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def translate(exc: BaseException, url: str, *, what: str, lost: str = "") -> InputError:
    """The one-line :class:`StorageError` (or :class:`SourceNotFoundError`) for a failure of
    ``what`` (e.g. "reading") at ``url``; ``lost`` is appended (e.g. "; nothing was written")."""
    scheme = scheme_of(url)
    if isinstance(exc, StorageError | SourceNotFoundError):
        return exc
    if _is_credentials_error(exc):
        return StorageError(
            f"{what} {url} failed: no credentials for {scheme}://; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), and AWS_ENDPOINT_URL for a server other "
            f"than AWS{lost}"
        )
    text = " ".join(str(e) for e in _chain(exc))
    if "NoSuchBucket" in text or "bucket does not exist" in text.lower():
        return StorageError(
            f"{what} {url} failed: the bucket '{_bucket(url)}' does not exist; create it or "
            f"fix the URL{lost}"
        )
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return StorageError(
            f"{what} {url} failed: access denied ({_first_line(exc)}); check the credentials' "
            f"permissions on '{_bucket(url)}'{lost}"
        )
    if isinstance(exc, FileNotFoundError):
        return SourceNotFoundError(
            f"{url}: no such object; check the key (and that the bucket is the right one){lost}"
        )
    if isinstance(exc, OSError) or "Connect" in type(exc).__name__:
        return StorageError(
            f"{what} {url} failed ({_first_line(exc)}); check the URL, the network and the "
            f"endpoint (AWS_ENDPOINT_URL){lost}"
        )
    return StorageError(f"{what} {url} failed ({type(exc).__name__}: {_first_line(exc)}){lost}")


def _bucket_missing(fs: Any, url: str) -> bool:
    if scheme_of(url) not in _ATOMIC_PUT:
        return False
    try:
        return not fs.exists(_bucket(url))
    except Exception:  # the original error is reported instead
        return False


# -- inputs -----------------------------------------------------------------------------------


def download(url: str, dest: Path) -> Path:
    """Copy the object at ``url`` to the local file ``dest`` (written beside, then renamed)."""
    fs, path = filesystem(url)
    partial = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        if fs.isdir(path):
            raise StorageError(
                f"{url}: is a folder (a prefix with objects under it); give the URL of a file"
            )
        fs.get_file(path, str(partial))
        partial.replace(dest)
    except StorageError:
        raise
    except Exception as exc:
        if isinstance(exc, FileNotFoundError) and _bucket_missing(fs, url):
            raise StorageError(
                f"reading {url} failed: the bucket '{_bucket(url)}' does not exist; create it "
                "or fix the URL"
            ) from None
        raise translate(exc, url, what="reading") from None
    finally:
        partial.unlink(missing_ok=True)
    log.info("downloaded %s (%d bytes)", url, dest.stat().st_size)
    return dest


@contextlib.contextmanager
def local_input(spec: str | os.PathLike[str]) -> Iterator[str | os.PathLike[str]]:
    """A local path for ``spec``: the path itself, the file of a ``file://`` URL, or a
    temporary copy of a remote object under its own name (removed afterwards)."""
    if not is_url(spec):
        yield spec
        return
    url = str(spec)
    if scheme_of(url) == "file":
        yield str(_file_path(url))
        return
    folder = Path(tempfile.mkdtemp(prefix="apprentice-in-"))
    try:
        yield str(download(url, folder / (name_of(url) or "object")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- outputs ----------------------------------------------------------------------------------


def upload(local: Path, url: str, *, lost: str = "; nothing was written") -> None:
    """Put the complete local file ``local`` at ``url`` (never a half-written object)."""
    fs, path = filesystem(url)
    try:
        if scheme_of(url) in _ATOMIC_PUT:
            fs.put_file(str(local), path)
        else:  # a file system: beside the target, then renamed over it
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if parent:
                fs.makedirs(parent, exist_ok=True)
            partial = f"{path}.{uuid.uuid4().hex[:8]}.partial"
            fs.put_file(str(local), partial)
            fs.mv(partial, path)
    except Exception as exc:
        if isinstance(exc, FileNotFoundError) and _bucket_missing(fs, url):
            raise StorageError(
                f"writing {url} failed: the bucket '{_bucket(url)}' does not exist; create it "
                f"or fix the URL{lost}"
            ) from None
        raise translate(exc, url, what="writing", lost=lost) from None
    log.info("uploaded %s", url)


def check_writable(url: str) -> None:
    """Fail early (before any work) when the bucket of ``url`` is missing or unreachable
    (object stores; a file system's folders are created on upload)."""
    if scheme_of(url) not in _ATOMIC_PUT:
        return
    fs, _ = filesystem(url)
    try:
        found = fs.exists(_bucket(url))
        if not found:
            # exists() also says False when the store refused to answer (no credentials,
            # access denied): listing the bucket raises the real reason
            fs.invalidate_cache()
            fs.ls(_bucket(url))
            found = True
    except FileNotFoundError:
        found = False
    except Exception as exc:
        raise translate(exc, url, what="writing", lost="; nothing was written") from None
    if not found:
        raise StorageError(
            f"writing {url} failed: the bucket '{_bucket(url)}' does not exist; create it or "
            "fix the URL; nothing was written"
        )


@contextlib.contextmanager
def local_output(spec: str | os.PathLike[str]) -> Iterator[Path]:
    """A local path to write ``spec`` to: the path itself, or a temporary file (same name)
    uploaded to the URL when the block ends without an error (and removed either way)."""
    if not is_url(spec):
        yield Path(spec)
        return
    url = str(spec)
    if scheme_of(url) == "file":
        yield _file_path(url)
        return
    check_writable(url)
    folder = Path(tempfile.mkdtemp(prefix="apprentice-out-"))
    try:
        local = folder / (name_of(url) or "object")
        yield local
        upload(local, url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _listing(url: str) -> list[str]:
    """The paths of the objects under the prefix ``url`` ([] when there is none)."""
    fs, path = filesystem(url)
    try:
        if not fs.exists(path):
            return []
        return [str(p) for p in fs.find(path)]
    except Exception as exc:
        raise translate(exc, url, what="listing", lost="; nothing was written") from None


def check_bundle_target(url: str) -> None:
    """Refuse, before any work, a bundle destination whose bucket is missing or whose prefix
    holds objects but no bundle (as a local ``--out`` that is a folder of something else)."""
    check_writable(url)
    names = _listing(url)
    if names and not any(name_of(n) == MANIFEST for n in names):
        raise StorageError(
            f"{url} holds {len(names)} object(s) but no bundle (no {MANIFEST}); choose another "
            "--out; nothing was written"
        )


def upload_dir(local: Path, url: str) -> None:
    """Copy the folder ``local`` to the prefix ``url``.

    ``manifest.json`` goes last, so a reader that finds the new manifest finds every file it
    lists; objects of an earlier bundle at the same prefix that the new one does not hold are
    removed afterwards (a reader that catches the moment between sees an extra file, which
    bundle verification refuses, and can try again)."""
    files = sorted(p for p in local.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == MANIFEST)
    base = url.rstrip("/")
    before = _listing(url)
    wrote: set[str] = set()
    for file in files:
        relative = file.relative_to(local).as_posix()
        upload(file, f"{base}/{relative}", lost="")
        wrote.add(relative)
    fs, path = filesystem(url)
    prefix = path.rstrip("/") + "/"
    stale = [n for n in before if n.startswith(prefix) and n[len(prefix) :] not in wrote]
    for name in stale:
        try:
            fs.rm_file(name)
        except Exception as exc:
            raise translate(exc, url, what="removing an old file under") from None
    log.info("uploaded %d file(s) to %s (%d old one(s) removed)", len(files), url, len(stale))


# -- bundles ----------------------------------------------------------------------------------


def read_bytes(url: str, *, limit: int) -> bytes:
    """The bytes of the object at ``url`` (at most ``limit``)."""
    fs, path = filesystem(url)
    try:
        size = fs.size(path)
        if size is not None and size > limit:
            raise StorageError(f"{url}: {size:,} bytes, more than the {limit:,} allowed")
        with fs.open(path, "rb") as handle:
            data: bytes = handle.read(limit + 1)
    except StorageError:
        raise
    except Exception as exc:
        if isinstance(exc, FileNotFoundError) and _bucket_missing(fs, url):
            raise StorageError(
                f"reading {url} failed: the bucket '{_bucket(url)}' does not exist; create it "
                "or fix the URL"
            ) from None
        raise translate(exc, url, what="reading") from None
    if len(data) > limit:
        raise StorageError(f"{url}: more than the {limit:,} bytes allowed")
    return data


def cached_bundle(
    url: str,
    cache: Path,
    *,
    verify: Callable[[Path], object] | None = None,
    max_manifest_bytes: int = 64 * 1024**2,
) -> Path:
    """A local copy of the bundle folder at ``url``, in ``cache/<manifest SHA-256>``.

    The manifest is fetched first; a cached copy whose manifest has that digest is reused,
    otherwise every file under the prefix is downloaded into a staging folder, checked by
    ``verify`` (the bundle's signature and every file's SHA-256; it raises to refuse) and
    renamed into place only then, so the cache never holds a changed bundle. The caller
    verifies again on every load, exactly as a local bundle.
    """
    if scheme_of(url) == "file":
        return _file_path(url)
    base = url.rstrip("/")
    try:
        manifest = read_bytes(f"{base}/{MANIFEST}", limit=max_manifest_bytes)
    except SourceNotFoundError:
        raise SourceNotFoundError(
            f"{url}: no bundle there (no {MANIFEST}); give the URL of the folder apprentice "
            "train --out wrote"
        ) from None
    digest = hashlib.sha256(manifest).hexdigest()
    target = cache / digest
    if (target / MANIFEST).is_file() and (target / MANIFEST).read_bytes() == manifest:
        log.info("bundle %s: cached copy %s", url, target)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=cache))
    fs, path = filesystem(base)
    try:
        try:
            names = [str(p) for p in fs.find(path)]
        except Exception as exc:
            raise translate(exc, url, what="listing") from None
        prefix = path.rstrip("/") + "/"
        for name in names:
            relative = name[len(prefix) :] if name.startswith(prefix) else name_of(name)
            if not relative or relative.startswith("/") or ".." in relative.split("/"):
                continue
            local = staging / relative
            local.parent.mkdir(parents=True, exist_ok=True)
            download(f"{base}/{relative}", local)
        if (staging / MANIFEST).read_bytes() != manifest:
            raise StorageError(
                f"{url}: manifest.json changed while the bundle was downloaded; try again"
            )
        if verify is not None:
            verify(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("bundle %s downloaded to %s", url, target)
    return target
