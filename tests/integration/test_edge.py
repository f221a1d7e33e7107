"""The edge through real sockets: what it answers and what it records."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import REGISTRY

import control.api.edge
from control.domain.rollups import message_lock_key
from control.server import start_grpc, stop_grpc
from edge import protocol
from signing.tokens import mint_token, verify_token
from smarturls.v1 import common_pb2, edge_pb2, edge_pb2_grpc, templates_pb2
from tests.support import KEYS, Stack, eventually

TRACKED = [
    templates_pb2.TemplateLink(
        name="blog",
        kind=common_pb2.LINK_KIND_TRACKED,
        destination_url="https://acme.example/blog?a=1",
    )
]


REFERRAL = [
    templates_pb2.TemplateLink(
        name="shop", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
    )
]


def cache_misses() -> float:
    labels = {"tier": "memory", "result": "miss"}
    return REGISTRY.get_sample_value("smarturls_edge_cache_total", labels) or 0.0


def cache_hits() -> float:
    labels = {"tier": "memory", "result": "hit"}
    return REGISTRY.get_sample_value("smarturls_edge_cache_total", labels) or 0.0


def unacked_age() -> float:
    value = REGISTRY.get_sample_value("smarturls_edge_oldest_unacked_click_seconds")
    assert value is not None
    return value


def latencies_observed() -> float:
    return REGISTRY.get_sample_value("smarturls_edge_request_seconds_count") or 0.0


def edge_requests() -> dict[tuple[str, str], float]:
    """The edge's token requests so far, by (outcome, hit class)."""
    return {
        (sample.labels["outcome"], sample.labels["hit_class"]): sample.value
        for metric in REGISTRY.collect()
        if metric.name == "smarturls_edge_requests"
        for sample in metric.samples
    }


async def sent_link(stack: Stack) -> str:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    return (await stack.mint(account.account_id, template.template_id, "m-1"))["blog"]


async def test_tracked_link_redirects_untouched(stack: Stack) -> None:
    response = await stack.click(await sent_link(stack))
    assert response.status_code == 302
    assert response.headers["location"] == "https://acme.example/blog?a=1"
    assert "set-cookie" not in response.headers


async def test_a_referral_click_is_answered_and_counted_alike_through_asgi_and_below_it(
    stack: Stack, routes: list[bool]
) -> None:
    """A link's first click is a miss, answered through ASGI; the next is a hit,
    answered by the edge's own protocol. Both carry the click's own source in the
    destination and in the cookie, and both are counted."""
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, REFERRAL)
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    sources = []
    for hits in (0, 1):
        requests, observed, hit = edge_requests(), latencies_observed(), cache_hits()
        response = await stack.click(url)
        assert response.status_code == 302
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["mbsy"] == ["JANE42"]
        [source] = query["mbsy_source"]
        assert response.headers["set-cookie"] == (
            f"mbsy_source={source}; Max-Age=2592000; Path=/; Secure; SameSite=Lax"
        )
        assert response.headers["cache-control"] == "no-store"
        requests[("redirect", "human")] = requests.get(("redirect", "human"), 0.0) + 1
        assert edge_requests() == requests
        assert latencies_observed() == observed + 1
        assert cache_hits() == hit + hits
        sources.append(source)
    assert routes == [False, True]
    assert sources[0] != sources[1]  # each click its own
    await stack.wait_for_clicks(2)


async def test_the_client_address_comes_from_a_trusted_proxy_alike_on_both_routes(
    stack: Stack, routes: list[bool]
) -> None:
    """X-Forwarded-For is believed from a trusted proxy only, every such header
    read, the rightmost address not a trusted proxy's taken: the same for a
    link's first click (through ASGI, uvicorn's middleware) as for its next ones
    (the edge's own protocol)."""
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    untrusting = await stack.start_edge(trusted_proxies="10.9.9.9")
    clicks = []  # (edge, forwarded headers, the /24 the click must be stored with)
    for number, (edge, forwarded, prefix) in enumerate(
        [
            (stack.edge_url, ["198.51.100.7"], "198.51.100.0/24"),
            (stack.edge_url, ["203.0.113.50", "192.0.2.9, 127.0.0.1"], "192.0.2.0/24"),
            (untrusting.url, ["198.51.100.7"], "127.0.0.0/24"),
        ]
    ):
        url = (await stack.mint(account.account_id, template.template_id, f"m-{number}"))["blog"]
        for attempt in range(2):  # a miss, then a hit
            agent = f"Mozilla/5.0 (iPhone) Safari/604.1 click-{number}-{attempt}"
            headers = [("Host", "share.acme.example"), ("User-Agent", agent)]
            headers += [("X-Forwarded-For", value) for value in forwarded]
            response = await stack.http.get(edge + urlsplit(url).path, headers=headers)
            assert response.status_code == 302
            clicks.append((agent, prefix))
    assert routes == [False, True] * 3
    await stack.wait_for_clicks(len(clicks))
    rows = await stack.db.fetch("SELECT user_agent, ip_prefix::text FROM clicks")
    assert sorted((r["user_agent"], r["ip_prefix"]) for r in rows) == sorted(clicks)


