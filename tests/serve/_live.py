"""A real ``apprentice serve`` process on 127.0.0.1 for the tests, and plain HTTP clients.

The server runs as a subprocess (``python -m apprentice serve``) with its own workspace; its
stdout and stderr go to a file the tests read (the canary test checks it). Clients use
:mod:`http.client` with keep-alive, so the test process spends little CPU per request.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API_KEY = "test-key-0123456789abcdef-serve"
START_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    proc: subprocess.Popen[bytes]
    port: int
    workspace: Path
    output: Path
    db_url: str
    api_key: str | None
    grace: float
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text_output(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        conn: http.client.HTTPConnection | None = None,
    ) -> tuple[int, bytes]:
        own = conn is None
        conn = conn or self.connection()
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            head = {**self.headers, **(headers or {})}
            if data is not None:
                head["content-type"] = content_type
            conn.request(method, path, data, head)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if own:
                conn.close()

    def pending(self) -> int:
        _, body = self.request("GET", "/ready")
        log = json.loads(body).get("log") or {}
        return int(log.get("pending", 0))

    def wait_drained(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.pending() > 0:
            if time.monotonic() > deadline:
                raise AssertionError("the prediction log did not drain in time")
            time.sleep(0.05)
        time.sleep(0.2)  # the batch being written when the queue emptied

    def terminate(self, timeout: float | None = None) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout or self.grace + 30)


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    output: Callable[[], str],
    *,
    timeout: float = START_TIMEOUT_S,
    pause: float = 0.2,
) -> None:
    """Poll ``ready`` (a refused connection counts as not yet) until it holds; an exited
    process or the ``timeout`` fails with the end of its ``output``."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited early:\n{output()[-3000:]}")
        with contextlib.suppress(OSError):
            if ready():
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not start:\n{output()[-3000:]}")
        time.sleep(pause)


@contextlib.contextmanager
def live_server(
    bundle: Path,
    workspace: Path,
    *,
    db_url: str | None = None,
    api_key: str | None = None,
    grace: float = 10.0,
    args: Sequence[str] = (),
) -> Iterator[LiveServer]:
    workspace.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = db_url or f"sqlite:///{workspace.resolve() / 'predictions.sqlite'}"
    cmd = [
        sys.executable,
        "-m",
        "apprentice",
        "serve",
        str(bundle),
        "--port",
        str(port),
        "--grace",
        str(grace),
        "--db-url",
        url,
        *args,
    ]
    env = {**os.environ, "APPRENTICE_WORKSPACE": str(workspace)}
    env.pop("APPRENTICE_API_KEY", None)
    if api_key is not None:
        env["APPRENTICE_API_KEY"] = api_key
    output = workspace.parent / f"{workspace.name}-server.out"
    with open(output, "wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
    server = LiveServer(proc, port, workspace, output, url, api_key, grace)
    if api_key is not None:
        server.headers["X-API-Key"] = api_key
    try:
        wait_ready(proc, lambda: server.request("GET", "/ready")[0] == 200, server.text_output)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=grace + 30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- load


def hammer(
    server: LiveServer, records: Sequence[dict[str, Any]], *, clients: int, per_client: int
) -> tuple[list[str], list[int]]:
    """``clients`` threads, each sending ``per_client`` single-record requests; the request
    ids of the 200s and every status seen."""
    ids: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def work(offset: int) -> None:
        conn = server.connection()
        mine: list[str] = []
        seen: list[int] = []
        try:
            for i in range(per_client):
                record = records[(offset * per_client + i) % len(records)]
                status, body = server.request("POST", "/predict", record, conn=conn)
                seen.append(status)
                if status == 200:
                    mine.append(json.loads(body)["request_id"])
        finally:
            conn.close()
            with lock:
                ids.extend(mine)
                statuses.extend(seen)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids, statuses


def hammer_until_stopped(
    server: LiveServer, records: Sequence[dict[str, Any]], *, clients: int, max_seconds: float
) -> tuple[list[str], threading.Event, list[threading.Thread]]:
    """Clients that send requests until the server stops answering (or ``max_seconds``);
    returns the list the acknowledged request ids go to, a stop event and the threads."""
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    deadline = time.monotonic() + max_seconds

    def work(offset: int) -> None:
        i = offset
        conn = server.connection()
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                record = records[i % len(records)]
                status, body = server.request("POST", "/predict", record, conn=conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                try:
                    conn = server.connection()
                    conn.connect()
                except OSError:
                    return  # the server is gone
                continue
            if status == 200:
                with lock:
                    acked.append(json.loads(body)["request_id"])
            i += clients

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    return acked, stop, threads


def log_request_ids(db_url: str) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(text("SELECT request_id FROM predictions"))]
    finally:
        engine.dispose()


def check_log_under_load(server: LiveServer, records: Sequence[dict[str, Any]]) -> None:
    """8 clients x 500 requests -> exactly 4,000 new rows; then SIGTERM under load: every
    acknowledged prediction is in the log and the server exits within its grace period."""
    before = len(log_request_ids(server.db_url))
    ids, statuses = hammer(server, records, clients=8, per_client=500)
    assert statuses.count(200) == 4000, {s: statuses.count(s) for s in set(statuses)}
    assert len(set(ids)) == 4000
    server.wait_drained()
    logged = log_request_ids(server.db_url)
    assert len(logged) - before == 4000
    assert set(ids) <= set(logged)

    acked, stop, threads = hammer_until_stopped(server, records, clients=8, max_seconds=20)
    time.sleep(1.0)
    assert acked, "no request was answered under load"
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=server.grace + 30)
    elapsed = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert code == 0, server.text_output()[-3000:]
    assert elapsed < server.grace + 5, elapsed
    logged_after = set(log_request_ids(server.db_url))
    missing = [rid for rid in acked if rid not in logged_after]
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged predictions are not logged"
    output = server.text_output().lower()
    for bad in ("database is locked", "traceback", "operationalerror"):
        assert bad not in output, server.text_output()[-3000:]
