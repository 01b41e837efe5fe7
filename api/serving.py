"""How ``dca serve`` runs uvicorn: one socket write per response.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start`` and the body on ``http.response.body``: two ``send`` system
calls (and two TCP segments) for every small response, a sixth of a get-by-id's
server time on the benchmark machine. ``CoalescingHttpTools`` is uvicorn's
httptools protocol with its transport's writes gathered until the event loop's next
turn, so that what one request handler writes in one go leaves in one write.
Bounded: more than ``FLUSH_AT`` bytes waiting are written at once (large streamed
bodies keep uvicorn's flow control), and closing writes what is waiting first.
"""
from __future__ import annotations

import asyncio
from typing import Any

FLUSH_AT = 64 * 1024


class CoalescingTransport:
    """A transport whose ``write`` calls within one turn of the event loop become one write."""

    __slots__ = ("_transport", "_loop", "_parts", "_size", "_scheduled")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._parts: list[bytes] = []
        self._size = 0
        self._scheduled = False

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._parts.append(data)
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if not self._parts:
            return
        parts = self._parts
        self._parts = []
        self._size = 0
        if not self._transport.is_closing():
            if len(parts) == 1:
                self._transport.write(parts[0])
            else:  # uvloop sends the parts in one writev, without joining them first
                self._transport.writelines(parts)

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # everything else is the transport's own
        return getattr(self._transport, name)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - httptools is part of uvicorn[standard]
    HttpToolsProtocol = None


if HttpToolsProtocol is not None:
    class CoalescingHttpTools(HttpToolsProtocol):
        """uvicorn's httptools protocol on a ``CoalescingTransport``."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.transport = CoalescingTransport(transport, asyncio.get_running_loop())  # type: ignore[assignment]


def http_protocol() -> Any:
    """The protocol for ``uvicorn.run(http=...)``: the coalescing one, or h11 without httptools."""
    return CoalescingHttpTools if HttpToolsProtocol is not None else "h11"