async def test_forged_and_mistyped_tokens_are_404_without_a_lookup(stack: Stack) -> None:
    url = await sent_link(stack)
    token = urlsplit(url).path[1:]
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    # A good token's first click is a miss (looked up, then cached); forged ones are not.
    misses = cache_misses()
    assert (await stack.click(url)).status_code == 302
    assert cache_misses() == misses + 1
    before, requests, answered = cache_misses(), edge_requests(), latencies_observed()
    depth = stack.edges[0].app.runtime.clicks.depth
    bad_tokens = (forged, token[:-1], token + "x", "A" * 12, "metrics.php", "%00" * 4)
    for bad in bad_tokens:
        response = await stack.click(f"https://share.acme.example/{bad}")
        assert response.status_code == 404, bad
        assert "Link not found" in response.text
    assert cache_misses() == before
    # Forged and mistyped tokens are counted as not found and nothing else; and
    # nothing is recorded for them (the good click may have been flushed meanwhile).
    # Only the two of a token's length reach the redirect path; the rest are
    # the app's plain 404.
    requests[("not_found", "")] = requests.get(("not_found", ""), 0.0) + 2
    assert edge_requests() == requests
    assert latencies_observed() == answered + 2  # 404s are in the latency histogram too
    assert stack.edges[0].app.runtime.clicks.depth <= depth


async def test_token_on_another_accounts_domain_is_404(stack: Stack) -> None:
    url = await sent_link(stack)
    await stack.account(domain="share.other.example")
    response = await stack.click(url, host="share.other.example")
    assert response.status_code == 404
    # The right domain still works, with or without a port in the Host header.
    assert (await stack.click(url, host="SHARE.ACME.EXAMPLE:443")).status_code == 302
    assert (await stack.click(url, host="share.acme.example.")).status_code == 302


async def test_metrics_and_health_are_not_served_on_share_domains(stack: Stack) -> None:
    for path in ("/metrics", "/healthz"):
        public = await stack.http.get(stack.edge_url + path, headers={"Host": "share.acme.example"})
        assert public.status_code == 404
        internal = await stack.http.get(stack.edge_url + path)  # Host: 127.0.0.1:port
        assert internal.status_code == 200


async def test_head_is_answered_but_never_counted(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["blog"]
    assert (await stack.click(url, method="HEAD")).status_code == 302
    assert (await stack.click(url)).status_code == 302
    await stack.wait_for_clicks(2)
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.unique_clickers) == (1, 1)


async def test_clicks_are_stored_once_with_a_truncated_address(stack: Stack) -> None:
    url = await sent_link(stack)
    for _ in range(5):
        await stack.click(url)
    await stack.wait_for_clicks(5)
    rows = await stack.db.fetch("SELECT click_id, ip_prefix::text, user_agent FROM clicks")
    assert len({r["click_id"] for r in rows}) == 5
    assert {r["ip_prefix"] for r in rows} == {"127.0.0.0/24"}
    assert all("iPhone" in r["user_agent"] for r in rows)


