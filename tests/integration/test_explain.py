"""ExplainConversion: the whole chain behind an outcome, or the reason it does not count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import uuid_utils

from signing.sources import mint_source
from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2
from tests.integration.test_attribution_rules import (
    BOT_UA,
    DEFAULT_WINDOW,
    ENROLLMENT,
    EXPIRED,
    HOUR,
    LEGACY,
    MISMATCH,
    NO_SOURCE,
    NON_HUMAN,
    REFERRAL,
    UNKNOWN,
    WHATSAPP,
    expect_error,
    from_ts,
    mint_at,
    new_template,
    order,
    share_tap,
    signup,
    smart_url_id,
    source_of,
    whole_second,
)
from tests.support import KEYS, Stack

R = conversions_pb2
ANDROID_UA = "Mozilla/5.0 (Linux; Android 14) Chrome/130 Mobile Safari/537.36"


def request(account_id: int, kind: int, external_id: str) -> Any:
    return dashboard_pb2.ExplainConversionRequest(
        account_id=account_id, kind=kind, external_id=external_id
    )


async def explain(stack: Stack, account_id: int, kind: int, external_id: str) -> Any:
    explained = await stack.dashboard.ExplainConversion(request(account_id, kind, external_id))
    assert explained.summary.strip(), f"{external_id}: empty summary"
    assert explained.conversion.external_id == external_id
    return explained


async def explain_order(stack: Stack, account_id: int, order_id: str) -> Any:
    return await explain(stack, account_id, R.CONVERSION_KIND_ORDER, order_id)


async def click_ids(stack: Stack, kind: str) -> list[uuid.UUID]:
    rows = await stack.db.fetch(
        "SELECT click_id FROM clicks WHERE kind = $1 ORDER BY clicked_at", kind
    )
    return [r[0] for r in rows]


async def test_a_friends_order_is_explained_through_the_share(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ORDERS, [WHATSAPP], name="Spring")
    sent_at = whole_second(datetime.now(UTC) - 2 * HOUR)
    links = await mint_at(stack, a, template.template_id, "m-1", sent_at)

    # A bot fetches the share button first; the advocate then taps it twice.
    await share_tap(stack, links["wa"], user_agent=BOT_UA)
    referral = await share_tap(stack, links["wa"])
    assert await share_tap(stack, links["wa"]) == referral  # one referral link per button
    friend_source = await source_of(stack, referral, user_agent=ANDROID_UA)
    await stack.wait_for_clicks(4)
    recorded = await stack.conversions.RecordOrder(order(a, "A-1001", friend_source, amount=4599))
    assert recorded.attributed

    explained = await explain_order(stack, a, "A-1001")
    assert explained.conversion.attributed and explained.conversion.counted
    assert explained.conversion.unattributed_reason == R.UNATTRIBUTED_REASON_UNSPECIFIED
    assert explained.conversion.amount_minor == 4599

    [friend_click] = await click_ids(stack, "SHARED_REFERRAL")
    click = explained.click
    assert click.stored and click.click_id == friend_click.bytes == recorded.click_id
    assert click.link_kind == common_pb2.LINK_KIND_SHARED_REFERRAL
    assert click.hit_class == "human" and list(click.reasons) == []
    assert click.smart_url_id == smart_url_id(referral)
    assert click.link_name == "wa"  # the share button's name

    bot_tap, first_tap, _ = await click_ids(stack, "SHARE")
    share = explained.share_click
    # The earliest human tap before the friend's click (not the bot's fetch).
    assert share.stored and share.click_id == first_tap.bytes != bot_tap.bytes
    assert share.link_kind == common_pb2.LINK_KIND_SHARE and share.hit_class == "human"
    assert share.smart_url_id == smart_url_id(links["wa"]) and share.link_name == "wa"
    assert from_ts(share.clicked_at) <= from_ts(click.clicked_at)

    assert explained.message_id == "m-1"
    assert from_ts(explained.sent_at) == sent_at
    assert explained.advocate_shortcode == "JANE42"
    assert (explained.template_id, explained.template_name) == (template.template_id, "Spring")
    assert explained.goal_at_occurrence == common_pb2.GOAL_ORDERS
    assert explained.attribution_window_seconds == DEFAULT_WINDOW
    assert from_ts(explained.window_ends_at) == sent_at + timedelta(seconds=DEFAULT_WINDOW)
    assert "'m-1'" in explained.summary and "30-day" in explained.summary


async def test_an_order_through_the_recipients_own_link(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_SIGNUPS, [REFERRAL], window=7200)
    sent_at = whole_second(datetime.now(UTC) - HOUR)
    links = await mint_at(stack, a, template.template_id, "m-own", sent_at)
    source = await source_of(stack, links["ref"])
    await stack.wait_for_clicks(1)
    await stack.conversions.RecordOrder(order(a, "o-1", source))

    explained = await explain_order(stack, a, "o-1")
    assert explained.click.link_kind == common_pb2.LINK_KIND_REFERRAL
    assert explained.click.link_name == "ref" and explained.click.stored
    assert not explained.HasField("share_click")  # no share in this chain
    assert explained.goal_at_occurrence == common_pb2.GOAL_SIGNUPS
    assert explained.attribution_window_seconds == 7200
    assert from_ts(explained.window_ends_at) == sent_at + 2 * HOUR
    assert "2-hour" in explained.summary


async def test_every_reason_is_explained(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ORDERS, [REFERRAL], window=3600)
    sent_at = whole_second(datetime.now(UTC) - 3 * HOUR)
    links = await mint_at(stack, a, template.template_id, "m-1", sent_at)
    source = await source_of(stack, links["ref"])
    bot_source = await source_of(stack, links["ref"], user_agent=BOT_UA)
    await stack.wait_for_clicks(2)
    forged = source[:-2] + ("AA" if source[-2:] != "AA" else "BB")
    late = sent_at + timedelta(seconds=3601)
    requests = {
        "o-none": (order(a, "o-none", ""), NO_SOURCE),
        "o-legacy": (order(a, "o-legacy", "newsletter"), LEGACY),
        "o-forged": (order(a, "o-forged", forged), UNKNOWN),
        "o-mismatch": (order(a, "o-mismatch", source, shortcode="SOMEONE"), MISMATCH),
        "o-bot": (order(a, "o-bot", bot_source), NON_HUMAN),
        "o-late": (order(a, "o-late", source, occurred_at=late), EXPIRED),
    }
    for order_id, (req, reason) in requests.items():
        assert (await stack.conversions.RecordOrder(req)).unattributed_reason == reason, order_id

    summaries = {}
    for order_id, (_, reason) in requests.items():
        explained = await explain_order(stack, a, order_id)
        assert explained.conversion.unattributed_reason == reason, order_id
        assert not explained.conversion.attributed and not explained.conversion.counted
        summaries[order_id] = explained.summary
        if order_id in ("o-none", "o-legacy", "o-forged"):
            # No chain: nothing names a message, a click or a window.
            assert explained.message_id == "" and explained.template_id == 0, order_id
            assert not explained.HasField("click"), order_id
            assert not explained.HasField("window_ends_at"), order_id
        else:
            assert explained.message_id == "m-1", order_id
            assert explained.template_id == template.template_id
            assert explained.advocate_shortcode == "JANE42"
            assert explained.click.stored, order_id
            assert explained.attribution_window_seconds == 3600
            assert from_ts(explained.window_ends_at) == sent_at + HOUR
    assert len(set(summaries.values())) == len(summaries)  # each reason its own sentence
    assert "mbsy_source" in summaries["o-none"]
    assert "before" in summaries["o-legacy"]
    assert "not minted for this account" in summaries["o-forged"]
    assert "shortcode" in summaries["o-mismatch"] and "'m-1'" in summaries["o-mismatch"]
    assert "bot" in summaries["o-bot"]
    assert "1-hour" in summaries["o-late"]
    assert (sent_at + HOUR).isoformat() in summaries["o-late"]

    bot = await explain_order(stack, a, "o-bot")
    assert bot.click.hit_class == "bot" and bot.click.click_id
    mismatch = await explain_order(stack, a, "o-mismatch")
    assert mismatch.click.hit_class == "human"


async def test_cancelled_refunded_and_pending_orders_are_explained(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ORDERS, [REFERRAL])
    links = await stack.mint(a, template.template_id, "m-1")
    source = await source_of(stack, links["ref"])
    for order_id in ("o-cancelled", "o-refunded", "o-partly"):
        await stack.conversions.RecordOrder(order(a, order_id, source))
    await stack.conversions.CancelOrder(R.CancelOrderRequest(account_id=a, order_id="o-cancelled"))
    await stack.conversions.RefundOrder(
        R.RefundOrderRequest(account_id=a, order_id="o-refunded", refund_id="r-1")
    )
    await stack.conversions.RefundOrder(
        R.RefundOrderRequest(account_id=a, order_id="o-partly", refund_id="r-1", amount_minor=5)
    )
    cancelled = await explain_order(stack, a, "o-cancelled")
    assert cancelled.conversion.attributed and not cancelled.conversion.counted
    assert cancelled.summary == "Attributed to message 'm-1', but cancelled."
    refunded = await explain_order(stack, a, "o-refunded")
    assert refunded.summary == "Attributed to message 'm-1', but fully refunded."
    assert refunded.conversion.refunded_minor == 2500
    partly = await explain_order(stack, a, "o-partly")
    assert partly.conversion.counted and partly.summary.startswith("Counts for message 'm-1'")

    # The click of an order that arrived first is named but not stored yet.
    click_id = uuid_utils.uuid7().bytes
    pending = mint_source(KEYS, smart_url_id(links["ref"]), click_id)
    await stack.conversions.RecordOrder(order(a, "o-pending", pending))
    explained = await explain_order(stack, a, "o-pending")
    assert explained.conversion.attributed and explained.message_id == "m-1"
    assert explained.click.click_id == click_id and not explained.click.stored
    assert not explained.click.HasField("clicked_at")


async def test_signups_and_shares_are_explained(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ADVOCATE_SHARE, [WHATSAPP, ENROLLMENT])
    now = datetime.now(UTC)
    fresh = await mint_at(stack, a, template.template_id, "m-new", whole_second(now - HOUR))
    old = await mint_at(stack, a, template.template_id, "m-old", whole_second(now - 31 * 24 * HOUR))
    joined = await source_of(stack, fresh["join"])
    await share_tap(stack, old["wa"])  # the share button of the old message: past its window
    await stack.wait_for_clicks(2)
    await stack.conversions.RecordSignup(signup(a, "su-1", joined, customer_id="c-1"))

    explained = await explain(stack, a, R.CONVERSION_KIND_SIGNUP, "su-1")
    assert explained.conversion.kind == R.CONVERSION_KIND_SIGNUP
    assert explained.conversion.customer_id == "c-1"
    assert explained.message_id == "m-new" and explained.click.link_name == "join"
    assert explained.goal_at_occurrence == common_pb2.GOAL_ADVOCATE_SHARE

    # A share's external id is its click id as text.
    [share_id] = await stack.db.fetch(
        "SELECT external_id, click_id FROM conversions WHERE kind = 'SHARE'"
    )
    assert share_id["external_id"] == str(share_id["click_id"])
    share = await explain(stack, a, R.CONVERSION_KIND_SHARE, share_id["external_id"])
    assert share.conversion.kind == R.CONVERSION_KIND_SHARE
    assert share.conversion.unattributed_reason == EXPIRED
    assert share.click.click_id == share_id["click_id"].bytes
    assert share.click.link_kind == common_pb2.LINK_KIND_SHARE and share.click.stored
    assert not share.HasField("share_click")
    assert share.message_id == "m-old"
    assert "window" in share.summary and "'m-old'" in share.summary


async def test_bad_explain_requests(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ORDERS, [REFERRAL])
    links = await stack.mint(a, template.template_id, "m-1")
    await stack.conversions.RecordOrder(order(a, "o-1", await source_of(stack, links["ref"])))
    explain_ = stack.dashboard.ExplainConversion

    await expect_error(
        explain_(request(a, R.CONVERSION_KIND_ORDER, "o-2")),
        grpc.StatusCode.NOT_FOUND,
        "external_id",
    )
    # The kind is part of the key: o-1 is no signup.
    await expect_error(
        explain_(request(a, R.CONVERSION_KIND_SIGNUP, "o-1")),
        grpc.StatusCode.NOT_FOUND,
        "external_id",
    )
    await expect_error(
        explain_(request(a, R.CONVERSION_KIND_UNSPECIFIED, "o-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "kind",
    )
    await expect_error(
        explain_(request(a, R.CONVERSION_KIND_ORDER, "")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "external_id",
    )
    await expect_error(
        explain_(request(a + 1000, R.CONVERSION_KIND_ORDER, "o-1")),
        grpc.StatusCode.NOT_FOUND,
        "account_id",
    )
    # Another account cannot read this one's orders.
    other = await stack.account(domain="share.other.example")
    await expect_error(
        explain_(request(other.account_id, R.CONVERSION_KIND_ORDER, "o-1")),
        grpc.StatusCode.NOT_FOUND,
        "external_id",
    )
