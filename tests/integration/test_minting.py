"""Minting at send time: idempotent on the sender's message id, unary and streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from smarturls.v1 import common_pb2, minting_pb2, templates_pb2
from tests.support import Stack

LINKS = [
    templates_pb2.TemplateLink(
        name="whatsapp",
        kind=common_pb2.LINK_KIND_SHARE,
        network=common_pb2.SHARE_NETWORK_WHATSAPP,
        destination_url="https://shop.example/",
        share_text="Hi",
    ),
    templates_pb2.TemplateLink(
        name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
    ),
]


async def setup(stack: Stack) -> tuple[int, int]:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, LINKS)
    return account.account_id, template.template_id


async def test_retry_returns_the_same_urls(stack: Stack) -> None:
    account_id, template_id = await setup(stack)
    request = minting_pb2.MintSmartUrlsRequest(
        account_id=account_id, template_id=template_id, message_id="m-1", advocate_shortcode="JO"
    )
    first = await stack.minting.MintSmartUrls(request)
    again = await stack.minting.MintSmartUrls(request)
    assert not first.replayed and again.replayed
    assert [link.url for link in first.links] == [link.url for link in again.links]
    assert [link.name for link in first.links] == ["whatsapp", "ref"]
    assert await stack.db.fetchval("SELECT count(*) FROM messages") == 1
    assert await stack.db.fetchval("SELECT count(*) FROM smart_urls") == 2


async def test_retry_with_other_values_is_already_exists(stack: Stack) -> None:
    account_id, template_id = await setup(stack)
    await stack.mint(account_id, template_id, "m-1", shortcode="JO")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.mint(account_id, template_id, "m-1", shortcode="SOMEONE_ELSE")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert caught.value.details().startswith("message_id:")


async def test_stream_answers_every_request_in_order(stack: Stack) -> None:
    account_id, template_id = await setup(stack)
    count = 2500

    async def requests() -> AsyncIterator[minting_pb2.MintSmartUrlsRequest]:
        for i in range(count):
            yield minting_pb2.MintSmartUrlsRequest(
                account_id=account_id,
                template_id=template_id if i != 7 else 424242,
                message_id=f"m-{i % (count - 1)}",  # the last one repeats m-0
                advocate_shortcode="JO",
            )

    replies = [r async for r in stack.minting.MintSmartUrlsStream(requests())]
    assert [r.message_id for r in replies] == [f"m-{i % (count - 1)}" for i in range(count)]
    assert replies[7].error.code == grpc.StatusCode.NOT_FOUND.value[0]
    assert "template_id" in replies[7].error.message and not replies[7].links
    good = [r for i, r in enumerate(replies) if i != 7]
    assert all(len(r.links) == 2 and not r.HasField("error") for r in good)
    assert replies[-1].replayed and replies[-1].links == replies[0].links
    urls = {link.url for r in good for link in r.links}
    assert len(urls) == 2 * (count - 2)
    assert await stack.db.fetchval("SELECT count(*) FROM smart_urls") == 2 * (count - 2)


async def test_same_message_twice_in_one_stream_batch_is_minted_once(stack: Stack) -> None:
    account_id, template_id = await setup(stack)

    async def requests() -> AsyncIterator[minting_pb2.MintSmartUrlsRequest]:
        for _ in range(3):
            yield minting_pb2.MintSmartUrlsRequest(
                account_id=account_id,
                template_id=template_id,
                message_id="dup",
                advocate_shortcode="JO",
            )

    replies = [r async for r in stack.minting.MintSmartUrlsStream(requests())]
    assert len({tuple(link.url for link in r.links) for r in replies}) == 1
    assert sum(not r.replayed for r in replies) == 1
    assert await stack.db.fetchval("SELECT count(*) FROM smart_urls") == 2
