"""A caller's mistake is INVALID_ARGUMENT naming the field, never INTERNAL, and in a
minting stream it fails that one message only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from control.domain.minting import mint_messages
from control.domain.model import MintRequest
from smarturls.v1 import (
    accounts_pb2,
    common_pb2,
    conversions_pb2,
    dashboard_pb2,
    minting_pb2,
    templates_pb2,
)
from tests.support import KEYS, Stack

LINK = templates_pb2.TemplateLink(
    name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
)
YEAR_10000 = Timestamp(seconds=253402300800)


async def ids(stack: Stack) -> tuple[int, int]:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, [LINK])
    return account.account_id, template.template_id


def calls(account_id: int, template_id: int) -> list[tuple[str, str, Any]]:
    """(field named in the error, method, request)."""
    mint = dict(account_id=account_id, template_id=template_id, advocate_shortcode="JO")
    order = dict(account_id=account_id, order_id="o-1", currency="USD", shortcode="JO")
    return [
        ("name", "CreateAccount", accounts_pb2.CreateAccountRequest(name="Acme\x00")),
        (
            "links[0].destination_url",
            "CreateTemplate",
            templates_pb2.CreateTemplateRequest(
                account_id=account_id,
                name="t",
                channel=common_pb2.CHANNEL_EMAIL,
                links=[
                    templates_pb2.TemplateLink(
                        name="x",
                        kind=common_pb2.LINK_KIND_TRACKED,
                        destination_url="https://shop.example/\x00",
                    )
                ],
            ),
        ),
        (
            "links[0].share_text",
            "CreateTemplate",
            templates_pb2.CreateTemplateRequest(
                account_id=account_id,
                name="t",
                channel=common_pb2.CHANNEL_EMAIL,
                links=[
                    templates_pb2.TemplateLink(
                        name="x",
                        kind=common_pb2.LINK_KIND_SHARE,
                        network=common_pb2.SHARE_NETWORK_X,
                        destination_url="https://shop.example/",
                        share_text="hi\x00",
                    )
                ],
            ),
        ),
        (
            "channel",
            "CreateTemplate",
            templates_pb2.CreateTemplateRequest(
                account_id=account_id, name="t", channel=99, links=[LINK]
            ),
        ),
        (
            "message_id",
            "MintSmartUrls",
            minting_pb2.MintSmartUrlsRequest(message_id="m\x00", **mint),
        ),
        (
            "advocate_shortcode",
            "MintSmartUrls",
            minting_pb2.MintSmartUrlsRequest(
                **{**mint, "advocate_shortcode": "JO\x00"}, message_id="m"
            ),
        ),
        (
            "sent_at",
            "MintSmartUrls",
            minting_pb2.MintSmartUrlsRequest(message_id="m", sent_at=YEAR_10000, **mint),
        ),
        (
            "order_id",
            "RecordOrder",
            conversions_pb2.RecordOrderRequest(**{**order, "order_id": "o\x00"}),
        ),
        (
            "mbsy_source",
            "RecordOrder",
            conversions_pb2.RecordOrderRequest(mbsy_source="x" * 100_000, **order),
        ),
        (
            "amount_minor",
            "RecordOrder",
            conversions_pb2.RecordOrderRequest(amount_minor=2**62, **order),
        ),
        (
            "occurred_at",
            "RecordSignup",
            conversions_pb2.RecordSignupRequest(
                account_id=account_id, signup_id="s", occurred_at=Timestamp(seconds=0, nanos=-5)
            ),
        ),
        (
            "range.from",
            "ListTemplatePerformance",
            dashboard_pb2.ListTemplatePerformanceRequest(
                account_id=account_id, range=dashboard_pb2.TimeRange(**{"from": YEAR_10000})
            ),
        ),
        (
            "range.to",
            "ListTemplatePerformance",
            dashboard_pb2.ListTemplatePerformanceRequest(
                account_id=account_id, range=dashboard_pb2.TimeRange(to=Timestamp(seconds=86400))
            ),
        ),
    ]


async def test_bad_fields_are_invalid_argument_naming_the_field(stack: Stack) -> None:
    account_id, template_id = await ids(stack)
    stubs = [stack.accounts, stack.templates, stack.minting, stack.conversions, stack.dashboard]
    for field, method, request in calls(account_id, template_id):
        stub = next(s for s in stubs if hasattr(s, method))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await getattr(stub, method)(request)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, field)
        assert caught.value.details().startswith(field + ":"), caught.value.details()


async def test_a_bad_message_in_a_stream_fails_alone(stack: Stack) -> None:
    account_id, template_id = await ids(stack)
    bad = {3: dict(message_id="m\x00"), 6: dict(sent_at=YEAR_10000)}

    async def requests() -> AsyncIterator[minting_pb2.MintSmartUrlsRequest]:
        for i in range(10):
            fields: dict[str, Any] = dict(message_id=f"m-{i}")
            fields.update(bad.get(i, {}))
            yield minting_pb2.MintSmartUrlsRequest(
                account_id=account_id, template_id=template_id, advocate_shortcode="JO", **fields
            )

    replies = [r async for r in stack.minting.MintSmartUrlsStream(requests())]
    assert len(replies) == 10
    failed = {
        i: r.error.message.split(":")[0] for i, r in enumerate(replies) if r.HasField("error")
    }
    assert failed == {3: "message_id", 6: "sent_at"}
    assert await stack.db.fetchval("SELECT count(*) FROM messages") == 8


async def test_overlapping_batches_in_opposite_orders_do_not_deadlock(stack: Stack) -> None:
    account_id, template_id = await ids(stack)
    batch = [MintRequest(account_id, template_id, f"m-{i}", "JO", None) for i in range(500)]
    for _ in range(3):
        forward, backward = await asyncio.gather(
            mint_messages(stack.db, KEYS, batch), mint_messages(stack.db, KEYS, batch[::-1])
        )
        assert [r.links for r in forward] == [r.links for r in backward[::-1]]  # type: ignore[union-attr]
        batch = [
            MintRequest(account_id, template_id, r.message_id + "x", "JO", None) for r in batch
        ]
    assert await stack.db.fetchval("SELECT count(*) FROM messages") == 1500


async def test_repeats_within_one_batch_are_minted_once(stack: Stack) -> None:
    account_id, template_id = await ids(stack)
    request = MintRequest(account_id, template_id, "dup", "JO", None)
    results = await mint_messages(stack.db, KEYS, [request, request, request])
    assert [r.replayed for r in results] == [False, True, True]  # type: ignore[union-attr]
    assert len({r.links for r in results}) == 1  # type: ignore[union-attr]
    assert await stack.db.fetchval("SELECT count(*) FROM smart_urls") == 1


async def test_a_retry_after_the_switch_went_off_still_gets_its_urls(stack: Stack) -> None:
    account_id, template_id = await ids(stack)
    first = await stack.mint(account_id, template_id, "m-1", shortcode="JO")
    await stack.accounts.SetSmartUrlsEnabled(
        accounts_pb2.SetSmartUrlsEnabledRequest(account_id=account_id, enabled=False)
    )
    assert await stack.mint(account_id, template_id, "m-1", shortcode="JO") == first
