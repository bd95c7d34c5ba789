"""The HTTP protocol that sends each response's head and body in one write, and request ids.

Unit tests drive the transport wrapper with a recording transport; the live test runs uvicorn
with :class:`CoalescingProtocol` on 127.0.0.1 and reads plain, empty, streamed and pipelined
responses off a raw socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from apprentice.serve.app import _request_id
from apprentice.serve.http import CoalescingProtocol, _HeadWithBody
from apprentice.serve.schema import valid_request_id

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\n"


class Recorder:
    """A transport that records what is written to it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_head_and_body_leave_in_one_write(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recorder()
    wrapped = _HeadWithBody(raw, loop)  # type: ignore[arg-type]
    wrapped.write(HEAD)
    assert raw.writes == []  # held back
    wrapped.write(b"hello")
    assert raw.writes == [HEAD + b"hello"]
    _turn(loop)  # the end-of-turn flush finds nothing left
    assert raw.writes == [HEAD + b"hello"]


def test_a_head_alone_is_sent_at_the_end_of_the_turn(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recorder()
    wrapped = _HeadWithBody(raw, loop)  # type: ignore[arg-type]
    head = b"HTTP/1.1 204 No Content\r\n\r\n"
    wrapped.write(head)
    assert raw.writes == []
    _turn(loop)
    assert raw.writes == [head]


def test_stream_chunks_pass_straight_through(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recorder()
    wrapped = _HeadWithBody(raw, loop)  # type: ignore[arg-type]
    head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    wrapped.write(head)
    wrapped.write(b"5\r\nfirst\r\n")
    wrapped.write(b"6\r\nsecond\r\n")
    wrapped.write(b"0\r\n\r\n")  # ends with a blank line but is no head: not held
    assert raw.writes == [head + b"5\r\nfirst\r\n", b"6\r\nsecond\r\n", b"0\r\n\r\n"]


def test_close_sends_the_held_head_first(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recorder()
    wrapped = _HeadWithBody(raw, loop)  # type: ignore[arg-type]
    wrapped.write(HEAD)
    wrapped.close()
    assert raw.writes == [HEAD] and raw.closed
    _turn(loop)
    assert raw.writes == [HEAD]  # not twice


def test_a_closed_transport_gets_no_late_head(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recorder()
    wrapped = _HeadWithBody(raw, loop)  # type: ignore[arg-type]
    wrapped.write(HEAD)
    raw.closed = True  # the peer went away
    _turn(loop)
    assert raw.writes == []
    wrapped.write(HEAD)
    wrapped.abort()
    _turn(loop)
    assert raw.writes == [] and raw.aborted


def test_other_calls_reach_the_real_transport(loop: asyncio.AbstractEventLoop) -> None:
    raw = Recorder()
    wrapped = _HeadWithBody(raw, loop)  # type: ignore[arg-type]
    assert wrapped.get_extra_info("peername") == ("127.0.0.1", 1)
    assert wrapped.is_closing() is False


# --------------------------------------------------------------------------- live


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(0.05)  # a slow first chunk: the head goes out alone meanwhile
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        await send({"type": "http.response.body", "body": b"two", "more_body": False})
        return
    out = b"echo:" + body
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})


@pytest.fixture
def server() -> Iterator[int]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        _app, http=CoalescingProtocol, log_level="warning", lifespan="on", access_log=False
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started
    yield port
    srv.should_exit = True
    thread.join(10)
    sock.close()


def _read_until_closed_or(sock: socket.socket, needle: bytes, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while needle not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_live_responses_are_whole(server: int) -> None:
    with contextlib.closing(socket.create_connection(("127.0.0.1", server))) as sock:
        post = b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
        sock.sendall(post)
        got = _read_until_closed_or(sock, b"echo:abc")
        assert got.startswith(b"HTTP/1.1 200 OK\r\n") and got.endswith(b"\r\n\r\necho:abc")
        # keep-alive: two pipelined requests on the same connection, answered in order
        sock.sendall(post.replace(b"abc", b"one") + post.replace(b"abc", b"two"))
        got = _read_until_closed_or(sock, b"echo:two")
        assert got.index(b"echo:one") < got.index(b"echo:two")
        assert got.count(b"HTTP/1.1 200 OK") == 2
        sock.sendall(b"GET /empty HTTP/1.1\r\nHost: t\r\n\r\n")
        got = _read_until_closed_or(sock, b"\r\n\r\n")
        assert got.startswith(b"HTTP/1.1 204 No Content\r\n")
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        got = _read_until_closed_or(sock, b"0\r\n\r\n")
        assert got.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in got
        assert b"4\r\none,\r\n" in got and b"3\r\ntwo\r\n" in got
        # connection: close is honoured after the body
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        sock.settimeout(10)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        assert data.endswith(b"echo:") and b"connection: close" in data


# --------------------------------------------------------------------------- request ids


def test_request_ids_are_valid_unique_and_time_ordered() -> None:
    first = [_request_id() for _ in range(3000)]
    time.sleep(0.005)
    later = _request_id()
    assert len(set(first)) == len(first)
    assert all(re.fullmatch(r"[0-9a-f]{32}", r) and valid_request_id(r) for r in first)
    assert max(first) < later  # a later millisecond sorts after
    now_ms = time.time_ns() // 1_000_000
    assert abs(int(later[:12], 16) - now_ms) < 5_000
    # the random part varies within one millisecond
    assert len({r[12:] for r in first}) == len(first)


def _child_ids(out: Any) -> None:
    out.put([_request_id() for _ in range(50)])


def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    mine = [_request_id() for _ in range(5)]  # the pool is filled before the fork
    queue = mp.get_context("fork").Queue()
    child = mp.get_context("fork").Process(target=_child_ids, args=(queue,))
    child.start()
    theirs = queue.get(timeout=30)
    child.join(30)
    after = [_request_id() for _ in range(50)]
    assert not {r[12:] for r in theirs} & {r[12:] for r in after + mine}
