"""Start the prediction server: resolve the model, check the address, run uvicorn.

``serve`` binds to loopback unless an API key is set: starting on any other address
without one is refused. One worker runs the app in this process; several run
``uvicorn --factory apprentice.serve.app:app_from_env`` workers that each open the same log
(migrations are locked) and share Prometheus metrics through a multiprocess directory.
uvicorn's graceful shutdown on SIGTERM/SIGINT lets running requests finish, then the app's
lifespan shutdown drains the prediction log.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from apprentice.config import Settings, get_settings
from apprentice.errors import BundleError, ConfigError

DEFAULT_ALIAS = "champion"
API_KEY_ENV = "APPRENTICE_API_KEY"


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    name: str | None = None
    version: str | None = None


def is_loopback(host: str) -> bool:
    if host.strip().lower() in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None, key_env: str = API_KEY_ENV) -> None:
    """Refuse a non-loopback address without an API key."""
    if api_key is None and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without an API key: anyone who can reach this "
            f"address could use the model. Set {key_env} to a long random key (clients send "
            "it in the X-API-Key header), or bind to 127.0.0.1"
        )


def _from_registry(spec: str, settings: Settings) -> ResolvedModel:
    try:
        from apprentice.track import resolve_model as registry_resolve
    except ImportError:
        raise ConfigError(
            f"{spec!r} is not a bundle directory, and this apprentice has no model registry "
            "to look it up; pass the directory apprentice train wrote"
        ) from None
    found = registry_resolve(spec, settings=settings)
    return ResolvedModel(Path(found.path), name=str(found.name), version=str(found.version))


def resolve_model(spec: str | Path | None, settings: Settings | None = None) -> ResolvedModel:
    """A bundle directory, a registry name (its ``champion``), ``NAME@ALIAS``, ``NAME/VERSION``
    or ``models:/...``."""
    settings = settings or get_settings()
    if spec is None or str(spec).strip() == "":
        raise ConfigError(
            "name the model to serve: a bundle directory (apprentice train --out DIR), a "
            "registry name, or models:/NAME@ALIAS"
        )
    text = str(spec).strip()
    path = Path(text).expanduser()
    if path.is_dir():
        return ResolvedModel(path)
    if path.exists():
        raise BundleError(f"{text} is not a bundle directory (a bundle is a folder)")
    return _from_registry(text, settings)


@contextlib.contextmanager
def _graceful_signals() -> Iterator[None]:
    """uvicorn handles SIGTERM/SIGINT (graceful shutdown, then the log drains) and re-raises
    the signal to the handler it found: a no-op one here, so a clean stop exits with 0."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda signum, frame: None)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve(
    model: str | Path | None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    database_url: str | None = None,
    api_key_env: str = API_KEY_ENV,
    unknown_fields: str = "reject",
    strict: bool = False,
    max_body_bytes: int | None = None,
    grace_period: float = 30.0,
    access_log: bool = False,
    log_level: str = "warning",
    settings: Settings | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the server until SIGTERM/SIGINT; return after the log is drained."""
    from apprentice.serve.app import ServeOptions, bundle_version

    settings = settings or get_settings()
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    api_key = os.environ.get(api_key_env) or None
    check_bind(host, api_key, api_key_env)
    resolved = resolve_model(model, settings)
    from apprentice.bundle import load_bundle

    bundle = load_bundle(resolved.path)  # verified here, before any worker starts
    version = resolved.version or bundle_version(bundle)
    if resolved.version and resolved.name:
        version = f"{resolved.name}/{resolved.version}"
    limits: dict[str, Any] = {"max_body_bytes": max_body_bytes} if max_body_bytes else {}
    options = ServeOptions(
        api_key=api_key,
        database_url=database_url,
        workspace=Path(settings.workspace),
        unknown_fields=unknown_fields,
        strict=strict,
        model_name=resolved.name,
        model_version=version,
        drain_timeout=max(grace_period, 5.0) * 2,
        **limits,
    )
    import uvicorn

    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "lifespan": "on",
        "access_log": access_log,
        "log_level": log_level,
        "timeout_graceful_shutdown": grace_period,
        "server_header": False,
        "proxy_headers": False,
    }
    address = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    if workers == 1:
        from apprentice.serve.app import asgi_app, create_app

        app = asgi_app(create_app(bundle, options, settings=settings))
        if on_ready is not None:
            on_ready(address)
        with _graceful_signals():
            uvicorn.Server(uvicorn.Config(app, **common)).run()
        return
    spec = {
        "bundle": str(resolved.path.resolve()),
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in asdict(options).items()
            if k != "api_key"
        },
        "api_key_env": api_key_env,
    }
    metrics_dir = tempfile.mkdtemp(prefix="apprentice-metrics-")
    os.environ["APPRENTICE_SERVE_SPEC"] = json.dumps(spec)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        if on_ready is not None:
            on_ready(address)
        with _graceful_signals():
            uvicorn.run(
                "apprentice.serve.app:app_from_env", factory=True, workers=workers, **common
            )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
