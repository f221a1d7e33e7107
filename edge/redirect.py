"""GET/HEAD /{token} through ASGI: what the protocol (edge/protocol.py) leaves to
ASGI on this route, that is a link not in memory (resolved from Redis or the
control plane) and a request the protocol does not answer itself (one with a
body, one pipelined behind an unfinished answer, one arriving while writes are
paused). In durable mode its click is fsync'd before the answer, as on the
protocol's route. Everything else goes on to Starlette."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from edge import metrics
from edge.group_commit import SpoolUnavailable
from edge.hot_path import (
    TOKEN_PATH_LENGTH,
    Answer,
    RequestFacts,
    answer_hit,
    counted,
    unavailable,
)
from edge.resolver import ControlUnavailable
from edge.runtime import EdgeRuntime

_EMPTY = (b"content-length", b"0")
_MEMORY_HIT = ("memory", "hit")


def request_facts(scope: Scope) -> RequestFacts:
    host = user_agent = referer = b""
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
        elif name == b"user-agent":
            user_agent = value
        elif name == b"referer":
            referer = value
    client = scope.get("client")
    return RequestFacts(
        scope["method"], scope["path"][1:], host, user_agent, referer, client[0] if client else None
    )


class RedirectApp:
    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.runtime: EdgeRuntime | None = None  # set by the lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        runtime = self.runtime
        if (
            scope["type"] != "http"
            or len(scope["path"]) != TOKEN_PATH_LENGTH
            or scope["method"] not in ("GET", "HEAD")
            or runtime is None
        ):
            await self.fallback(scope, receive, send)
            return
        started = time.perf_counter()
        facts = request_facts(scope)
        link = runtime.cache.get(facts.token)
        if link is None:
            # A miss is counted by the resolver, once the token's MAC is good:
            # a flood of forged tokens is not the cache missing.
            try:
                link = await runtime.resolver.resolve(facts.token)
            except ControlUnavailable:
                await _send(send, unavailable(), started)
                return
        else:
            metrics.HOT.cache[_MEMORY_HIT] += 1
        answer, click = answer_hit(
            runtime,
            link,
            facts.method,
            facts.token,
            facts.host,
            facts.user_agent,
            facts.referer,
            facts.client_ip,
        )
        if click is not None:
            if runtime.clicks.durable:
                try:
                    await runtime.clicks.record_durably(click)
                except SpoolUnavailable:
                    # Durable mode promises no answered click is lost: answer none.
                    answer = unavailable(click.hit_class)
            else:
                runtime.clicks.record(click)
        await _send(send, answer, started)


async def _send(send: Send, answer: Answer, started: float) -> None:
    headers = answer.headers
    body = answer.body
    headers.append(_EMPTY if not body else (b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    counted(answer, started)
