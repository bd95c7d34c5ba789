"""The model registry: bundles as registered model versions, with ``champion`` and
``challenger`` aliases.

A registered model belongs to one task: its tags ``apprentice.task`` and ``apprentice.target``
are set by the first registration, and a later run with another task or target is refused
(before it trains). Registration is all or nothing: a failure removes what it created.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apprentice.config import Settings
from apprentice.track.errors import ModelNotFoundError, RegistryError, TrackingError
from apprentice.track.local import SqliteRegistry, stamp
from apprentice.track.store import Tracker, is_not_found, mlflow_message
from apprentice.track.uri import sqlite_path

CHAMPION = "champion"
CHALLENGER = "challenger"
TAG_TASK = "apprentice.task"
TAG_TARGET = "apprentice.target"
TAG_RUN = "apprentice.run_id"
TAG_DIGEST = "apprentice.bundle_sha256"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
ALIAS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,254}$")


_stamp = stamp


@dataclass
class VersionInfo:
    """One registered version of a model."""

    name: str
    version: int
    aliases: list[str]
    source: str
    run_id: str | None
    created_at: str | None
    description: str
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "aliases": self.aliases,
            "source": self.source,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "description": self.description,
            "tags": self.tags,
        }


@dataclass
class ModelInfo:
    """A registered model: its task, its aliases and (from :func:`show_model`) its versions."""

    name: str
    task: str | None
    target: str | None
    aliases: dict[str, int]
    latest_version: int | None
    description: str
    created_at: str | None
    updated_at: str | None
    tags: dict[str, str] = field(default_factory=dict)
    versions: list[VersionInfo] = field(default_factory=list)

    @property
    def champion(self) -> int | None:
        return self.aliases.get(CHAMPION)

    @property
    def challenger(self) -> int | None:
        return self.aliases.get(CHALLENGER)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "target": self.target,
            "aliases": self.aliases,
            "latest_version": self.latest_version,
            "description": self.description,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "tags": self.tags,
            "versions": [v.to_dict() for v in self.versions],
        }


@dataclass(frozen=True)
class Registration:
    """What :func:`register_bundle` did."""

    name: str
    version: int
    alias: str
    created_model: bool
    source: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "created_model": self.created_model,
            "source": self.source,
            "uri": self.uri,
        }


@dataclass(frozen=True)
class Promotion:
    """What :func:`promote` did: ``alias`` moved from ``previous`` (or nowhere) to ``version``."""

    name: str
    version: int
    alias: str
    previous: int | None
    cleared: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "previous": self.previous,
            "cleared": list(self.cleared),
        }


@dataclass(frozen=True)
class ResolvedModel:
    """A registered version resolved to a bundle folder on this machine."""

    name: str
    version: int
    alias: str | None
    source: str
    run_id: str | None
    path: Path
    task: str | None
    target: str | None
    digest: str | None = None

    def load(self) -> Any:
        """The verified :class:`~apprentice.bundle.Bundle` (its manifest's signature, the
        digest the registry recorded, and every file)."""
        from apprentice.bundle import load_bundle

        if self.digest is not None and _manifest_sha256(self.path) != self.digest:
            from apprentice.errors import BundleError

            raise BundleError(
                f"{self.path / 'manifest.json'} changed since {self.name!r} version "
                f"{self.version} was resolved; do not use it, resolve the model again"
            )
        return load_bundle(self.path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "source": self.source,
            "run_id": self.run_id,
            "path": str(self.path),
            "task": self.task,
            "target": self.target,
        }


# -- reading ----------------------------------------------------------------------------------


def check_name(name: str) -> str:
    """``name`` if it is a usable model name, else a :class:`RegistryError`."""
    if not NAME_RE.match(name or ""):
        raise RegistryError(
            f"the model name {name!r} is not usable: use 1 to 128 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return name


def _registered(tracker: Tracker, name: str) -> Any | None:
    try:
        return tracker.client.get_registered_model(name)
    except TrackingError:
        raise
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise TrackingError(
            f"cannot read the registry at {tracker.display_uri} ({mlflow_message(exc)})"
        ) from None


def _aliases(model: Any) -> dict[str, int]:
    raw = getattr(model, "aliases", None) or {}
    if isinstance(raw, Mapping):
        return {str(k): int(v) for k, v in raw.items()}
    out: dict[str, int] = {}
    for item in raw:  # older clients: a list of RegisteredModelAlias
        out[str(item.alias)] = int(item.version)
    return out


def _model_info(model: Any) -> ModelInfo:
    tags = dict(getattr(model, "tags", None) or {})
    latest = [int(v.version) for v in (getattr(model, "latest_versions", None) or [])]
    return ModelInfo(
        name=str(model.name),
        task=tags.get(TAG_TASK),
        target=tags.get(TAG_TARGET),
        aliases=_aliases(model),
        latest_version=max(latest) if latest else None,
        description=str(getattr(model, "description", None) or ""),
        created_at=_stamp(getattr(model, "creation_timestamp", None)),
        updated_at=_stamp(getattr(model, "last_updated_timestamp", None)),
        tags=tags,
    )


def _version_info(version: Any, aliases: Mapping[str, int]) -> VersionInfo:
    number = int(version.version)
    return VersionInfo(
        name=str(version.name),
        version=number,
        aliases=sorted(a for a, v in aliases.items() if v == number),
        source=str(version.source),
        run_id=getattr(version, "run_id", None) or None,
        created_at=_stamp(getattr(version, "creation_timestamp", None)),
        description=str(getattr(version, "description", None) or ""),
        tags=dict(getattr(version, "tags", None) or {}),
    )


def _versions(tracker: Tracker, name: str, aliases: Mapping[str, int]) -> list[VersionInfo]:
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    out: list[VersionInfo] = []
    token = None
    while True:
        page = tracker.client.search_model_versions(
            f"name='{quoted}'", max_results=1000, page_token=token
        )
        out += [_version_info(v, aliases) for v in page]
        token = getattr(page, "token", None)
        if not token:
            break
    return sorted(out, key=lambda v: v.version)


def _fast(tracker: Tracker) -> SqliteRegistry | None:
    """The MLflow-free reader of a local SQLite store not yet opened by MLflow, if it applies."""
    if not tracker.is_local or tracker.opened:
        return None
    db = sqlite_path(tracker.uri)
    return None if db is None else SqliteRegistry.open(db)


def _unopened_missing(tracker: Tracker) -> bool:
    """A local store whose file does not exist (yet) holds no model; nothing to open."""
    db = sqlite_path(tracker.uri) if tracker.is_local and not tracker.opened else None
    return db is not None and not db.exists()


def _fast_model(row: Mapping[str, Any]) -> ModelInfo:
    tags = dict(row["tags"])
    return ModelInfo(
        name=str(row["name"]),
        task=tags.get(TAG_TASK),
        target=tags.get(TAG_TARGET),
        aliases=dict(row["aliases"]),
        latest_version=row["latest"],
        description=str(row["description"]),
        created_at=_stamp(row["created"]),
        updated_at=_stamp(row["updated"]),
        tags=tags,
    )


def _fast_version(name: str, row: Mapping[str, Any], aliases: Mapping[str, int]) -> VersionInfo:
    number = int(row["version"])
    return VersionInfo(
        name=name,
        version=number,
        aliases=sorted(a for a, v in aliases.items() if v == number),
        source=str(row["source"]),
        run_id=row["run_id"],
        created_at=_stamp(row["created"]),
        description=str(row["description"]),
        tags=dict(row["tags"]),
    )


def list_models(tracker: Tracker) -> list[ModelInfo]:
    """Every registered model, by name."""
    if _unopened_missing(tracker):
        return []
    fast = _fast(tracker)
    if fast is not None:
        return sorted((_fast_model(m) for m in fast.models()), key=lambda m: m.name.casefold())
    out: list[ModelInfo] = []
    token = None
    try:
        while True:
            page = tracker.client.search_registered_models(max_results=1000, page_token=token)
            out += [_model_info(m) for m in page]
            token = getattr(page, "token", None)
            if not token:
                break
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(
            f"cannot read the registry at {tracker.display_uri} ({mlflow_message(exc)})"
        ) from None
    return sorted(out, key=lambda m: m.name.casefold())


def _not_found(tracker: Tracker, name: str) -> ModelNotFoundError:
    names = [m.name for m in list_models(tracker)]
    known = (
        "; registered models: " + ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
        if names
        else "; no model is registered yet (apprentice run FILE --target T registers one)"
    )
    return ModelNotFoundError(f"no registered model {name!r} at {tracker.display_uri}" + known)


def show_model(tracker: Tracker, name: str) -> ModelInfo:
    """A registered model with all its versions."""
    if _unopened_missing(tracker):
        raise _not_found(tracker, name)
    fast = _fast(tracker)
    if fast is not None:
        rows = fast.models(name)
        if not rows:
            raise _not_found(tracker, name)
        info = _fast_model(rows[0])
        info.versions = [_fast_version(name, v, info.aliases) for v in fast.versions(name)]
        if info.versions:
            info.latest_version = info.versions[-1].version
        return info
    model = _registered(tracker, name)
    if model is None:
        raise _not_found(tracker, name)
    info = _model_info(model)
    try:
        info.versions = _versions(tracker, name, info.aliases)
    except Exception as exc:
        raise TrackingError(
            f"cannot list the versions of {name!r} ({mlflow_message(exc)})"
        ) from None
    if info.versions:
        info.latest_version = info.versions[-1].version
    return info


def check_task(tracker: Tracker, name: str, *, task: str, target: str) -> ModelInfo | None:
    """Refuse a model name already registered for another task or target (or not by apprentice).

    Returns the registered model, or ``None`` when the name is free. Call it before training.
    """
    check_name(name)
    model = _registered(tracker, name)
    if model is None:
        return None
    info = _model_info(model)
    if info.task is None:
        raise RegistryError(
            f"the model name {name!r} is already registered at {tracker.display_uri}, but not "
            "by apprentice; choose another --name"
        )
    if info.task != task or info.target != target:
        raise RegistryError(
            f"the model name {name!r} is already registered for another task ({info.task}, "
            f"predicting '{info.target}'); this run is {task}, predicting '{target}': choose "
            "another --name"
        )
    return info


# -- writing ----------------------------------------------------------------------------------


def register_bundle(
    tracker: Tracker,
    *,
    name: str,
    run_id: str,
    source: str,
    task: str,
    target: str,
    tags: Mapping[str, str] | None = None,
    description: str = "",
) -> Registration:
    """Register the bundle at ``source`` (an artifact URI of run ``run_id``) as a new version.

    The version gets the alias ``champion`` when the model has none yet, otherwise
    ``challenger``. All or nothing: on failure the version (and the model, if this call
    created it) is removed again.
    """
    check_name(name)
    client = tracker.client
    existing = check_task(tracker, name, task=task, target=target)
    digest = bundle_digest(tracker, source)
    created = False
    version: int | None = None
    try:
        if existing is None:
            client.create_registered_model(
                name,
                tags={TAG_TASK: task, TAG_TARGET: target},
                description=f"apprentice model: {task}, predicting '{target}'",
            )
            created = True
        made = client.create_model_version(
            name,
            source,
            run_id=run_id,
            tags={**dict(tags or {}), TAG_DIGEST: digest},
            description=description or None,
        )
        version = int(made.version)
        aliases = _aliases(client.get_registered_model(name))
        alias = CHALLENGER if CHAMPION in aliases else CHAMPION
        client.set_registered_model_alias(name, alias, version)
    except Exception as exc:
        _undo(tracker, name, version, created)
        if isinstance(exc, RegistryError | TrackingError):
            raise
        raise TrackingError(
            f"registering model {name!r} at {tracker.display_uri} failed "
            f"({mlflow_message(exc)}); nothing was registered"
        ) from None
    return Registration(
        name=name, version=version, alias=alias, created_model=created, source=source
    )


def _manifest_sha256(path: Path) -> str:
    return hashlib.sha256((path / "manifest.json").read_bytes()).hexdigest()


def bundle_digest(tracker: Tracker, source: str) -> str:
    """The SHA-256 of the bundle manifest at ``source`` (it covers every file, each by its own
    SHA-256): what the registry records, and checks again whenever the version is resolved."""
    local = _local_source(source)
    try:
        if local is not None:
            return _manifest_sha256(local)
        from mlflow.artifacts import download_artifacts

        with tempfile.TemporaryDirectory(prefix="apprentice-digest-") as tmp:
            got = download_artifacts(
                artifact_uri=f"{source.rstrip('/')}/manifest.json",
                dst_path=tmp,
                tracking_uri=tracker.uri,
            )
            return hashlib.sha256(Path(got).read_bytes()).hexdigest()
    except OSError as exc:
        raise RegistryError(
            f"the bundle at {source} has no readable manifest.json ({exc.strerror or exc}); "
            "log the bundle folder before registering it"
        ) from None
    except Exception as exc:
        raise TrackingError(
            f"reading the bundle manifest at {source} failed ({mlflow_message(exc)}); nothing "
            "was registered"
        ) from None


def check_digest(path: Path, version: VersionInfo) -> None:
    """Refuse a bundle whose manifest is not the one registered for ``version``."""
    from apprentice.errors import BundleError

    expected = version.tags.get(TAG_DIGEST)
    if expected is None:
        return  # registered before digests were recorded: the bundle's signature still applies
    actual = _manifest_sha256(path)
    if actual != expected.strip().lower():
        raise BundleError(
            f"{path / 'manifest.json'} is not the manifest registered for {version.name!r} "
            f"version {version.version} (SHA-256 {actual[:16]}..., registered "
            f"{expected[:16]}...): the bundle was changed after registration; do not use it, "
            "remove this copy or register a new version"
        )


def _undo(tracker: Tracker, name: str, version: int | None, created: bool) -> None:
    client = tracker.client
    try:
        if created:
            client.delete_registered_model(name)
        elif version is not None:
            client.delete_model_version(name, str(version))
    except Exception:  # the original error matters more
        pass


def promote(tracker: Tracker, name: str, version: int | str, *, alias: str = CHAMPION) -> Promotion:
    """Point ``alias`` (default ``champion``) at ``version``.

    Promoting the challenger to champion also clears its ``challenger`` alias.
    """
    if not ALIAS_RE.match(alias) or alias == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise RegistryError(
            f"the alias {alias!r} is not usable: letters, digits, '_' and '-', not 'latest' "
            "nor v<number>"
        )
    try:
        number = int(str(version).strip().lstrip("vV"))
    except ValueError:
        raise RegistryError(f"the version {version!r} is not a version number") from None
    info = show_model(tracker, name)
    numbers = [v.version for v in info.versions]
    if number not in numbers:
        raise ModelNotFoundError(
            f"model {name!r} has no version {number}; its versions are "
            + (", ".join(map(str, numbers)) or "none")
        )
    previous = info.aliases.get(alias)
    cleared: list[str] = []
    client = tracker.client
    try:
        client.set_registered_model_alias(name, alias, number)
        if alias == CHAMPION and info.aliases.get(CHALLENGER) == number:
            client.delete_registered_model_alias(name, CHALLENGER)
            cleared.append(CHALLENGER)
    except Exception as exc:
        raise TrackingError(
            f"moving alias {alias!r} of {name!r} failed ({mlflow_message(exc)})"
        ) from None
    return Promotion(
        name=name, version=number, alias=alias, previous=previous, cleared=tuple(cleared)
    )


# -- resolving --------------------------------------------------------------------------------


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``NAME``, ``NAME@ALIAS``, ``NAME/VERSION`` (each optionally after ``models:/``)."""
    text = ref.strip()
    if text.startswith("models:/"):
        text = text[len("models:/") :]
    if "@" in text:
        name, _, alias = text.partition("@")
        return name.strip(), None, alias.strip() or None
    if "/" in text:
        name, _, number = text.rpartition("/")
        try:
            return name.strip(), int(number.strip().lstrip("vV")), None
        except ValueError:
            raise RegistryError(
                f"{ref!r} is not a model reference: use NAME, NAME@ALIAS or NAME/VERSION"
            ) from None
    return text, None, None


