"""GET/HEAD /{token}, the flow itself, whoever carries the request (edge/protocol.py
below ASGI for a cached link, edge/redirect.py through ASGI for the rest):

    request facts -> link -> host check -> classify -> the click -> the answer

Synchronous: the link is already looked up, and recording the click is the
caller's (in memory, or fsync'd first in durable mode).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from functools import lru_cache
from typing import NamedTuple

import uuid_utils

from classifier import PREVIEW, classify, client_facts
from edge import metrics, pages
from edge.cache import Gone
from edge.clicks import MAX_REFERER, MAX_UA, EdgeClick
from edge.links import CachedLink
from edge.metrics import LATENCY_BUCKETS
from edge.runtime import EdgeRuntime
from signing.tokens import TOKEN_LENGTH

# "/" and the token: the only paths this route answers.
TOKEN_PATH_LENGTH = TOKEN_LENGTH + 1
SOURCE_COOKIE_AGE = 30 * 24 * 3600
_COOKIE_TAIL = f"; Max-Age={SOURCE_COOKIE_AGE}; Path=/; Secure; SameSite=Lax".encode()
_HTML = (b"content-type", b"text/html; charset=utf-8")
# 302 + no-store: a cached redirect would be a click nobody sees.
_NO_STORE = (b"cache-control", b"no-store")
_RETRY = (b"retry-after", b"5")
_HOT = metrics.HOT


class RequestFacts(NamedTuple):
    method: str  # GET or HEAD
    token: str
    host: bytes
    user_agent: bytes
    referer: bytes
    # The client's address (a trusted proxy's X-Forwarded-For applied), if known.
    client_ip: str | None


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # For the request counter: what happened, and to whom.
    outcome: str
    hit_class: str


@lru_cache(maxsize=4096)
def normalize_host(raw: bytes) -> str:
    """The Host header without port or trailing dot, lower-cased."""
    host = raw.decode("latin-1").lower()
    if not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


def not_found(outcome: str = "not_found") -> Answer:
    return Answer(404, [_HTML, _NO_STORE], pages.NOT_FOUND, outcome, "")


def unavailable(hit_class: str = "") -> Answer:
    return Answer(503, [_HTML, _NO_STORE, _RETRY], pages.UNAVAILABLE, "unavailable", hit_class)


def answer_hit(
    runtime: EdgeRuntime,
    link: CachedLink | Gone | None,
    method: str,
    token: str,
    host: bytes,
    user_agent: bytes,
    referer: bytes,
    client_ip: str | None,
) -> tuple[Answer, EdgeClick | None]:
    """The answer to a hit on `link` (None or GONE: no such link), and the click
    to record with it (None when nothing was clicked). The rest are the
    request's facts (RequestFacts' fields, passed one by one: making the tuple
    cost more than anything this function does with it)."""
    if not isinstance(link, CachedLink):
        return not_found(), None
    shape = link.shape
    if normalize_host(host) != shape.share_domain:
        return not_found("wrong_domain"), None

    ip_prefix, network = client_facts(client_ip) if client_ip else ("", None)
    agent = user_agent.decode("latin-1")[:MAX_UA]
    verdict = classify(method, agent, network)
    click = EdgeClick(
        click_id=uuid_utils.uuid7().bytes,
        smart_url_id=link.smart_url_id,
        clicked_at_us=time.time_ns() // 1000,
        method=method,
        user_agent=agent,
        ip_prefix=ip_prefix,
        referer=referer.decode("latin-1")[:MAX_REFERER] if referer else "",
        hit_class=verdict.hit_class,
        reasons=verdict.reasons,
    )

    if verdict.hit_class == PREVIEW and method == "GET":
        page = pages.preview(
            shape.card, f"https://{shape.share_domain}/{token}", shape.share_domain
        )
        return Answer(200, [_HTML, _NO_STORE], page, "preview", verdict.hit_class), click
    source = runtime.sources.mint(link.smart_url_id, click.click_id)
    if shape.append_source:
        headers = [
            (b"location", link.destination_for(source)),
            _NO_STORE,
            (b"set-cookie", b"mbsy_source=" + source + _COOKIE_TAIL),
        ]
    else:
        headers = [(b"location", link.destination_for(source)), _NO_STORE]
    return Answer(302, headers, b"", "redirect", verdict.hit_class), click


def counted(answer: Answer, started: float) -> None:
    """Every answer, 404 and 503 included, in the request counter and the latency histogram."""
    _HOT.requests[answer.outcome, answer.hit_class] += 1
    seconds = time.perf_counter() - started
    _HOT.latency_buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
    _HOT.latency_sum += seconds