async def test_control_plane_restart_loses_no_click_and_stores_none_twice(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    cached = (await stack.mint(account.account_id, template.template_id, "m-1"))["blog"]
    uncached = (await stack.mint(account.account_id, template.template_id, "m-2"))["blog"]
    assert (await stack.click(cached)).status_code == 302
    await stack.wait_for_clicks(1)

    await stop_grpc(stack.control, 0)
    first_unacked = time.time()
    for _ in range(3):
        assert (await stack.click(cached)).status_code == 302
    unavailable = await stack.click(uncached)
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"]
    await asyncio.sleep(0.3)
    assert await stack.stored_clicks() == 1
    buffer = stack.edges[0].app.runtime.clicks
    # The failed send moved them from memory to the spool on disk.
    assert buffer.depth == 0 and buffer.spooled_bytes > 0
    # Spooled is still unacknowledged: the age an SRE alerts on keeps growing.
    await asyncio.sleep(0.5)
    assert unacked_age() >= time.time() - first_unacked - 0.1 > 0.7

    # A new control-plane process on the same address: the edge reconnects.
    stack.control = await start_grpc(stack.deps, f"127.0.0.1:{stack.control.port}")
    await stack.wait_for_clicks(4)
    assert (await stack.click(uncached)).status_code == 302
    await stack.wait_for_clicks(5)
    await asyncio.sleep(0.2)
    assert await stack.stored_clicks() == 5
    assert buffer.spooled_bytes == 0
    assert unacked_age() == 0


async def test_postgresql_away_behind_a_running_control_plane_loses_no_click(
    stack: Stack, dsn: str, admin_dsn: str
) -> None:
    url = await sent_link(stack)
    assert (await stack.click(url)).status_code == 302
    await stack.wait_for_clicks(1)
    refused = ingest_statuses()
    database = urlsplit(dsn).path[1:]
    admin = await asyncpg.connect(admin_dsn)
    try:
        # The database goes away under the control plane, which stays up.
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", database
        )
        for _ in range(3):
            assert (await stack.click(url)).status_code == 302  # cached: served regardless
        buffer = stack.edges[0].app.runtime.clicks
        deadline = time.monotonic() + 10
        while buffer.spooled_bytes == 0:  # the control plane refused the batch
            assert time.monotonic() < deadline, "the clicks were never spooled"
            await asyncio.sleep(0.05)
    finally:
        await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        await admin.close()
    deadline = time.monotonic() + 20
    while await stored_clicks(dsn) < 4:
        assert time.monotonic() < deadline, "the spooled clicks were not stored"
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    assert await stored_clicks(dsn) == 4
    assert buffer.spooled_bytes == 0
    # The edge was told to retry, not that the control plane had a bug.
    now = ingest_statuses()
    assert now.get("UNAVAILABLE", 0) > refused.get("UNAVAILABLE", 0)
    assert now.get("INTERNAL", 0) == refused.get("INTERNAL", 0)


def ingest_statuses() -> dict[str, float]:
    """IngestClicks streams the control plane ended, by status."""
    return {
        sample.labels["code"]: sample.value
        for metric in REGISTRY.collect()
        if metric.name == "smarturls_control_rpcs"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels["method"] == "IngestClicks"
    }


async def stored_clicks(dsn: str) -> int:
    """Stored clicks, through a connection of its own (the stack's pool lost
    its connections with the database); a click stored twice fails here."""
    conn = await asyncpg.connect(dsn)
    try:
        stored, distinct = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT click_id) FROM clicks"
        )
    finally:
        await conn.close()
    assert stored == distinct, "a click stored twice"
    return int(stored)


async def test_spooled_clicks_are_replayed_in_the_order_they_were_made(stack: Stack) -> None:
    """Spooled records are joined into batches of up to max_batch clicks (here 2),
    sent oldest first, each acknowledged before the next."""
    url = await sent_link(stack)
    edge = await stack.start_edge(max_batch=2)
    assert (await stack.click(url, edge_url=edge.url)).status_code == 302
    await stack.wait_for_clicks(1)
    await stop_grpc(stack.control, 0)
    buffer = edge.app.runtime.clicks

    async def spilled() -> bool:
        return buffer.depth == 0 and buffer.spooled_bytes > 0

    for _ in range(5):
        assert (await stack.click(url, edge_url=edge.url)).status_code == 302
        # Each click spilled by a failed send before the next: a record each.
        await eventually(spilled, timeout=15)
    stack.control = await start_grpc(stack.deps, f"127.0.0.1:{stack.control.port}")
    await stack.wait_for_clicks(6)
    rows = await stack.db.fetch(
        "SELECT xmin::text::bigint AS tx FROM clicks ORDER BY clicked_at OFFSET 1"
    )
    stored_by = [r["tx"] for r in rows]
    # Five records, three batches (2 + 2 + 1), stored in the order the clicks were made.
    assert stored_by == sorted(stored_by)
    assert [stored_by.count(tx) for tx in sorted(set(stored_by))] == [2, 2, 1]


