"""The cache tiers and invalidation, through a running edge."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from prometheus_client import REGISTRY

from control.server import stop_grpc
from signing.tokens import mint_token, verify_token
from smarturls.v1 import common_pb2, minting_pb2, templates_pb2
from tests.support import KEYS, Stack, eventually

LINK = templates_pb2.TemplateLink(
    name="shop", kind=common_pb2.LINK_KIND_TRACKED, destination_url="https://shop.example/old"
)


async def move_link(stack: Stack, account_id: int, template_id: int, destination: str) -> int:
    """Points the template's link somewhere else; returns the template's new version."""
    changed = templates_pb2.TemplateLink()
    changed.CopyFrom(LINK)
    changed.destination_url = destination
    updated = await stack.templates.UpdateTemplateLink(
        templates_pb2.UpdateTemplateLinkRequest(
            account_id=account_id, template_id=template_id, link=changed
        )
    )
    return int(updated.version)


async def test_a_template_change_reaches_a_running_edge(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    assert (await stack.click(url)).headers["location"] == "https://shop.example/old"

    version = await move_link(
        stack, account.account_id, template.template_id, "https://shop.example/new"
    )
    assert version == 2

    async def follows() -> bool:
        return (await stack.click(url)).headers["location"] == "https://shop.example/new"

    await eventually(follows)


async def test_a_revoked_message_stops_redirecting_on_a_running_edge(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    other = (await stack.mint(account.account_id, template.template_id, "m-2"))["shop"]
    assert (await stack.click(url)).status_code == 302
    reply = await stack.minting.RevokeMessage(
        minting_pb2.RevokeMessageRequest(account_id=account.account_id, message_id="m-1")
    )
    assert reply.revoked == 1

    async def gone() -> bool:
        return (await stack.click(url)).status_code == 404

    await eventually(gone)
    assert (await stack.click(other)).status_code == 302
    # An edge started later learns it from the catch-up snapshot, not the cache.
    late = await stack.start_edge()
    assert (await stack.click(url, edge_url=late.url)).status_code == 404


async def test_changing_a_links_kind_is_refused(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    changed = templates_pb2.TemplateLink()
    changed.CopyFrom(LINK)
    changed.kind = common_pb2.LINK_KIND_ENROLLMENT
    with pytest.raises(Exception) as caught:
        await stack.templates.UpdateTemplateLink(
            templates_pb2.UpdateTemplateLinkRequest(
                account_id=account.account_id, template_id=template.template_id, link=changed
            )
        )
    assert "link.kind" in str(caught.value)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """REDIS_URL, the machine's Redis on 6379, or a redis-server started here."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
        yield url
        return
    except redis.RedisError:
        pass
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no Redis reachable and no redis-server to start")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(50):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.RedisError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait()


@pytest.fixture
def shared_redis(redis_url: str) -> str:
    """The Redis tier, emptied of links: every test's database mints the same
    tokens again, so a link a test (or an earlier run) left there would be
    another test's link."""
    client = redis.Redis.from_url(redis_url)
    stale = list(client.scan_iter(match="smarturls:link:*"))
    if stale:
        client.delete(*stale)
    return redis_url


async def test_redis_tier_lets_a_new_edge_start_warm(stack: Stack, shared_redis: str) -> None:
    redis_url = shared_redis
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    first = await stack.start_edge(redis_url=redis_url)
    assert (await stack.click(url, edge_url=first.url)).status_code == 302

    await stop_grpc(stack.control, 0)
    # A fresh edge, nothing in its memory, the control plane down: Redis answers.
    second = await stack.start_edge(redis_url=redis_url)
    response = await stack.click(url, edge_url=second.url)
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example/old"
    # Without the shared tier the same situation is a 503.
    third = await stack.start_edge()
    assert (await stack.click(url, edge_url=third.url)).status_code == 503


async def test_invalidations_survive_a_lost_listen_connection(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    assert (await stack.click(url)).status_code == 302
    # PostgreSQL drops the control plane's LISTEN connection (restart, failover...).
    killed = await stack.db.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
    )
    assert killed == 1

    async def listening_again() -> bool:
        return stack.deps.hub.listening

    await eventually(listening_again)
    await asyncio.sleep(0.5)  # the edge reconnects its watch (backoff) and catches up
    await move_link(
        stack, account.account_id, template.template_id, "https://shop.example/after-failover"
    )

    async def follows() -> bool:
        location = (await stack.click(url)).headers["location"]
        return bool(location == "https://shop.example/after-failover")

    await eventually(follows, timeout=10)


