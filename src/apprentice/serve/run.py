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
import errno
import ipaddress
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from apprentice.config import Settings, get_settings
from apprentice.errors import BundleError, ConfigError

_LOG = logging.getLogger("apprentice.serve")
DEFAULT_ALIAS = "champion"
API_KEY_ENV = "APPRENTICE_API_KEY"


@dataclass(frozen=True)
class ResolvedModel:
    path: Path
    name: str | None = None
    version: str | None = None
    follow: str | None = None  # the registry reference to follow (a name or NAME@ALIAS)


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
    from apprentice.track import parse_ref

    found = registry_resolve(spec, settings=settings)
    _, number, _ = parse_ref(spec)
    return ResolvedModel(
        Path(found.path),
        name=str(found.name),
        version=str(found.version),
        follow=spec if number is None else None,  # NAME/VERSION is pinned
    )


def registry_version(spec: str, settings: Settings) -> tuple[str, Path]:
    """The version label (``NAME/VERSION``) and bundle folder ``spec`` points at now."""
    from apprentice.track import resolve_model as registry_resolve

    found = registry_resolve(spec, settings=settings)
    return f"{found.name}/{found.version}", Path(found.path)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind ``host:port`` now, so that a busy port is an error before anything says serving."""
    try:
        infos = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ConfigError(
            f"cannot serve on {host}: the address does not resolve ({exc.strerror}); "
            "use an IP address or a known host name"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another server?); stop it or "
                "choose another port with --port"
            ) from None
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --host "
            "or --port"
        ) from None
    sock.set_inheritable(True)
    return sock


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
    from apprentice.bundle.io import local_bundle
    from apprentice.storage import is_url

    if is_url(text):  # a bundle in object storage: a cached local copy, verified on load
        return ResolvedModel(local_bundle(text))
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
    follow_interval: float = 5.0,
) -> None:
    """Run the server until SIGTERM/SIGINT; return after the log is drained.

    The port is bound first: a busy port is a :class:`ConfigError` before the model loads.
    Serving a registry name or ``NAME@ALIAS`` follows the registry: every ``follow_interval``
    seconds the server looks the reference up again and, when the alias has moved, loads,
    verifies and swaps to the new version without failing a request (0: never)."""
    settings = settings or get_settings()
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    api_key = os.environ.get(api_key_env) or None
    check_bind(host, api_key, api_key_env)
    if follow_interval < 0:
        raise ConfigError("--follow-interval must be 0 (never) or a number of seconds")
    sock = bind_socket(host, port)
    try:
        _serve_on(
            sock,
            model,
            host=host,
            port=port,
            workers=workers,
            database_url=database_url,
            api_key=api_key,
            api_key_env=api_key_env,
            unknown_fields=unknown_fields,
            strict=strict,
            max_body_bytes=max_body_bytes,
            grace_period=grace_period,
            access_log=access_log,
            log_level=log_level,
            settings=settings,
            on_ready=on_ready,
            follow_interval=follow_interval,
        )
    finally:
        sock.close()


def _http_protocol() -> str:
    """Each response's head and body in one write (:mod:`apprentice.serve.http`) when
    httptools is installed; uvicorn's own choice otherwise."""
    try:
        from apprentice.serve.http import protocol
    except ImportError:
        return "auto"
    return protocol()


def _serve_on(
    sock: socket.socket,
    model: str | Path | None,
    *,
    host: str,
    port: int,
    workers: int,
    database_url: str | None,
    api_key: str | None,
    api_key_env: str,
    unknown_fields: str,
    strict: bool,
    max_body_bytes: int | None,
    grace_period: float,
    access_log: bool,
    log_level: str,
    settings: Settings,
    on_ready: Callable[[str], None] | None,
    follow_interval: float,
) -> None:
    from apprentice.serve.app import ServeOptions, bundle_version

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
        follow=resolved.follow if follow_interval > 0 else None,
        follow_interval=follow_interval,
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
        "http": _http_protocol(),
    }
    address = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    if workers == 1:
        from apprentice.serve.app import asgi_app, create_app

        app = asgi_app(create_app(bundle, options, settings=settings))
        if on_ready is not None:
            on_ready(address)
        with _graceful_signals():
            uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=[sock])
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
    sock.close()  # the workers bind it themselves (SO_REUSEADDR); it was free a moment ago
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