async def test_in_durable_mode_acknowledged_clicks_leave_the_unacknowledged_age(
    stack: Stack,
) -> None:
    # Durable mode keeps every click in the spool's current segment after it is
    # acknowledged: the age must come back to 0, not grow while the edge is idle.
    edge = await stack.start_edge(durable_clicks=True)
    url = await sent_link(stack)
    for _ in range(3):
        assert (await stack.click(url, edge_url=edge.url)).status_code == 302
    buffer = edge.app.runtime.clicks
    assert buffer.spooled_bytes > 0
    await stack.wait_for_clicks(3)
    await asyncio.sleep(0.3)
    assert unacked_age() == 0  # read through the metric: the last edge started is this one
    assert buffer.spooled_bytes > 0  # the acknowledged clicks are still in the segment


async def test_a_durable_click_whose_client_left_before_its_fsync_is_kept_and_counted(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    edge = await stack.start_edge(durable_clicks=True)
    url = await sent_link(stack)
    assert (await stack.click(url, edge_url=edge.url)).status_code == 302  # now cached
    answer_durably = protocol.EdgeProtocol._answer_durably

    def client_gone(self: protocol.EdgeProtocol, *args: Any) -> None:
        self.transport.close()  # as if the client had hung up while the group was written
        answer_durably(self, *args)

    monkeypatch.setattr(protocol.EdgeProtocol, "_answer_durably", client_gone)
    requests, observed = edge_requests(), latencies_observed()
    reader, writer = await asyncio.open_connection(*urlsplit(edge.url).netloc.split(":"))
    path = urlsplit(url).path
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: share.acme.example\r\n"
        "User-Agent: Mozilla/5.0 (iPhone) Safari/604.1\r\n\r\n".encode()
    )
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, never answered
    writer.close()
    requests[("redirect", "human")] = requests.get(("redirect", "human"), 0.0) + 1
    assert edge_requests() == requests
    assert latencies_observed() == observed + 1
    await stack.wait_for_clicks(2)


async def test_a_resent_batch_is_stored_once(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(
        account.account_id,
        common_pb2.GOAL_ADVOCATE_SHARE,
        [
            templates_pb2.TemplateLink(
                name="wa",
                kind=common_pb2.LINK_KIND_SHARE,
                network=common_pb2.SHARE_NETWORK_WHATSAPP,
                destination_url="https://shop.example/",
            )
        ],
    )
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["wa"]
    link_id = verify_token(KEYS, urlsplit(url).path[1:])
    assert link_id is not None
    clicked_at = Timestamp()
    clicked_at.GetCurrentTime()

    def three_clicks() -> edge_pb2.ClickBatch:
        return edge_pb2.ClickBatch(
            batch_seq=1,
            clicks=[
                edge_pb2.Click(
                    click_id=uuid.uuid4().bytes,
                    smart_url_id=link_id,
                    clicked_at=clicked_at,
                    method="GET",
                    user_agent="Mozilla/5.0",
                )
                for _ in range(3)
            ],
        )

    stub = edge_pb2_grpc.EdgeServiceStub(stack.channel)

    async def send(*batches: edge_pb2.ClickBatch) -> list[tuple[int, int]]:
        async def stream() -> AsyncIterator[edge_pb2.ClickBatch]:
            for batch in batches:
                yield batch

        return [(a.stored, a.duplicates) async for a in stub.IngestClicks(stream())]

    # Resent on a new stream after its acknowledgement was lost: all duplicates.
    first = three_clicks()
    assert await send(first) == [(3, 0)]
    assert await send(first) == [(0, 3)]
    # Twice on one stream: the copies are stored at once, either may get there
    # first, and the clicks are stored once.
    second = three_clicks()
    assert sorted(await send(second, second)) == [(0, 3), (3, 0)]
    assert await stack.stored_clicks() == 6
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.shares, perf.unique_sharers) == (6, 6, 1)


