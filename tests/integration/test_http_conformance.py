"""The edge's own HTTP/1.1 protocol (edge/protocol.py) against plain uvicorn
serving the same app: one table of raw requests, sent to both; the status, the
framing and whether the connection closes must be the same, except where the
edge refuses on purpose what uvicorn lets through (a head too large). Then the
limits themselves: slow heads, silent connections, a flood of pipelined
requests nobody reads."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from edge import protocol
from edge.app import create_app
from smarturls.v1 import common_pb2, templates_pb2
from tests.http_wire import Exchange, exchange
from tests.support import LoopbackServer, Stack, edge_settings

pytestmark = pytest.mark.timeout(120)
HOST = "share.acme.example"


@dataclass(frozen=True)
class Case:
    name: str
    # The raw request(s), given the cached token and a token not yet cached.
    build: Callable[[str, str], bytes]
    expect: int = 1
    heads: tuple[bool, ...] = ()
    # Statuses the edge must answer where uvicorn answers otherwise (on purpose).
    edge_only: tuple[int, ...] | None = None
    # The edge's own route answers (at least one of) its requests, not ASGI.
    hot: bool = False
    # A smuggling shape: 400 and the connection closed, on both servers.
    refused: bool = False


def get(target: str, *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [
        f"{method} {target} HTTP/{version}",
        f"Host: {HOST}",
        "User-Agent: Mozilla/5.0 (iPhone) Safari/604.1",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def raw(text: str) -> Callable[[str, str], bytes]:
    return lambda token, cold: text.replace("TOKEN", token).encode()


CASES = [
    Case("keep-alive GET", lambda t, c: get(f"/{t}"), hot=True),
    Case("HEAD has no body", lambda t, c: get(f"/{t}", method="HEAD"), heads=(True,), hot=True),
    Case("query string on the token", lambda t, c: get(f"/{t}?utm_source=mail"), hot=True),
    Case("HTTP/1.0 closes", lambda t, c: get(f"/{t}", version="1.0"), hot=True),
    Case(
        "HTTP/1.0 keep-alive asked",
        lambda t, c: get(f"/{t}", "Connection: keep-alive", version="1.0"),
        hot=True,
    ),
    Case("Connection: close", lambda t, c: get(f"/{t}", "Connection: close"), hot=True),
    Case("a link not in memory", lambda t, c: get(f"/{c}")),
    Case("forged token", lambda t, c: get("/A0000000000x")),
    Case("wrong host", lambda t, c: get(f"/{t}").replace(HOST.encode(), b"evil.example"), hot=True),
    Case("no Host header", raw("GET /TOKEN HTTP/1.1\r\nUser-Agent: x\r\n\r\n"), hot=True),
    Case("unknown path", lambda t, c: get("/some/where")),
    Case("health on an IP", raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")),
    Case("POST to a token", lambda t, c: get(f"/{t}", "Content-Length: 0", method="POST")),
    Case("absolute-form target", lambda t, c: get(f"http://{HOST}/{t}")),
    Case(
        "pipelined: token, health, token",
        lambda t, c: (
            get(f"/{t}") + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + get(f"/{t}")
        ),
        expect=3,
        hot=True,
    ),
    Case(
        "pipelined: uncached first, then cached",
        lambda t, c: get(f"/{c}") + get(f"/{t}") + get(f"/{t}", method="HEAD"),
        expect=3,
        heads=(False, False, True),
    ),
    Case(
        "pipelined ten, the last closes",
        lambda t, c: get(f"/{t}") * 9 + get(f"/{t}", "Connection: close"),
        expect=10,
        hot=True,
    ),
    # The hot route's answers are written at the end of the loop's pass; a
    # refusal in the same segment must still come after them. (uvicorn answers
    # only the 400: the first request's task has not run when it closes.)
    Case(
        "pipelined: token, then garbage",
        lambda t, c: get(f"/{t}") + b"HELLO\r\n\r\n",
        expect=2,
        edge_only=(302, 400),
        hot=True,
    ),
    Case(
        "pipelined: a closing token, then garbage",
        lambda t, c: get(f"/{t}", "Connection: close") + b"HELLO\r\n\r\n",
        hot=True,
    ),
    Case(
        "pipelined: token, then a 16 KB header",
        lambda t, c: get(f"/{t}") + get(f"/{t}", "X-Big: " + "a" * 16_000),
        expect=2,
        edge_only=(302, 431),
        hot=True,
    ),
    Case(
        "GET with a body, then another request",
        lambda t, c: get(f"/{t}", "Content-Length: 5")[:-2] + b"\r\nhello" + get(f"/{t}"),
        expect=2,
    ),
    Case(
        "GET with a chunked body, then another request",
        lambda t, c: (
            get(f"/{t}", "Transfer-Encoding: chunked") + b"5\r\nhello\r\n0\r\n\r\n" + get(f"/{t}")
        ),
        expect=2,
    ),
    Case(
        "Expect: 100-continue",
        lambda t, c: get(f"/{t}", "Expect: 100-continue", "Content-Length: 3") + b"abc",
    ),
    Case(
        "Content-Length and Transfer-Encoding",
        lambda t, c: get(f"/{t}", "Content-Length: 5", "Transfer-Encoding: chunked") + b"0\r\n\r\n",
        refused=True,
    ),
    Case(
        "two Content-Lengths",
        lambda t, c: get(f"/{t}", "Content-Length: 1", "Content-Length: 2") + b"ab",
        refused=True,
    ),
    Case(
        "obfuscated Transfer-Encoding",
        lambda t, c: get(f"/{t}", "Transfer-Encoding: xchunked") + b"0\r\n\r\n",
        refused=True,
    ),
    Case(
        "Transfer-Encoding with a space before the colon",
        lambda t, c: get(f"/{t}", "Transfer-Encoding : chunked") + b"0\r\n\r\n",
        refused=True,
    ),
    Case(
        "chunked then identity",
        lambda t, c: get(f"/{t}", "Transfer-Encoding: chunked, identity") + b"0\r\n\r\n",
        refused=True,
    ),
    Case("negative Content-Length", lambda t, c: get(f"/{t}", "Content-Length: -1")),
    Case(
        "obs-fold header",
        raw("GET /TOKEN HTTP/1.1\r\nHost: share.acme.example\r\nX-A: b\r\n c\r\n\r\n"),
    ),
    Case(
        "NUL in a header",
        raw("GET /TOKEN HTTP/1.1\r\nHost: share.acme.example\r\nX-A: b\x00c\r\n\r\n"),
    ),
    Case("bare LF line ends", raw("GET /TOKEN HTTP/1.1\nHost: share.acme.example\n\n")),
    Case("garbage request line", raw("HELLO\r\n\r\n")),
    Case("HTTP/2 preface", raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")),
    Case("lower-case method", raw("get /TOKEN HTTP/1.1\r\nHost: share.acme.example\r\n\r\n")),
    Case("unknown version", raw("GET /TOKEN HTTP/3.7\r\nHost: share.acme.example\r\n\r\n")),
    Case("a 16 KB header", lambda t, c: get(f"/{t}", "X-Big: " + "a" * 16_000), edge_only=(431,)),
    Case(
        "101 headers",
        lambda t, c: get(f"/{t}", *(f"X-H{i}: v" for i in range(101))),
        edge_only=(431,),
    ),
    Case("a 9 KB target", lambda t, c: get(f"/{t}?q=" + "a" * 9000), edge_only=(414,)),
    Case(
        "a 1 MB header block",
        lambda t, c: get(f"/{t}", *(f"X-H{i}: " + "a" * 10_000 for i in range(100))),
        edge_only=(431,),
    ),
]


@dataclass(frozen=True)
class Twins:
    edge_port: int
    plain_port: int
    # A token both have in memory.
    cached: str
    mint: Callable[[str], Awaitable[str]]
    # The edge's uvicorn server (in this process): its connections can be looked at.
    edge: LoopbackServer
    durable: bool


@pytest.fixture(params=[False, True], ids=["clicks-in-memory", "durable-clicks"])
async def twins(stack: Stack, request: pytest.FixtureRequest) -> AsyncIterator[Twins]:
    """The edge, and plain uvicorn serving the same app, both on one control plane;
    in durable mode too (answers wait for their click's fsync)."""
    durable: bool = request.param
    account = await stack.account(domain=HOST)
    link = templates_pb2.TemplateLink(
        name="read", kind=common_pb2.LINK_KIND_TRACKED, destination_url="https://acme.example/a"
    )
    template = await stack.template(account.account_id, 0, [link])

    async def mint(message_id: str) -> str:
        minted = await stack.mint(account.account_id, template.template_id, message_id)
        return urlsplit(minted["read"]).path[1:]

    key = await stack.keys.key("edge")
    settings = edge_settings(
        f"127.0.0.1:{stack.control.port}", control_api_key=key, durable_clicks=durable
    )
    plain = LoopbackServer(create_app(settings), http="httptools")
    await plain.start()
    edge = await stack.start_edge(durable_clicks=True) if durable else stack.edges[0]
    edge_url = edge.url
    try:
        cached = await mint("m-1")
        urls = [edge_url, plain.url]
        for url in urls:
            assert (await stack.click(f"https://{HOST}/{cached}", edge_url=url)).status_code == 302
        edge_port, plain_port = (int(url.rsplit(":", 1)[1]) for url in urls)
        yield Twins(edge_port, plain_port, cached, mint, edge, durable)
    finally:
        await plain.stop()


async def test_the_edge_answers_as_uvicorn_does(twins: Twins, routes: list[bool]) -> None:
    differences = []
    for number, case in enumerate(CASES):
        results: list[Exchange] = []
        for port in (twins.edge_port, twins.plain_port):
            # A fresh token neither has in memory: the first request for it resolves.
            cold = await twins.mint(f"case-{number}-{port}")
            request = case.build(twins.cached, cold)
            routes.clear()
            results.append(
                await exchange(port, request, expect=case.expect, heads=list(case.heads))
            )
            if port == twins.edge_port:
                # The row went the way it is meant to: the edge's own route, or ASGI.
                assert any(routes) == case.hot, (case.name, routes)
        ours, theirs = results
        ours_framing = [r.framing() for r in ours.responses]
        theirs_framing = [r.framing() for r in theirs.responses]
        if case.edge_only is not None:
            assert [r.status for r in ours.responses] == list(case.edge_only), case.name
            assert ours.closed, case.name
            differences.append((case.name, theirs_framing, ours_framing))
            continue
        assert (ours_framing, ours.closed, ours.leftover) == (
            theirs_framing,
            theirs.closed,
            theirs.leftover,
        ), case.name
        # The same headers too (their values carry a click's own source or the date).
        assert [sorted(r.headers) for r in ours.responses] == [
            sorted(r.headers) for r in theirs.responses
        ], case.name
        assert ours.responses, case.name
        assert not [r for r in ours.responses if r.status >= 500], case.name
        if case.refused:
            assert ([r.status for r in ours.responses], ours.closed) == ([400], True), case.name
    print(f"\n{len(CASES)} cases; where the edge refuses on purpose:")
    for name, theirs_framing, ours_framing in differences:
        print(f"  {name}: uvicorn {theirs_framing}, edge {ours_framing}")


async def test_a_head_sent_a_byte_at_a_time_is_cut_off_and_a_silent_client_dropped(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(protocol, "HEAD_TIMEOUT", 0.5)
    request = get(f"/{twins.cached}")

    async def slowloris() -> bytes:
        """A byte every 50 ms, listening in between (so it stops writing once
        answered: writing on would make the closed socket answer with a reset)."""
        reader, writer = await asyncio.open_connection("127.0.0.1", twins.edge_port)
        try:
            for byte in request[:-4]:
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    answer = await asyncio.wait_for(reader.read(65536), 0.05)
                except TimeoutError:
                    continue
                return answer + await asyncio.wait_for(reader.read(), 3)
            return b"never answered"
        finally:
            writer.close()

    async def silent() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", twins.edge_port)
        try:
            return await asyncio.wait_for(reader.read(), 3)
        finally:
            writer.close()

    started = asyncio.get_running_loop().time()
    answers = await asyncio.gather(*(slowloris() for _ in range(50)), silent())
    assert asyncio.get_running_loop().time() - started < 3
    for answer in answers[:-1]:
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer[:40]
        assert b"connection: close" in answer
    assert answers[-1] == b""  # closed without a word
    # A client that sends its head at once is not touched by the limit.
    ok = await exchange(twins.edge_port, request)
    assert [r.status for r in ok.responses] == [302] and not ok.closed


async def test_an_idle_connection_is_closed_a_keep_alive_timeout_after_its_last_answer(
    twins: Twins, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keep-alive timer is armed once per connection and left running; when
    it fires it must count from the last read or answer, as uvicorn's per-response
    timer does, in durable mode (answered after the fsync) too."""
    keep_alive = 1.0
    made = protocol.EdgeProtocol.connection_made

    def short_keep_alive(self: protocol.EdgeProtocol, transport: asyncio.Transport) -> None:
        made(self, transport)
        self.timeout_keep_alive = keep_alive

    monkeypatch.setattr(protocol.EdgeProtocol, "connection_made", short_keep_alive)
    reader, writer = await asyncio.open_connection("127.0.0.1", twins.edge_port)
    loop = asyncio.get_running_loop()

    async def ask() -> float:
        writer.write(get(f"/{twins.cached}"))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 302"), head
        return loop.time()

    try:
        await ask()
        await asyncio.sleep(0.6 * keep_alive)
        await ask()
        # Past the first answer's deadline, within the second's: still open.
        await asyncio.sleep(0.7 * keep_alive)
        last = await ask()
        # Then idle: closed once a whole timeout has passed since that answer.
        assert await asyncio.wait_for(reader.read(), 5 * keep_alive) == b""
        idle = loop.time() - last
        assert 0.9 * keep_alive <= idle <= 2 * keep_alive, idle
    finally:
        writer.close()


async def test_pipelined_requests_nobody_reads_wait_for_the_reader(twins: Twins) -> None:
    """GETs written at once, responses read only afterwards: the edge stops
    answering (and reading) once the kernel takes no more, so what it holds for
    the client stays bounded; then every one is answered, in order, and other
    clients are served meanwhile."""
    # In durable mode each answer waits for an fsync, so fewer make the point.
    count = 10_000 if twins.durable else 50_000
    client = socket.socket()
    # A small receive window: the kernel takes a few MB of answers at most
    # (the edge's send buffer), not the ~10 MB of 50,000 302s.
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16_384)
    client.setblocking(False)
    await asyncio.get_running_loop().sock_connect(client, ("127.0.0.1", twins.edge_port))
    reader, writer = await asyncio.open_connection(sock=client)
    try:
        writer.write(get(f"/{twins.cached}") * count)
        other = await exchange(twins.edge_port, get(f"/{twins.cached}"))
        assert [r.status for r in other.responses] == [302]
        # Answered as fast as they are read, the rest would sit in the edge's memory.
        held = 0
        for _ in range(50):
            connections = twins.edge.server.server_state.connections
            held = max([held, *(c.transport.get_write_buffer_size() for c in connections)])
            await asyncio.sleep(0.02)
        assert held < 2 << 20, held
        received = b""
        while received.count(b"HTTP/1.1 302 Found\r\n") < count:
            chunk = await asyncio.wait_for(reader.read(1 << 20), 10)
            assert chunk, "closed early"
            received += chunk
    finally:
        # Else the edge's graceful stop would wait for this connection forever.
        writer.transport.abort()
    assert received.count(b"HTTP/1.1 ") == count


def mutated(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(data) + 1)
        operation = rng.randrange(6)
        if operation == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif operation == 1:
            data[at:at] = bytes([rng.randrange(256)])
        elif operation == 2:
            del data[at : at + rng.randint(1, 16)]
        elif operation == 3:
            data[at:at] = data[at : at + rng.randint(1, 64)] * rng.randint(1, 4)
        elif operation == 4:
            data[at:at] = rng.choice([b"\r\n", b"\n", b":", b" ", b"\x00", b"\r\n\r\n", b"%"])
        else:
            data[at:at] = rng.choice(
                [
                    b"Content-Length: 9\r\n",
                    b"Transfer-Encoding: chunked\r\n",
                    b"Expect: 100-continue\r\n",
                    b"Connection: close\r\n",
                ]
            )
    return bytes(data)


async def test_random_and_mutated_heads_never_get_a_5xx_a_hang_or_a_crash(
    twins: Twins, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(protocol, "HEAD_TIMEOUT", 1.0)
    rng = random.Random(20261206)
    cold = await twins.mint("fuzz")
    seeds = [case.build(twins.cached, cold) for case in CASES if case.edge_only is None]
    inputs = [mutated(rng.choice(seeds), rng) for _ in range(400)]
    inputs += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 300))) for _ in range(100)]
    limit = asyncio.Semaphore(25)

    async def send(data: bytes) -> Exchange:
        async with limit:
            # An unfinished head is cut off after HEAD_TIMEOUT; a request waiting
            # for a body it will never get, by the keep-alive rules: 5 s at most.
            return await asyncio.wait_for(
                exchange(twins.edge_port, data, expect=50, timeout=1.5, linger=0.1), 8
            )

    caplog.set_level(logging.ERROR)
    # uvicorn's logger does not propagate to the root one caplog listens on, and
    # "Exception in ASGI application" would be logged there.
    uvicorn_log = logging.getLogger("uvicorn")
    uvicorn_log.addHandler(caplog.handler)
    try:
        results = await asyncio.gather(*(send(data) for data in inputs))
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    statuses = [r.status for result in results for r in result.responses]
    assert statuses and not [s for s in statuses if s >= 500]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    # Still itself afterwards.
    after = await exchange(twins.edge_port, get(f"/{twins.cached}"))
    assert [r.status for r in after.responses] == [302]
    print(f"\n{len(inputs)} inputs, {len(statuses)} responses: {sorted(set(statuses))}")
