"""uvicorn's httptools protocol with each response's head and body sent in one write.

uvicorn writes a response's status line and headers to the socket as soon as the app sends
``http.response.start``, then the body in a second write. On a keep-alive connection that is
two TCP segments and two wake-ups of the client per request, and the first ``send`` was the
largest single cost on the server's event loop under load (measured with a sampling profiler:
about a quarter of the loop's time). :class:`CoalescingProtocol` holds the head back until the
body's first write (or the end of the event loop's turn, for a response without a body or a
stream whose first chunk is slow) and sends both together. Nothing else changes: the bytes on
the wire are the same, and every other transport call (close, flow control, extra info) goes
to the real transport, the held head first.

This module imports uvicorn and httptools at import time: only :mod:`apprentice.serve.run`
imports it, when a server starts (see :func:`protocol`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_LOG = logging.getLogger("apprentice.serve")
_HEAD = b"HTTP/1.1 "
_END = b"\r\n\r\n"


class _HeadWithBody:
    """A transport that sends a response head together with what follows it."""

    __slots__ = ("_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head + bytes(data))
            return
        if data[:9] == _HEAD and data[-4:] == _END:
            self._head = bytes(data)
            self._loop.call_soon(self._flush)
            return
        self._transport.write(data)

    def _flush(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            if not self._transport.is_closing():
                self._transport.write(head)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` on a transport that joins each response's head and body."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        wrapped: Any = _HeadWithBody(transport, self.loop)
        super().connection_made(wrapped)


def protocol() -> str:
    """The HTTP protocol for uvicorn's ``http`` setting: :class:`CoalescingProtocol` (given
    by its import path, so that ``--workers N`` processes import it too)."""
    return f"{__name__}:CoalescingProtocol"