async def test_malformed_click_columns_are_invalid_argument(stack: Stack) -> None:
    stub = edge_pb2_grpc.EdgeServiceStub(stack.channel)
    broken = [
        edge_pb2.ClickColumns(click_ids=b"x" * 16, smart_url_ids=[1]),  # other columns missing
        edge_pb2.ClickColumns(
            click_ids=b"x" * 16,
            smart_url_ids=[1],
            clicked_at_us=[1],
            strings=["GET"],
            method=[0],
            user_agent=[5],
            ip_prefix=[0],
            referer=[0],
            hit_class=[0],
            reasons=[0],
        ),
        edge_pb2.ClickColumns(
            click_ids=b"x" * 16,
            smart_url_ids=[1],
            clicked_at_us=[1],
            strings=["robot"],
            method=[0],
            user_agent=[0],
            ip_prefix=[0],
            referer=[0],
            hit_class=[0],
            reasons=[0],
        ),
    ]
    for columns in broken:

        async def one() -> AsyncIterator[edge_pb2.ClickBatch]:
            yield edge_pb2.ClickBatch(batch_seq=1, columns=columns)  # noqa: B023

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            async for _ in stub.IngestClicks(one()):
                pass
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details().startswith(("columns", "clicks.hit_class"))
    assert await stack.stored_clicks() == 0


@contextlib.asynccontextmanager
async def message_held(stack: Stack, account_id: int, external_id: str) -> AsyncIterator[None]:
    """Holds the lock click ingestion takes on a message (as a slow batch would)."""
    message_id = await stack.db.fetchval(
        "SELECT message_id FROM messages WHERE account_id = $1 AND external_message_id = $2",
        account_id,
        external_id,
    )
    async with stack.db.acquire() as conn:
        key = message_lock_key(account_id, message_id)
        await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)


def one_click_batch(seq: int, link_id: int) -> edge_pb2.ClickBatch:
    clicked_at = Timestamp()
    clicked_at.GetCurrentTime()
    click = edge_pb2.Click(
        click_id=uuid.uuid4().bytes,
        smart_url_id=link_id,
        clicked_at=clicked_at,
        method="GET",
        user_agent="Mozilla/5.0",
    )
    return edge_pb2.ClickBatch(batch_seq=seq, clicks=[click])


async def messages_with_a_link(stack: Stack, count: int) -> tuple[int, list[str]]:
    """An account with `count` messages m-1, m-2, ... of one tracked link each."""
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    links = [
        (await stack.mint(account.account_id, template.template_id, f"m-{n}"))["blog"]
        for n in range(1, count + 1)
    ]
    return account.account_id, links


async def test_batches_of_one_stream_are_stored_at_once_and_acknowledged_in_order(
    stack: Stack,
) -> None:
    account_id, links = await messages_with_a_link(stack, 2)
    ids = [verify_token(KEYS, urlsplit(url).path[1:]) or 0 for url in links]
    stub = edge_pb2_grpc.EdgeServiceStub(stack.channel)
    async with message_held(stack, account_id, "m-1"):
        call = stub.IngestClicks()
        await call.write(one_click_batch(1, ids[0]))  # waits for the held message
        await call.write(one_click_batch(2, ids[1]))
        await stack.wait_for_clicks(1)  # the second batch did not wait for the first
        first_ack = asyncio.ensure_future(call.read())
        await asyncio.sleep(0.3)
        assert not first_ack.done()  # ...but is not acknowledged before it
    assert (await first_ack).batch_seq == 1
    assert (await call.read()).batch_seq == 2
    await call.done_writing()
    assert await stack.stored_clicks() == 2


async def test_batches_in_flight_when_the_control_plane_goes_are_resent_and_stored_once(
    stack: Stack,
) -> None:
    account_id, links = await messages_with_a_link(stack, 3)
    edge = await stack.start_edge(max_batch=1)
    for url in links:  # cached, so the edge keeps answering without the control plane
        assert (await stack.click(url, edge_url=edge.url)).status_code == 302
    await stack.wait_for_clicks(3)
    async with message_held(stack, account_id, "m-1"):
        for url in links:  # one batch each: m-1's waits, m-2's and m-3's are stored
            assert (await stack.click(url, edge_url=edge.url)).status_code == 302
        await stack.wait_for_clicks(5)
        buffer = edge.app.runtime.clicks
        assert buffer.depth == 3  # nothing acknowledged: all three are still held
        await stop_grpc(stack.control, 0)
        await asyncio.sleep(0.3)
        assert buffer.depth == 0 and buffer.spooled_bytes > 0
    stack.control = await start_grpc(stack.deps, f"127.0.0.1:{stack.control.port}")
    await stack.wait_for_clicks(6)
    deadline = asyncio.get_running_loop().time() + 10
    while buffer.spooled_bytes and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    assert buffer.spooled_bytes == 0
    assert await stack.stored_clicks() == 6
    per_message = await stack.db.fetch(
        "SELECT m.external_message_id, count(*) FROM clicks c JOIN messages m"
        " USING (account_id, message_id) GROUP BY 1 ORDER BY 1"
    )
    assert [tuple(r) for r in per_message] == [("m-1", 2), ("m-2", 2), ("m-3", 2)]


