from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from starlette.types import Message, Receive, Scope, Send

from console.security import HEADERS, SecurityHeaders

Headers = list[tuple[bytes, bytes]]


def _app_sending(*messages: Message) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    return app


async def _receive() -> Message:
    return {"type": "http.disconnect"}


async def _run(app: SecurityHeaders, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, _receive, send)
    return sent


HTTP: Scope = {"type": "http", "method": "GET", "path": "/emails", "headers": []}


def _count(headers: Headers, name: bytes) -> int:
    return sum(1 for k, _ in headers if k.lower() == name)


@pytest.mark.parametrize(
    "inner",
    [
        [(b"content-type", b"text/html; charset=utf-8")],
        [(b"content-type", b"text/html"), (b"cache-control", b"max-age=3600")],
        [(b"Cache-Control", b"public"), (b"X-Frame-Options", b"SAMEORIGIN")],
        [(b"cache-control", b"max-age=1"), (b"cache-control", b"public")],
    ],
)
async def test_every_header_is_set_once(inner: Headers) -> None:
    start: Message = {"type": "http.response.start", "status": 200, "headers": inner}
    sent = await _run(SecurityHeaders(_app_sending(start)), HTTP)
    headers: Headers = sent[0]["headers"]
    for name, value in HEADERS:
        assert _count(headers, name) == 1, name
        assert (name, value) in headers


async def test_the_inner_apps_other_headers_are_kept() -> None:
    start: Message = {
        "type": "http.response.start",
        "status": 302,
        "headers": [
            (b"location", b"/signin"),
            (b"cache-control", b"max-age=60"),
            (b"set-cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
        ],
    }
    sent = await _run(SecurityHeaders(_app_sending(start)), HTTP)
    headers: Headers = sent[0]["headers"]
    assert sent[0]["status"] == 302
    assert headers[:3] == [
        (b"location", b"/signin"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
    assert (b"cache-control", b"max-age=60") not in headers
    assert (b"cache-control", b"no-store") in headers


async def test_a_start_without_headers_gets_them_all() -> None:
    start: Message = {"type": "http.response.start", "status": 204}
    sent = await _run(SecurityHeaders(_app_sending(start)), HTTP)
    assert sent[0]["headers"] == HEADERS


async def test_the_body_passes_untouched() -> None:
    start: Message = {"type": "http.response.start", "status": 200, "headers": []}
    body: Message = {"type": "http.response.body", "body": b"<p>hi</p>", "more_body": False}
    sent = await _run(SecurityHeaders(_app_sending(start, body)), HTTP)
    assert len(sent) == 2
    assert sent[1] == {"type": "http.response.body", "body": b"<p>hi</p>", "more_body": False}
    assert "headers" not in sent[1]


def test_the_policy_forbids_framing_scripts_and_caching() -> None:
    policy = dict(HEADERS)
    assert policy[b"cache-control"] == b"no-store"
    assert policy[b"x-frame-options"] == b"DENY"
    csp = policy[b"content-security-policy"].decode()
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "script-src" not in directives


@pytest.mark.parametrize(
    ("scope", "messages"),
    [
        (
            {"type": "websocket", "path": "/ws", "headers": []},
            [{"type": "websocket.accept", "headers": [(b"cache-control", b"max-age=5")]}],
        ),
        (
            {"type": "lifespan"},
            [{"type": "lifespan.startup.complete"}],
        ),
    ],
)
async def test_other_scopes_pass_through_untouched(scope: Scope, messages: list[Message]) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(inner_scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((inner_scope, receive, send))
        for message in messages:
            await send(message)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await SecurityHeaders(inner)(scope, _receive, send)
    assert sent == messages
    assert seen == [(scope, _receive, send)]
    assert seen[0][2] is send
