"""GET/HEAD /{token}: the hot path, plain ASGI in front of Starlette.

It reads like the flow: resolve the token (a dict lookup when cached), check the
host, classify the hit (cached per user agent), record the click, answer 302 —
or, to a link previewer, the link's preview card.
"""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Receive, Scope, Send

from classifier import PREVIEW, classify, client_facts
from edge import metrics, pages
from edge.links import CachedLink
from edge.resolver import ControlUnavailable
from edge.tracking import MAX_REFERER, MAX_UA, EdgeClick, SpoolUnavailable
from signing.tokens import TOKEN_LENGTH

if TYPE_CHECKING:
    from edge.app import EdgeRuntime

import uuid_utils

SOURCE_COOKIE_AGE = 30 * 24 * 3600
_COOKIE_TAIL = f"; Max-Age={SOURCE_COOKIE_AGE}; Path=/; Secure; SameSite=Lax".encode()
_TOKEN_PATH_LENGTH = TOKEN_LENGTH + 1
_HTML = (b"content-type", b"text/html; charset=utf-8")
_NO_STORE = (b"cache-control", b"no-store")
_EMPTY = (b"content-length", b"0")
_HOT = metrics.HOT
_MEMORY_HIT = ("memory", "hit")


def _count(outcome: str, hit_class: str) -> None:
    _HOT.requests[outcome, hit_class] += 1


@lru_cache(maxsize=4096)
def normalize_host(raw: bytes) -> str:
    """The Host header without port or trailing dot, lower-cased."""
    host = raw.decode("latin-1").lower()
    if not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


class RedirectApp:
    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.runtime: EdgeRuntime | None = None  # set by the lifespan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or len(scope["path"]) != _TOKEN_PATH_LENGTH
            or scope["method"] not in ("GET", "HEAD")
            or self.runtime is None
        ):
            await self.fallback(scope, receive, send)
            return
        started = time.perf_counter()
        runtime = self.runtime
        token = scope["path"][1:]
        host = user_agent = referer = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
            elif name == b"user-agent":
                user_agent = value
            elif name == b"referer":
                referer = value

        link = runtime.cache.get(token)
        if link is None:
            # A miss is counted by the resolver, once the token's MAC is good:
            # a flood of forged tokens is not the cache missing.
            try:
                link = await runtime.resolver.resolve(token)
            except ControlUnavailable:
                _count("unavailable", "")
                await _answer(
                    send,
                    503,
                    [_HTML, _NO_STORE, (b"retry-after", b"5")],
                    pages.UNAVAILABLE,
                    started,
                )
                return
        else:
            _HOT.cache[_MEMORY_HIT] += 1
        if not isinstance(link, CachedLink):  # None or GONE
            _count("not_found", "")
            await _answer(send, 404, [_HTML, _NO_STORE], pages.NOT_FOUND, started)
            return
        shape = link.shape
        if normalize_host(host) != shape.share_domain:
            _count("wrong_domain", "")
            await _answer(send, 404, [_HTML, _NO_STORE], pages.NOT_FOUND, started)
            return

        method = scope["method"]
        client = scope.get("client")
        ip_prefix, network = client_facts(client[0]) if client else ("", None)
        agent = user_agent.decode("latin-1")[:MAX_UA]
        verdict = classify(method, agent, network)
        click_id = uuid_utils.uuid7().bytes
        click = EdgeClick(
            click_id,
            link.smart_url_id,
            time.time_ns() // 1000,
            method,
            agent,
            ip_prefix,
            referer.decode("latin-1")[:MAX_REFERER],
            verdict.hit_class,
            verdict.reasons,
        )
        if runtime.clicks.durable:
            try:
                await runtime.clicks.record_durably(click)
            except SpoolUnavailable:
                # Durable mode promises no answered click is lost: answer none.
                _count("unavailable", verdict.hit_class)
                await _answer(
                    send,
                    503,
                    [_HTML, _NO_STORE, (b"retry-after", b"5")],
                    pages.UNAVAILABLE,
                    started,
                )
                return
        else:
            runtime.clicks.record(click)

        if verdict.hit_class == PREVIEW and method == "GET":
            body = pages.preview(
                shape.card, f"https://{shape.share_domain}/{token}", shape.share_domain
            )
            _count("preview", verdict.hit_class)
            await _answer(send, 200, [_HTML, _NO_STORE], body, started)
        else:
            source = runtime.sources.mint(link.smart_url_id, click_id)
            headers = [
                (b"location", link.destination_for(source)),
                # 302 + no-store: a cached redirect would be a click nobody sees.
                _NO_STORE,
            ]
            if shape.append_source:
                headers.append(
                    (
                        b"set-cookie",
                        b"mbsy_source=" + source + _COOKIE_TAIL,
                    )
                )
            _count("redirect", verdict.hit_class)
            await _answer(send, 302, headers, b"", started)


async def _answer(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes, started: float
) -> None:
    """Sends the response; every answer, 404 and 503 included, is in the latency histogram."""
    headers.append(_EMPTY if not body else (b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    _HOT.observe_latency(time.perf_counter() - started)