async def test_a_revoked_messages_shared_links_stop_too(stack: Stack) -> None:
    account = await stack.account()
    share = templates_pb2.TemplateLink(
        name="wa",
        kind=common_pb2.LINK_KIND_SHARE,
        network=common_pb2.SHARE_NETWORK_WHATSAPP,
        destination_url="https://shop.example/",
    )
    template = await stack.template(account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, [share])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["wa"]
    location = (await stack.click(url)).headers["location"]
    friend_url = parse_qs(urlsplit(location).query)["text"][0]  # no share text: the URL alone
    assert (await stack.click(friend_url)).status_code == 302
    await stack.minting.RevokeMessage(
        minting_pb2.RevokeMessageRequest(account_id=account.account_id, message_id="m-1")
    )
    # A fresh edge, nothing cached: both links answer from the database's view.
    fresh = await stack.start_edge()
    assert (await stack.click(url, edge_url=fresh.url)).status_code == 404
    assert (await stack.click(friend_url, edge_url=fresh.url)).status_code == 404


def resolve_calls() -> float:
    """ResolveToken calls the control plane has answered, whatever their status."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "smarturls_control_rpcs"
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels["method"].endswith(("ResolveToken", "ResolveTokens"))
    )


def memory_misses() -> float:
    labels = {"tier": "memory", "result": "miss"}
    return REGISTRY.get_sample_value("smarturls_edge_cache_total", labels) or 0.0


async def test_many_requests_for_one_cold_link_make_one_control_plane_call(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    calls, misses = resolve_calls(), memory_misses()
    responses = await asyncio.gather(*(stack.click(url) for _ in range(20)))
    assert [r.status_code for r in responses] == [302] * 20
    # Several requests found it missing at once (so the test means something),
    # and they waited for the one lookup.
    assert memory_misses() - misses >= 2
    assert resolve_calls() == calls + 1


async def test_a_token_whose_link_is_gone_is_asked_about_once(stack: Stack) -> None:
    await stack.account()
    url = f"https://share.acme.example/{mint_token(KEYS, 987_654_321)}"  # a good MAC, no link
    calls = resolve_calls()
    for _ in range(3):
        assert (await stack.click(url)).status_code == 404
    assert resolve_calls() == calls + 1  # then cached as gone


async def test_a_link_changed_since_redis_cached_it_is_resolved_afresh(
    stack: Stack, shared_redis: str
) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["shop"]
    first = await stack.start_edge(redis_url=shared_redis)
    assert (await stack.click(url, edge_url=first.url)).headers["location"].endswith("/old")
    await move_link(stack, account.account_id, template.template_id, "https://shop.example/new")
    # A new edge: nothing in memory, the old version still in Redis. It knows the
    # template's version from the control plane's snapshot, so the shared entry
    # is stale and the control plane is asked again.
    second = await stack.start_edge(redis_url=shared_redis)

    async def synced() -> bool:
        return second.app.runtime.cache.synced

    await eventually(synced)
    calls = resolve_calls()
    response = await stack.click(url, edge_url=second.url)
    assert response.headers["location"] == "https://shop.example/new"
    assert resolve_calls() == calls + 1


async def test_links_cold_together_share_control_plane_calls(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, [LINK])
    urls = [
        (await stack.mint(account.account_id, template.template_id, f"m-{n}"))["shop"]
        for n in range(40)
    ]
    gone = f"https://share.acme.example/{mint_token(KEYS, 987_654_321)}"
    fresh = await stack.start_edge()  # nothing cached
    calls = resolve_calls()
    responses = await asyncio.gather(
        *(stack.click(url, edge_url=fresh.url) for url in [*urls, gone])
    )
    # Every link answered as if asked about alone: its own destination, the
    # gone one 404, each with its own source for the click's message.
    assert [r.status_code for r in responses] == [302] * 40 + [404]
    assert {r.headers["location"] for r in responses[:40]} == {"https://shop.example/old"}
    # And each click is its own link's: no token was answered with another's.
    await stack.wait_for_clicks(40)
    clicked = await stack.db.fetch("SELECT smart_url_id FROM clicks")
    assert sorted(r["smart_url_id"] for r in clicked) == sorted(
        verify_token(KEYS, urlsplit(url).path[1:]) for url in urls
    )
    # 41 cold tokens, far fewer calls: the misses that came while the first
    # calls were out went together.
    assert 1 <= resolve_calls() - calls <= 20
