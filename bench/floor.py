"""The floor: a raw ASGI app that only answers 302, on the same server stack as the edge.

`app` is the floor the targets are measured against. `edge_shaped` answers the
very headers an edge redirect carries (a Location with mbsy and mbsy_source,
no-store, the mbsy_source cookie): what the response alone costs the server,
printed beside the floor so the edge's own share can be told from it.
"""

from __future__ import annotations

from typing import Any

_HEADERS = [(b"location", b"https://shop.example/"), (b"content-length", b"0")]
_SOURCE = b"A" + b"x" * 36
_EDGE_HEADERS = [
    (
        b"location",
        b"https://shop.bench.example/welcome?campaignid=7&mbsy=ADV1234&mbsy_source=" + _SOURCE,
    ),
    (b"cache-control", b"no-store"),
    (b"set-cookie", b"mbsy_source=" + _SOURCE + b"; Max-Age=2592000; Path=/; Secure; SameSite=Lax"),
    (b"content-length", b"0"),
]


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _answering(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    return app


app = _answering(_HEADERS)
edge_shaped = _answering(_EDGE_HEADERS)