def _local_source(source: str) -> Path | None:
    if source.startswith("file:"):
        parts = urllib.parse.urlsplit(source)
        return Path(urllib.request.url2pathname(parts.path))
    if "://" not in source and ":" not in source.split("/", 1)[0]:
        return Path(source)
    return None


def resolve_model(
    ref: str,
    *,
    tracking_uri: str | None = None,
    settings: Settings | None = None,
    tracker: Tracker | None = None,
) -> ResolvedModel:
    """A registered model reference to a bundle folder on this machine.

    ``ref`` is ``NAME`` (its champion, else its latest version), ``NAME@ALIAS`` or
    ``NAME/VERSION``, optionally prefixed ``models:/``. Bundles in a remote store are
    downloaded once into ``<workspace>/models/NAME/VERSION``. Load the result with
    :meth:`ResolvedModel.load` (which verifies every file's hash).
    """
    tracker = tracker or Tracker(tracking_uri, settings=settings)
    name, number, alias = parse_ref(ref)
    if not name:
        raise RegistryError(f"{ref!r} names no model: use NAME, NAME@ALIAS or NAME/VERSION")
    info = show_model(tracker, name)
    if number is None:
        if alias is None:
            alias = CHAMPION if CHAMPION in info.aliases else None
            number = info.aliases.get(CHAMPION) or info.latest_version
        elif alias in info.aliases:
            number = info.aliases[alias]
        else:
            shown = ", ".join(f"{a} -> {v}" for a, v in sorted(info.aliases.items())) or "none"
            raise ModelNotFoundError(f"model {name!r} has no alias {alias!r}; its aliases: {shown}")
    chosen = next((v for v in info.versions if v.version == number), None)
    if chosen is None:
        raise ModelNotFoundError(
            f"model {name!r} has no version {number}; its versions are "
            + (", ".join(str(v.version) for v in info.versions) or "none")
        )
    path = _local_source(chosen.source)
    if path is None:
        path = _download(tracker, name, chosen)
    elif not (path / "manifest.json").is_file():
        raise ModelNotFoundError(
            f"the bundle of {name!r} version {number} is missing at {path}; the store's "
            "artifacts were moved or deleted"
        )
    check_digest(path, chosen)
    return ResolvedModel(
        name=name,
        version=int(chosen.version),
        alias=alias if alias is not None else (chosen.aliases[0] if chosen.aliases else None),
        source=chosen.source,
        run_id=chosen.run_id,
        path=path,
        task=info.task,
        target=info.target,
        digest=chosen.tags.get(TAG_DIGEST),
    )


def _download(tracker: Tracker, name: str, version: VersionInfo) -> Path:
    cache = Path(tracker.settings.workspace).expanduser().resolve() / "models" / name
    target = cache / str(version.version)
    if (target / "manifest.json").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version.version}-", dir=cache))
    try:
        from mlflow.artifacts import download_artifacts

        local = Path(
            download_artifacts(
                artifact_uri=version.source, dst_path=str(staging), tracking_uri=tracker.uri
            )
        )
        if not (local / "manifest.json").is_file():
            raise ModelNotFoundError(
                f"version {version.version} of {name!r} holds no apprentice bundle "
                f"(no manifest.json at {version.source})"
            )
        if target.exists():
            shutil.rmtree(target)
        local.rename(target)
    except ModelNotFoundError:
        raise
    except Exception as exc:
        raise TrackingError(
            f"downloading version {version.version} of {name!r} failed ({mlflow_message(exc)})"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
