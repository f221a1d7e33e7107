"""The limit: an asyncio.Protocol on uvloop with httptools' parser that answers
every request with prepared 302 bytes carrying the edge's headers, written as
the edge writes its answers (together, at the end of the loop's pass). No
ASGI, no lookup, no click: what parsing and writing alone cost this machine.

    python -m bench.raw_protocol PORT
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httptools
import uvloop

from bench.floor import _EDGE_HEADERS
from edge.answer_batch import answer_batch

_RESPONSE = (
    b"HTTP/1.1 302 Found\r\n"
    + b"".join(name + b": " + value + b"\r\n" for name, value in _EDGE_HEADERS)
    + b"\r\n"
)


class RawRedirect(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's, which is no asyncio.Transport
        self.parser = httptools.HttpRequestParser(self)
        self.answers = answer_batch(asyncio.get_running_loop())

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_complete(self) -> None:
        self.answers.add(self.transport, _RESPONSE, False)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(RawRedirect, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1])))