async def test_with_every_batch_slot_waiting_the_sender_sleeps_until_an_acknowledgement(
    stack: Stack,
) -> None:
    account_id, links = await messages_with_a_link(stack, 1)
    edge = await stack.start_edge(max_batch=1, flush_interval=0.05)
    buffer = edge.app.runtime.clicks
    waits = 0
    wait_for_wake = buffer._wait_for_wake

    async def counted(timeout: float) -> None:
        nonlocal waits
        waits += 1
        await wait_for_wake(timeout)

    buffer._wait_for_wake = counted  # type: ignore[method-assign]
    async with message_held(stack, account_id, "m-1"):
        # Three batches of one click each take the three slots and wait at the
        # held message; the fourth click is due and has no slot.
        for _ in range(4):
            assert (await stack.click(links[0], edge_url=edge.url)).status_code == 302
        await asyncio.sleep(0.1)
        assert buffer.depth == 4
        waits = 0
        await asyncio.sleep(0.5)
        # Woken by the flush interval (0.05 s) only: about ten times, where a
        # 1 ms deadline polled hundreds of times.
        assert waits <= 30
    await stack.wait_for_clicks(4)


async def test_resolve_tokens_answers_each_token_as_resolve_token_would(stack: Stack) -> None:
    account = await stack.account()
    links = [
        TRACKED[0],
        templates_pb2.TemplateLink(
            name="wa",
            kind=common_pb2.LINK_KIND_SHARE,
            network=common_pb2.SHARE_NETWORK_WHATSAPP,
            destination_url="https://shop.example/",
        ),
    ]
    template = await stack.template(account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, links)
    first = await stack.mint(account.account_id, template.template_id, "m-1")
    second = await stack.mint(account.account_id, template.template_id, "m-2")
    token = {name: urlsplit(url).path[1:] for name, url in first.items()}
    other = urlsplit(second[TRACKED[0].name]).path[1:]
    gone = mint_token(KEYS, 987_654_321)
    forged = token["wa"][:-2] + ("AA" if not token["wa"].endswith("AA") else "BB")
    stub = edge_pb2_grpc.EdgeServiceStub(stack.channel)
    asked = [token["wa"], forged, gone, other, token[TRACKED[0].name], token["wa"]]
    reply = await stub.ResolveTokens(edge_pb2.ResolveTokensRequest(tokens=asked))
    assert [r.HasField("link") for r in reply.resolutions] == [True, False, False, True, True, True]
    for each, resolution in zip(asked, reply.resolutions, strict=True):
        if resolution.HasField("link"):
            alone = await stub.ResolveToken(edge_pb2.ResolveTokenRequest(token=each))
            # The share button's referral link is minted once, however it is asked.
            assert resolution.link == alone
    assert reply.resolutions[0].link.smart_url_id == verify_token(KEYS, token["wa"])

    for tokens, why in (([], "at least one"), ([other] * 1001, "at most 1000")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ResolveTokens(edge_pb2.ResolveTokensRequest(tokens=tokens))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details().startswith("tokens: ") and why in caught.value.details()


async def test_an_edge_newer_than_its_control_plane_resolves_one_token_per_call(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    urls = [
        (await stack.mint(account.account_id, template.template_id, f"m-{n}"))["blog"]
        for n in range(3)
    ]
    gone = f"https://share.acme.example/{mint_token(KEYS, 987_654_321)}"
    # The control plane as it was before ResolveTokens: gRPC answers a method
    # it does not know with UNIMPLEMENTED.

    async def unknown_method(self: object, request: object, context: Any) -> None:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not found!")

    await stop_grpc(stack.control, 0)
    monkeypatch.setattr(control.api.edge.EdgeServicer, "ResolveTokens", unknown_method)
    stack.control = await start_grpc(stack.deps, f"127.0.0.1:{stack.control.port}")
    with caplog.at_level(logging.WARNING, logger="edge.resolver"):
        responses = await asyncio.gather(*(stack.click(url) for url in [*urls, gone]))
    assert [r.status_code for r in responses] == [302, 302, 302, 404]
    assert "control plane lacks ResolveTokens" in caplog.text
    await stack.wait_for_clicks(3)
