"""``create_app(bundle)``: the FastAPI app of one bundle.

Routes: ``POST /predict`` (one record or a list), ``POST /predict/batch`` (CSV or JSON lines,
streamed), ``POST /explain`` (when the bundle can explain), ``POST /feedback``,
``GET /health``, ``GET /ready``, ``GET /metrics``, ``GET /model``, ``/docs`` and
``/openapi.json``.

One pure-ASGI gate in front of FastAPI checks the API key and the body size for every
request and answers ``POST /predict`` itself (the hot path: orjson, the compiled validator
and :class:`~apprentice.serve.compiled.CompiledModel`, no pydantic and no DataFrame for one
record). FastAPI's ``/predict`` route documents the same contract in the OpenAPI schema and
answers when the fast path is turned off; both share :meth:`Service.predict_object`, so the
two give identical answers (tested).

This module deliberately has no ``from __future__ import annotations``: the request models
are built at run time from the bundle, and FastAPI reads the route annotations as objects.
"""

import asyncio
import atexit
import contextlib
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import orjson

from apprentice.bundle import Bundle, load_bundle
from apprentice.config import Settings, get_settings
from apprentice.decision import decide
from apprentice.errors import ConfigError
from apprentice.serve.compiled import CompiledModel
from apprentice.serve.log import NotLoggedError, PredictionLog, default_url
from apprentice.serve.metrics import ENDPOINTS, Metrics
from apprentice.serve.privacy import LogProtector
from apprentice.serve.schema import (
    STRICT_ERROR,
    FeedbackStored,
    InputContract,
    MessageResponse,
    Models,
    RecordsRejected,
    RecordValidator,
    ValidationErrorResponse,
    clean_errors,
    strict_from_query,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_LOG = logging.getLogger("apprentice.serve")
MB = 1024 * 1024
OPEN_PATHS = frozenset({"/health", "/ready"})
SMALL_LIST = 16
THREAD_LIST = 64
_JSON_TYPES = (b"application/json", b"application/merge-patch+json")
_ENDPOINTS = frozenset(ENDPOINTS)
_GATED = "apprentice.gated"
#: what /dashboard imports beyond serving (left out of a packaged image by default)
DASHBOARD_MODULES = frozenset({"scipy", "sklearn"})


@dataclass(frozen=True)
class ServeOptions:
    """How a server behaves. ``api_key=None``: no key required (loopback only, see
    :func:`apprentice.serve.run.check_bind`)."""

    api_key: str | None = None
    database_url: str | None = None
    workspace: Path | None = None
    max_body_bytes: int = 10 * MB
    max_batch_bytes: int = 2048 * MB
    max_records: int = 1_000
    max_text: int = 10_000
    unknown_fields: str = "reject"
    strict: bool = False  # any contract warning is a 422 (a request can ask with ?strict=true)
    log_predictions: bool = True
    fast_path: bool = True
    model_name: str | None = None
    model_version: str | None = None
    follow: str | None = None  # a registry reference (NAME, NAME@ALIAS) to follow
    follow_interval: float = 5.0
    drain_timeout: float = 60.0
    batch_chunk_rows: int = 2_000

    def __post_init__(self) -> None:
        if self.unknown_fields not in ("reject", "ignore"):
            raise ConfigError(
                f"unknown_fields={self.unknown_fields!r}: use 'reject' (422) or 'ignore'"
            )
        if self.max_body_bytes < 1024 or self.max_batch_bytes < 1024:
            raise ConfigError("the body size limits must be at least 1 KB")
        if self.max_records < 1 or self.max_text < 1:
            raise ConfigError("max_records and max_text must be at least 1")
        if self.api_key is not None and len(self.api_key) < 16:
            raise ConfigError(
                "the API key is too short (under 16 characters); use a long random key, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )


def bundle_version(bundle: Bundle) -> str:
    """A content version of a bundle: the first 12 hex digits of a hash of its file hashes."""
    files = bundle.manifest.get("files") or {}
    text = json.dumps(sorted(files.items()), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


_ID_RANDOM = 10  # bytes: 80 random bits per request id
_ID_POOL = 256  # request ids per read of the OS's random source
_ID_TIME_MASK = (1 << 48) - 1
_ids = threading.local()


def _reset_ids() -> None:
    global _ids
    _ids = threading.local()  # a forked child never reuses its parent's random bytes


os.register_at_fork(after_in_child=_reset_ids)


def _request_id() -> str:
    """32 hex digits laid out like a UUIDv7: the time in milliseconds (48 bits), then 80
    random bits from the OS's random source. Ids made later sort later, so the log's
    request-id index grows at its end (one page per commit, not one random page per row);
    the random part keeps them unguessable. The random bytes are read 256 ids at a time
    (per thread, never shared with a forked child)."""
    ids = _ids
    pool: str = getattr(ids, "pool", "")
    at: int = getattr(ids, "at", 0)
    if at >= len(pool):
        pool = ids.pool = os.urandom(_ID_RANDOM * _ID_POOL).hex()
        at = 0
    ids.at = at + 2 * _ID_RANDOM
    return f"{time.time_ns() // 1_000_000 & _ID_TIME_MASK:012x}{pool[at : at + 2 * _ID_RANDOM]}"


class Service:
    """Everything one app holds: the model, its compiled path, the log and the metrics."""

    def __init__(self, bundle: Bundle, options: ServeOptions, settings: Settings) -> None:
        self.bundle = bundle
        self.options = options
        self.settings = settings
        self.workspace = Path(options.workspace or settings.workspace)
        self.version = options.model_version or bundle_version(bundle)
        self.name = options.model_name or str(bundle.manifest.get("target") or bundle.path.name)
        self.compiled = CompiledModel(bundle)
        self.models = Models(
            bundle.manifest,
            unknown_fields=options.unknown_fields,
            max_records=options.max_records,
            max_text=options.max_text,
        )
        self.validator = RecordValidator(
            self.models.columns,
            unknown_fields=options.unknown_fields,
            max_records=options.max_records,
            max_text=options.max_text,
        )
        self.known = set(self.models.columns)
        self.contract = InputContract(
            bundle,
            self.compiled.columns,
            self.known,
            ignore_unknown=options.unknown_fields == "ignore",
        )
        self.task = bundle.task
        self.classes = list(bundle.classes or [])
        self.class_keys = [str(c) for c in self.classes]
        self.classification = self.task != "regression"
        self.binary = self.task == "binary" and len(self.classes) == 2
        # the bundle's decision threshold: /predict says what Bundle.predict says
        self.threshold: float | None = getattr(bundle, "threshold", None) if self.binary else None
        self.log: PredictionLog | None = None
        if options.log_predictions:
            url = options.database_url or settings.database_url or default_url(self.workspace)
            self.log = PredictionLog(
                url,
                model_version=self.version,
                spill_dir=self.workspace / "serve" / "spill",
            )
        self.metrics = Metrics(task=self.task, classes=self.classes, log=self.log)
        if self.log is not None:
            self.log.on_write = self.metrics.log_rows.inc
        self.api_key = options.api_key.encode() if options.api_key else None
        self.ready = False
        self._started = False
        self._lock = threading.Lock()
        self.explain = getattr(bundle, "explain", None)
        self.swaps = 0
        self.swap_error: str | None = None
        self.on_install: Callable[[], None] | None = None  # the app's routes follow a swap

    # -- life cycle

    # what a swap keeps: the server's own state, not the model's
    _KEEP = frozenset(
        {"options", "settings", "workspace", "name", "log", "metrics", "api_key", "ready",
         "_started", "_lock", "_follower", "swaps", "swap_error", "on_install"}
    )  # fmt: skip

    def prepare(self, bundle: Bundle, version: str) -> "Service":
        """A logless service of ``bundle`` whose model state :meth:`install` can take over
        (built off the event loop: compiling a model takes a while)."""
        if bundle.task != self.task or list(bundle.classes or []) != self.classes:
            raise ConfigError(
                f"version {version} predicts {bundle.task} {list(bundle.classes or [])}, not "
                f"{self.task} {self.classes} like the served one; restart the server to serve it"
            )
        options = replace(self.options, model_version=version, log_predictions=False)
        return Service(bundle, options, self.settings)

    def install(self, fresh: "Service") -> None:
        """Swap to ``fresh``'s model in one step. Run on the event loop: requests handled
        there see the old model or the new one, never a mix."""
        for key, value in fresh.__dict__.items():
            if key not in self._KEEP:
                setattr(self, key, value)
        if self.log is not None:
            self.log.model_version = self.version
        self.swaps += 1
        self.swap_error = None
        if self.on_install is not None:
            self.on_install()
        _LOG.warning("now serving %s (swapped while running)", self.version)

    async def follow(self, reference: str, interval: float) -> None:
        """Look ``reference`` up in the registry every ``interval`` seconds; when it points
        at another version, load and verify that bundle and swap to it. A version that fails
        to load or verify is refused (and logged); the served one stays."""
        from apprentice.errors import ApprenticeError
        from apprentice.serve.run import registry_version

        refused: str | None = None
        while True:
            await asyncio.sleep(interval)
            seen: str | None = None
            try:
                version, path = await asyncio.to_thread(registry_version, reference, self.settings)
                if version == self.version or version == refused:
                    continue
                seen = version
                _LOG.info("%s now points at %s: loading it", reference, version)
                bundle = await asyncio.to_thread(load_bundle, path)
                fresh = await asyncio.to_thread(self.prepare, bundle, version)
            except asyncio.CancelledError:
                raise
            except ApprenticeError as exc:
                self.swap_error = str(exc)
                refused = seen
                _LOG.error("not swapping to the new version of %s: %s", reference, exc)
                continue
            except Exception as exc:
                self.swap_error = type(exc).__name__
                _LOG.error("following %s failed: %s", reference, type(exc).__name__)
                continue
            self.install(fresh)

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            if self.log is not None:
                from apprentice.guard import workspace_key

                key = workspace_key(self.settings.with_(workspace=self.workspace))
                self.log.protector = LogProtector(self.bundle.manifest, key)
                self.log.start()
                atexit.register(self.stop)
            self._started = True
            self.ready = True

    def stop(self) -> None:
        with self._lock:
            self.ready = False
            if self.log is not None and self._started:
                self.log.close(self.options.drain_timeout)
            self._started = False

    # -- predictions

    def _item(self, out: np.ndarray | list[float], rid: str) -> tuple[dict[str, Any], Any, Any]:
        """One prediction's response item, its label and probabilities; ``out`` is the
        model's output row (an array, or Python floats from the compiled path)."""
        if self.classification:
            probs = out if type(out) is list else out.tolist()  # type: ignore[union-attr]
            threshold = self.threshold
            if threshold is not None and len(probs) == 2:
                index = 1 if probs[1] >= threshold else 0  # decide(), on Python floats
            else:
                index = int(decide(out, threshold)[0])
            label = self.classes[index]
            self.metrics.predicted(index, probs[1] if self.binary else None, None)
            item = {
                "request_id": rid,
                "prediction": label,
                "probabilities": dict(zip(self.class_keys, probs, strict=True)),
            }
            return item, label, probs
        value = float(out[0] if type(out) is list else out)  # type: ignore[arg-type]
        self.metrics.predicted(None, None, value)
        return {"request_id": rid, "prediction": value, "probabilities": None}, value, None

    def _checked(
        self, record: Mapping[str, Any], strict: bool, loc: list[str | int]
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        """One record's typed values, warnings and 422 errors (cleaning and the input
        contract in one pass when the bundle has a recipe)."""
        errors: list[dict[str, Any]] = []
        compiled, contract = self.compiled, self.contract
        if compiled.per_cell:
            typed, found, usable = contract.clean_and_check(record, compiled.cells)
            warnings = contract.verdict(
                record, found, usable, strict=strict, loc=loc, errors=errors
            )
        else:
            typed = compiled.clean_record(record)
            warnings = contract.check(record, typed, strict=strict, loc=loc, errors=errors)
        return typed, warnings, errors

    def predict_one(
        self, record: Mapping[str, Any], endpoint: str = "predict", strict: bool = False
    ) -> dict[str, Any]:
        start = time.perf_counter()
        typed, warnings, errors = self._checked(record, strict, ["body"])
        if errors:
            raise RecordsRejected(errors)
        rid = _request_id()
        item, label, probs = self._item(self.compiled.predict_row(typed), rid)
        item["warnings"] = warnings
        if self.log is not None:
            latency = (time.perf_counter() - start) * 1000.0
            self.log.add((rid, time.time(), endpoint, record, typed, label, probs, latency))
        return item

    def predict_many(
        self, records: list[Mapping[str, Any]], base: str, strict: bool = False
    ) -> list[dict[str, Any]]:
        import pandas as pd

        start = time.perf_counter()
        errors: list[dict[str, Any]] = []
        if len(records) <= SMALL_LIST:
            checked = [self._checked(r, strict, ["body", i]) for i, r in enumerate(records)]
            for c in checked:
                errors.extend(c[2])
            if errors:
                raise RecordsRejected(errors[:100])
            typed_rows = [c[0] for c in checked]
            warned = [c[1] for c in checked]
            outputs = [self.compiled.predict_checked(t)[0] for t in typed_rows]
        else:
            out, typed = self.compiled.predict_frame(pd.DataFrame(records))
            outputs = list(out)
            typed_rows = typed.to_dict("records")
            warned = [
                self.contract.check(r, t, strict=strict, loc=["body", i], errors=errors)
                for i, (r, t) in enumerate(zip(records, typed_rows, strict=True))
            ]
            if errors:
                raise RecordsRejected(errors[:100])
        now = time.time()
        latency = (time.perf_counter() - start) * 1000.0 / max(len(records), 1)
        items = []
        for i, (row, record, typed_row) in enumerate(
            zip(outputs, records, typed_rows, strict=True)
        ):
            rid = f"{base}-{i}"
            item, label, probs = self._item(np.asarray(row), rid)
            item["warnings"] = warned[i]
            items.append(item)
            if self.log is not None:
                self.log.add((rid, now, "predict", record, typed_row, label, probs, latency))
        return items

    async def predict_object(self, obj: Any, strict: bool = False) -> bytes:
        """The response body of a validated ``/predict`` body (a record or a list); raises
        :class:`RecordsRejected` when a record breaks the input contract."""
        strict = strict or self.options.strict
        if type(obj) is dict:
            item = self.predict_one(obj, strict=strict)
            item["model_version"] = self.version
            await self.logged()
            return orjson.dumps(item, option=orjson.OPT_SERIALIZE_NUMPY)
        base = _request_id()
        if len(obj) > THREAD_LIST:
            import anyio

            items = await anyio.to_thread.run_sync(self.predict_many, obj, base, strict)
        else:
            items = self.predict_many(obj, base, strict)
        await self.logged()
        return orjson.dumps(
            {"request_id": base, "model_version": self.version, "predictions": items},
            option=orjson.OPT_SERIALIZE_NUMPY,
        )

    async def logged(self) -> None:
        """Wait until every prediction queued so far is stored in the log (group commit):
        a response is sent only after its rows are committed."""
        if self.log is not None:
            await self.log.wait_logged(self.log.last_seq)

    async def predict_bytes(self, body: bytes, query: bytes = b"") -> tuple[int, bytes]:
        """The hot path: raw JSON bytes (and the query string) to (status, response body)."""
        strict = strict_from_query(query)
        fallback = False
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            try:  # integers beyond 64 bits and lone surrogates, which orjson refuses
                obj = json.loads(body)
                fallback = True
            except (ValueError, RecursionError):
                return 422, _errors([{"loc": ["body"], "msg": "the body is not valid JSON",
                                      "type": "json_invalid"}])  # fmt: skip
        errors = self.validator.body(obj)
        if fallback and not errors:
            errors = self.validator.unicode(obj, ["body"])
        if strict is None:
            errors.insert(0, dict(STRICT_ERROR))
        if errors:
            return 422, _errors(errors)
        try:
            return 200, await self.predict_object(obj, bool(strict))
        except RecordsRejected as rejected:
            return 422, _errors(rejected.errors)

    def was_logged(self, request_id: str, wait: float = 30.0, settle: float = 0.5) -> bool:
        """Whether the log holds a prediction with ``request_id``: rows still queued get up
        to ``wait`` seconds to be written, and a row the writer has taken ``settle``."""
        from apprentice.serve.log import has_prediction

        log = self.log
        if log is None:
            return False
        start = time.monotonic()
        while True:
            if has_prediction(log.url, request_id):
                return True
            spent = time.monotonic() - start
            if spent > wait or (log.pending == 0 and spent > settle):
                return False
            time.sleep(0.02)

    def authorized(self, headers: list[tuple[bytes, bytes]]) -> bool:
        key = self.api_key
        if key is None:
            return True
        for name, value in headers:
            if name == b"x-api-key" and hmac.compare_digest(value, key):
                return True
            if (
                name == b"authorization"
                and value[:7].lower() == b"bearer "
                and hmac.compare_digest(value[7:].strip(), key)
            ):
                return True
        return False

    def model_info(self) -> dict[str, Any]:
        m = self.bundle.manifest
        return {
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "target": m.get("target"),
            "classes": self.classes or None,
            "threshold": self.threshold,
            "metric": m.get("metric"),
            "created_at": m.get("created_at"),
            "model": (m.get("model") or {}).get("name"),
            "input_columns": self.models.columns,
            "feature_columns": list(m.get("feature_columns") or []),
            "excluded_columns": dict(m.get("excluded_columns") or {}),
            "schema": m.get("schema"),
            "metrics": m.get("metrics") or {},
            "cv": m.get("cv"),
            "apprentice_version": m.get("apprentice_version"),
            "unknown_fields": self.options.unknown_fields,
            "fast_path_members": f"{self.compiled.fast_members}/{len(self.compiled.members)}",
        }


def _errors(errors: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"detail": errors})


def _message(text: str) -> bytes:
    return orjson.dumps({"detail": text})


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes = b"application/json",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    head = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if headers:
        head.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("the client went away")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class Gate:
    """The pure-ASGI front: API key, body limits, metrics, and the ``/predict`` hot path."""

    def __init__(self, app: Any, service: Service, *, outer: bool = False) -> None:
        self.app = app
        self.service = service
        self.outer = outer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.outer:
            scope[_GATED] = True
        elif scope.get(_GATED):  # the outer gate (see asgi_app) has done the work
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        service = self.service
        path: str = scope["path"]
        endpoint = path if path in _ENDPOINTS else "other"
        status = 500
        try:
            headers = scope["headers"]
            if (
                service.api_key is not None
                and path not in OPEN_PATHS
                and not service.authorized(headers)
            ):
                status = 401
                await _respond(
                    send,
                    401,
                    _message(
                        "an API key is required: send it in the X-API-Key header (or "
                        "Authorization: Bearer KEY)"
                    ),
                    headers=[(b"www-authenticate", b'Bearer realm="apprentice"')],
                )
                return
            batch = path == "/predict/batch"
            limit = service.options.max_batch_bytes if batch else service.options.max_body_bytes
            content_type = b""
            for name, value in headers:
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        declared = -1
                    if declared > limit:
                        status = 413
                        await self._too_large(send, limit, batch)
                        return
                elif name == b"content-type":
                    content_type = value
            method = scope["method"]
            if batch or method in ("GET", "HEAD", "OPTIONS", "DELETE"):
                status = await self._forward(scope, receive, send)
                return
            try:
                body = await _read_body(receive, limit)
            except _TooLarge:
                status = 413
                await self._too_large(send, limit)
                return
            if path == "/predict" and method == "POST" and not _is_json(content_type):
                status = 415
                await _respond(send, 415, _message("send the body as application/json"))
                return
            if service.options.fast_path and path == "/predict" and method == "POST":
                status, payload = await service.predict_bytes(body, scope.get("query_string", b""))
                await _respond(send, status, payload)
                return
            if method == "POST" and _is_json(content_type) and not _parses(body):
                status = 422
                await _respond(send, 422, _INVALID_JSON)
                return
            status = await self._forward(scope, _replay(body, receive), send)
        except ConnectionError:
            status = 499
        except NotLoggedError as exc:  # a 200 means logged: no answer without its log row
            status = 503
            _LOG.error("prediction not answered: %s", exc)
            await _respond(send, 503, _message(str(exc)), headers=[(b"retry-after", b"5")])
        except Exception as exc:  # never a traceback with request values in the output
            status = 500
            _LOG.error(
                "internal error on %s: %s (details withheld: they may hold request values)",
                endpoint,
                type(exc).__name__,
            )
            with contextlib.suppress(Exception):
                await _respond(send, 500, _message("internal error; see the server log"))
        finally:
            service.metrics.request(endpoint, status, time.perf_counter() - started)

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> int:
        seen = [500]

        async def tap(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen[0] = int(message["status"])
            await send(message)

        await self.app(scope, receive, tap)
        return seen[0]

    @staticmethod
    async def _too_large(send: Send, limit: int, batch: bool = False) -> None:
        text = (
            f"the upload is larger than the batch limit of {limit / MB:g} MB; split the file"
            if batch
            else f"the request body is larger than the limit of {limit / MB:g} MB; send fewer "
            "records per request, or use POST /predict/batch for files"
        )
        await _respond(send, 413, _message(text), headers=[(b"connection", b"close")])


_UNKNOWN_REQUEST = _message(
    "no prediction has this request id; send the request_id that POST /predict returned"
)
_INVALID_JSON = orjson.dumps(
    {"detail": [{"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}]}
)


def _parses(body: bytes) -> bool:
    if not body:
        return True  # FastAPI says what is missing
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            return False
    return True


def _is_json(content_type: bytes) -> bool:
    if not content_type:
        return True
    base = content_type.split(b";", 1)[0].strip().lower()
    return base in _JSON_TYPES or base.endswith(b"+json")


def _replay(body: bytes, receive: Receive) -> Receive:
    done = False

    async def replay() -> Message:
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# --------------------------------------------------------------------------- the app


def create_app(
    bundle: Bundle | str | Path,
    options: ServeOptions | None = None,
    *,
    settings: Settings | None = None,
    **changes: Any,
) -> Any:
    """The FastAPI app serving ``bundle`` (a loaded bundle or a bundle directory).

    ``options`` (or keyword ``changes`` to the default :class:`ServeOptions`) set the API
    key, the log database, limits and the unknown-field policy. The prediction log opens when
    the app starts (ASGI lifespan) and is drained when it stops.
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response
    from fastapi.security import APIKeyHeader

    settings = settings or get_settings()
    options = (
        replace(options or ServeOptions(), **changes) if changes else options or ServeOptions()
    )
    loaded: Bundle = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    service = Service(loaded, options, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await asyncio.to_thread(service.start)
        follower = None
        if options.follow and options.follow_interval > 0:
            follower = asyncio.create_task(service.follow(options.follow, options.follow_interval))
        try:
            yield
        finally:
            if follower is not None:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
            await asyncio.to_thread(service.stop)

    title = f"apprentice: {service.name}"
    app = FastAPI(
        title=title,
        version=service.version,
        description=_description(loaded),
        lifespan=lifespan,
    )
    app.state.service = service
    secured: list[Any] = []
    if service.api_key is not None:
        from fastapi import Security

        secured = [Security(APIKeyHeader(name="X-API-Key", auto_error=False))]

    common: dict[int | str, dict[str, Any]] = {
        413: {"model": MessageResponse, "description": "The body is over the size limit."},
        422: {"model": ValidationErrorResponse, "description": "One message per invalid field."},
    }
    if service.api_key is not None:
        common[401] = {"model": MessageResponse, "description": "No valid API key was sent."}

    @app.exception_handler(NotLoggedError)
    async def _not_logged(request: Request, exc: NotLoggedError) -> Response:
        # a 200 means logged: no answer without its log row
        _LOG.error("request not answered: %s", exc)
        return Response(
            _message(str(exc)),
            status_code=503,
            media_type="application/json",
            headers={"retry-after": "5"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        found = clean_errors(
            exc.errors(),
            service.known,
            body_is_list=isinstance(exc.body, list),
            max_text=options.max_text,
        )
        return Response(
            _errors(found),
            status_code=422,
            media_type="application/json",
        )

    current = _model_routes(service, common, secured)
    app.router.routes.extend(current)

    def refresh() -> None:
        """After a hot swap: the routes whose request models come from the bundle, the
        OpenAPI version and description describe the new version (run on the event loop:
        a request is routed by the old routes or the new ones)."""
        nonlocal current
        fresh = _model_routes(service, common, secured)
        old = {id(r) for r in current}
        routes = app.router.routes
        place = next((i for i, r in enumerate(routes) if id(r) in old), len(routes))
        kept = [r for r in routes if id(r) not in old]
        routes[:] = [*kept[:place], *fresh, *kept[place:]]
        current = fresh
        app.version = service.version
        app.description = _description(service.bundle)
        app.openapi_schema = None  # generated again, from the new models, when asked

    service.on_install = refresh

    @app.get("/health", summary="The process is alive", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        summary="The model is loaded and verified, and the log is open",
        tags=["operations"],
        responses={503: {"description": "Not ready (starting, stopping, or the log is down)."}},
    )
    async def ready() -> Response:
        log = service.log
        ok = service.ready and (log is None or log.healthy)
        body = {
            "ready": ok,
            "model_version": service.version,
            "log": None if log is None else log.status(),
            "swaps": service.swaps,
            "swap_error": service.swap_error,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        tags=["operations"],
        dependencies=secured,
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
            **({401: common[401]} if 401 in common else {}),
        },
        response_class=Response,
    )
    async def metrics() -> Response:
        payload, content_type = service.metrics.exposition()
        return Response(payload, media_type=content_type)

    @app.get(
        "/model",
        summary="The model: version, schema, metrics",
        tags=["operations"],
        dependencies=secured,
        responses={401: common[401]} if 401 in common else None,
    )
    async def model() -> dict[str, Any]:
        return service.model_info()

    @app.get(
        "/dashboard",
        summary="Monitoring dashboard: volume, latency, drift, performance, open alerts",
        tags=["operations"],
        dependencies=secured,
        response_class=HTMLResponse,
        responses={
            200: {"content": {"text/html": {}}, "description": "The dashboard page."},
            **(
                {401: {**common[401], "content": {"application/json": {}}}} if 401 in common else {}
            ),
        },
    )
    async def dashboard() -> HTMLResponse:
        # DESIGN puts /dashboard in the serving app; the page is the monitor's, imported only
        # when someone opens it, so the prediction path never loads the monitor
        try:
            from apprentice.monitor.dashboard import dashboard_html

            url = service.log.url if service.log is not None else None
            page = await asyncio.to_thread(dashboard_html, url, service.bundle)
        except ModuleNotFoundError as exc:  # an image packaged without the monitor's packages
            if exc.name not in DASHBOARD_MODULES:
                raise
            return HTMLResponse(
                f"<p>The dashboard needs {exc.name}, which this installation leaves out (a "
                "serving image is built without it unless packaged with --with-dashboard). "
                "Run apprentice monitor on the prediction log instead.</p>",
                status_code=501,
            )
        return HTMLResponse(page)

    return _wrap(app, service)


def _description(bundle: Bundle) -> str:
    return (
        f"Predictions of the {bundle.task} model for `{bundle.target}`. Send raw rows "
        "with the field names of the training file; the bundle cleans them exactly as in "
        "training. Every prediction is logged with PII protected."
    )


def _model_routes(service: Service, common: dict[int | str, Any], secured: list[Any]) -> list[Any]:
    """The routes whose request and response models come from the bundle (built again after
    a hot swap): ``/predict``, ``/predict/batch``, ``/explain`` and ``/feedback``."""
    from fastapi import APIRouter, Body, Query, Request
    from fastapi.responses import JSONResponse, Response

    router = APIRouter()
    models = service.models
    Body_ = models.Body
    Feedback = models.Feedback

    @router.post(
        "/predict",
        response_model=models.Response,
        responses={**common, 415: {"model": MessageResponse, "description": "Not JSON."}},
        dependencies=secured,
        summary="Predict one record or a list of records",
        tags=["predictions"],
    )
    async def predict(
        body: Annotated[Body_, Body()],  # type: ignore[valid-type]
        request: Request,
        strict: Annotated[
            bool,
            Query(
                description="Refuse (422) any record with a warning (missing fields, unreadable "
                "values, unseen categories, values out of the training range). A server "
                "started with --strict is strict for every request."
            ),
        ] = False,
    ) -> Response:
        content_type = request.headers.get("content-type", "")
        if not _is_json(content_type.encode("latin-1")):
            return JSONResponse({"detail": "send the body as application/json"}, 415)
        obj: Any
        if isinstance(body, list):
            obj = [r.model_dump(by_alias=True, exclude_unset=True) for r in body]  # type: ignore[attr-defined]
        else:
            obj = body.model_dump(by_alias=True, exclude_unset=True)
        try:
            payload = await service.predict_object(obj, strict)
        except RecordsRejected as rejected:
            return Response(
                _errors(rejected.errors), status_code=422, media_type="application/json"
            )
        return Response(payload, media_type="application/json")

    from apprentice.serve.batch import BATCH_OPENAPI, batch_response

    @router.post(
        "/predict/batch",
        responses={
            200: {
                "description": "One output row per input row, streamed, in the input's format.",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
            **common,
            415: {"model": MessageResponse, "description": "Neither CSV nor JSON lines."},
        },
        openapi_extra=BATCH_OPENAPI,
        dependencies=secured,
        summary="Predict a CSV or JSON-lines upload, streamed",
        tags=["predictions"],
    )
    async def predict_batch(request: Request) -> Response:
        return await batch_response(service, request)

    if callable(service.explain):
        from apprentice.serve.explain import add_explain_route

        add_explain_route(router, service, Body_, common, secured)

    @router.post(
        "/feedback",
        response_model=FeedbackStored,
        responses={
            **common,
            404: {"model": MessageResponse, "description": "No prediction has this request id."},
        },
        dependencies=secured,
        summary="Record the actual outcome of a prediction",
        tags=["monitoring"],
    )
    async def feedback(body: Annotated[Feedback, Body()]) -> Response:  # type: ignore[valid-type]
        rid = body.request_id  # type: ignore[attr-defined]
        log = service.log
        if log is not None:
            if not await asyncio.to_thread(service.was_logged, rid):
                return Response(_UNKNOWN_REQUEST, status_code=404, media_type="application/json")
            # answered only once the row is committed, like a prediction
            await log.wait_logged(log.add_feedback(rid, body.actual))  # type: ignore[attr-defined]
        stored = FeedbackStored(request_id=rid, stored=service.log is not None)
        return Response(orjson.dumps(stored.model_dump()), media_type="application/json")

    return list(router.routes)


def _wrap(app: Any, service: Service) -> Any:
    """Put the gate in front of every route (outermost user middleware)."""
    app.add_middleware(Gate, service=service)
    return app


def asgi_app(app: Any) -> Any:
    """The ASGI entry a server should run: the gate *in front of* the FastAPI app.

    ``POST /predict`` is then answered without entering FastAPI at all (its middleware
    stack and telemetry hooks cost more CPU than the prediction); everything else, the
    lifespan included, goes on to the app, whose own gate sees the request as done.
    """
    return Gate(app, app.state.service, outer=True)


def app_from_env() -> Any:
    """The app a ``uvicorn --factory`` worker builds (``apprentice serve --workers N``)."""
    spec = os.environ.get("APPRENTICE_SERVE_SPEC")
    if not spec:
        raise ConfigError(
            "APPRENTICE_SERVE_SPEC is not set; start the server with apprentice serve"
        )
    data = json.loads(spec)
    key_env = data.pop("api_key_env", None)
    options = dict(data.get("options") or {})
    if key_env:
        options["api_key"] = os.environ.get(key_env) or None
    if options.get("workspace"):
        options["workspace"] = Path(options["workspace"])
    return asgi_app(create_app(data["bundle"], ServeOptions(**options)))
