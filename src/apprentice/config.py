"""One typed settings object.

Values come from keyword arguments, then ``APPRENTICE_*`` environment variables, then the
embedded defaults (a workspace folder ``.apprentice/`` in the current directory, SQLite and
local files, in-process execution).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from apprentice.errors import ConfigError

_ENV_PREFIX = "APPRENTICE_"


def _env(name: str) -> str | None:
    value = os.environ.get(_ENV_PREFIX + name)
    return value if value not in (None, "") else None


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"{_ENV_PREFIX}{name}={raw!r} is not an integer; set it to a whole number or unset it"
        ) from None


@dataclass(frozen=True)
class Settings:
    """Everything apprentice can be configured with."""

    workspace: Path = field(default_factory=lambda: Path(_env("WORKSPACE") or ".apprentice"))
    tracking_uri: str | None = field(
        default_factory=lambda: _env("TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI")
    )
    #: where new experiments keep their MLflow artifacts (bundles, reports): a storage URL
    #: such as ``s3://bucket/prefix`` (``APPRENTICE_ARTIFACT_ROOT``); default: the workspace's
    #: ``mlartifacts`` folder beside a SQLite store, or what the tracking server decides
    artifact_root: str | None = field(default_factory=lambda: _env("ARTIFACT_ROOT"))
    database_url: str | None = field(default_factory=lambda: _env("DATABASE_URL"))
    dask_address: str | None = field(default_factory=lambda: _env("DASK_ADDRESS"))
    threads: int = field(default_factory=lambda: _env_int("THREADS", os.cpu_count() or 1))
    max_decompressed_bytes: int = field(
        default_factory=lambda: _env_int("MAX_DECOMPRESSED_BYTES", 20 * 1024**3)
    )
    fast_read_bytes: int = field(default_factory=lambda: _env_int("FAST_READ_BYTES", 64 * 1024**2))

    def with_(self, **changes: object) -> Settings:
        """A copy with some values changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment, with keyword overrides."""
    settings = Settings()
    return settings.with_(**overrides) if overrides else settings
