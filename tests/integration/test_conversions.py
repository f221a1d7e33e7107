"""Signups and orders: recorded always, attributed when they can be, counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2, templates_pb2
from tests.support import Stack, running_stack

REFERRAL = [
    templates_pb2.TemplateLink(
        name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
    )
]
NO_SOURCE = conversions_pb2.UNATTRIBUTED_REASON_NO_SOURCE
UNKNOWN = conversions_pb2.UNATTRIBUTED_REASON_UNKNOWN_SOURCE
MISMATCH = conversions_pb2.UNATTRIBUTED_REASON_SHORTCODE_MISMATCH
LEGACY = conversions_pb2.UNATTRIBUTED_REASON_SENT_BEFORE_SMART_URLS


async def source_of(stack: Stack, url: str) -> str:
    location = (await stack.click(url)).headers["location"]
    return parse_qs(urlsplit(location).query)["mbsy_source"][0]


def order(
    account_id: int, order_id: str, source: str, shortcode: str = "JANE42", amount: int = 2500
) -> conversions_pb2.RecordOrderRequest:
    return conversions_pb2.RecordOrderRequest(
        account_id=account_id,
        order_id=order_id,
        mbsy_source=source,
        shortcode=shortcode,
        amount_minor=amount,
        currency="USD",
    )


async def orders_template(stack: Stack) -> tuple[int, int]:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, REFERRAL)
    return account.account_id, template.template_id


async def test_order_before_the_click_reaches_postgres_is_attributed(dsn: str) -> None:
    # An edge that holds clicks for an hour: the order certainly arrives first.
    async with running_stack(dsn, flush_interval=3600.0) as stack:
        account_id, template_id = await orders_template(stack)
        links = await stack.mint(account_id, template_id, "fast-merchant")
        source = await source_of(stack, links["ref"])
        recorded = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
        assert await stack.stored_clicks() == 0
        assert recorded.attributed and recorded.message_id == "fast-merchant"
        click_id = recorded.click_id
        perf = await stack.performance(account_id, template_id)
        assert (perf.orders, perf.conversions) == (1, 1)
        await stack.edges[0].stop()  # shutting down flushes the buffer
        stack.edges.clear()
        stored = await stack.db.fetchval("SELECT click_id FROM clicks")
        assert stored.bytes == click_id


async def test_order_retry_is_recorded_once(stack: Stack) -> None:
    account_id, template_id = await orders_template(stack)
    links = await stack.mint(account_id, template_id, "m")
    source = await source_of(stack, links["ref"])
    first = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    again = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    assert not first.replayed and again.replayed
    assert again.conversion_id == first.conversion_id
    perf = await stack.performance(account_id, template_id)
    assert perf.orders == 1
    assert [(r.currency, r.amount_minor) for r in perf.revenue] == [("USD", 2500)]

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.conversions.RecordOrder(order(account_id, "o-1", source, amount=9999))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert caught.value.details().startswith("order_id:")


async def test_order_from_a_message_sent_before_smart_urls_is_kept_unattributed(
    stack: Stack,
) -> None:
    account_id, template_id = await orders_template(stack)
    await stack.mint(account_id, template_id, "later-message")
    # The old message's link carried only the shortcode: no mbsy_source.
    recorded = await stack.conversions.RecordOrder(order(account_id, "old-1", source=""))
    assert not recorded.attributed
    assert recorded.unattributed_reason == NO_SOURCE
    assert recorded.message_id == "" and recorded.amount_minor == 2500
    assert await stack.db.fetchval("SELECT count(*) FROM conversions") == 1
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.conversions, perf.messages_sent) == (0, 0, 1)


async def test_forged_foreign_and_mismatched_sources_are_not_attributed(stack: Stack) -> None:
    account_id, template_id = await orders_template(stack)
    links = await stack.mint(account_id, template_id, "m")
    source = await source_of(stack, links["ref"])
    other = await stack.account(domain="share.other.example")

    forged = source[:-1] + ("x" if source[-1] != "x" else "y")
    cases = [
        (order(account_id, "o-forged", forged), UNKNOWN),
        (order(account_id, "o-legacy", "not-a-source"), LEGACY),
        (order(account_id, "o-mangled", "!" + source[1:]), LEGACY),
        (order(other.account_id, "o-foreign", source), UNKNOWN),
        (order(account_id, "o-mismatch", source, shortcode="SOMEONE"), MISMATCH),
    ]
    for request, reason in cases:
        recorded = await stack.conversions.RecordOrder(request)
        assert (recorded.attributed, recorded.unattributed_reason) == (False, reason)
    perf = await stack.performance(account_id, template_id)
    assert perf.orders == 0


@pytest.mark.parametrize(
    ("request_", "field", "code"),
    [
        # The merchant's key is bound to its account: a request naming none is
        # another account's.
        (
            conversions_pb2.RecordOrderRequest(order_id="o", currency="USD"),
            "account_id",
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            conversions_pb2.RecordOrderRequest(account_id=1, currency="USD"),
            "order_id",
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            conversions_pb2.RecordOrderRequest(account_id=1, order_id="o", currency="usd"),
            "currency",
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            conversions_pb2.RecordOrderRequest(
                account_id=1, order_id="o", currency="USD", amount_minor=-1
            ),
            "amount_minor",
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ],
)
async def test_bad_orders_name_the_field(
    stack: Stack,
    request_: conversions_pb2.RecordOrderRequest,
    field: str,
    code: grpc.StatusCode,
) -> None:
    account = await stack.account()
    key = await stack.keys.key("merchant", account.account_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.conversions.RecordOrder(
            request_, metadata=(("authorization", f"Bearer {key}"),)
        )
    assert caught.value.code() == code
    assert caught.value.details().startswith(field + ":")


async def test_dashboard_lists_one_channel_and_honours_the_range(stack: Stack) -> None:
    account = await stack.account()
    email = await stack.template(
        account.account_id,
        common_pb2.GOAL_ORDERS,
        REFERRAL,
        channel=common_pb2.CHANNEL_EMAIL,
        name="email",
    )
    sms = await stack.template(
        account.account_id,
        common_pb2.GOAL_ORDERS,
        REFERRAL,
        channel=common_pb2.CHANNEL_SMS,
        name="sms",
    )
    await stack.mint(account.account_id, email.template_id, "e-1")
    await stack.mint(account.account_id, sms.template_id, "s-1")
    await stack.mint(account.account_id, sms.template_id, "s-2")

    def request(
        channel: int, since: datetime, until: datetime
    ) -> dashboard_pb2.ListTemplatePerformanceRequest:
        start, end = Timestamp(), Timestamp()
        start.FromDatetime(since)
        end.FromDatetime(until)
        return dashboard_pb2.ListTemplatePerformanceRequest(
            account_id=account.account_id,
            channel=channel,
            range=dashboard_pb2.TimeRange(**{"from": start, "to": end}),
        )

    now = datetime.now(UTC)
    listed = await stack.dashboard.ListTemplatePerformance(
        request(common_pb2.CHANNEL_SMS, now - timedelta(hours=2), now + timedelta(hours=1))
    )
    assert [(t.name, t.messages_sent) for t in listed.templates] == [("sms", 2)]
    both = await stack.dashboard.ListTemplatePerformance(
        request(common_pb2.CHANNEL_UNSPECIFIED, now - timedelta(hours=2), now + timedelta(hours=1))
    )
    assert [(t.name, t.messages_sent) for t in both.templates] == [("email", 1), ("sms", 2)]
    earlier = await stack.dashboard.ListTemplatePerformance(
        request(common_pb2.CHANNEL_UNSPECIFIED, now - timedelta(days=2), now - timedelta(days=1))
    )
    assert [t.messages_sent for t in earlier.templates] == [0, 0]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.dashboard.ListTemplatePerformance(
            request(common_pb2.CHANNEL_UNSPECIFIED, now, now - timedelta(days=1))
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("range.from:")
