"""The attribution rules through the real stack: windows (inclusive edges), per-person
dedupe, non-human clicks (also when the click lands after the order), unattributable
sources, cancellations and refunds, and the goal history on the dashboard.

The helpers at the top are shared with test_explain.py and test_rollups.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest
import uuid_utils
from google.protobuf.timestamp_pb2 import Timestamp

import control.domain.conversions as conversions_module
from control.domain.attribution import Evidence, gather
from control.domain.click_ingest import ingest_clicks
from control.domain.dashboard import floor_to
from signing.sources import mint_source
from signing.tokens import verify_token
from smarturls.v1 import (
    common_pb2,
    conversions_pb2,
    dashboard_pb2,
    edge_pb2,
    edge_pb2_grpc,
    minting_pb2,
    templates_pb2,
)
from tests.support import KEYS, Stack

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
DEFAULT_WINDOW = 30 * 86400
HUMAN_UA = "Mozilla/5.0 (iPhone) Safari/604.1"
BOT_UA = "curl/8.5.0"
SCANNER_UA = "Mimecast URL Protect/1.0"

SHOP = "https://shop.example/welcome"
REFERRAL = templates_pb2.TemplateLink(
    name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url=SHOP
)
ENROLLMENT = templates_pb2.TemplateLink(
    name="join", kind=common_pb2.LINK_KIND_ENROLLMENT, destination_url="https://acme.example/join"
)
WHATSAPP = templates_pb2.TemplateLink(
    name="wa",
    kind=common_pb2.LINK_KIND_SHARE,
    network=common_pb2.SHARE_NETWORK_WHATSAPP,
    destination_url=SHOP,
    share_text="20% off:",
)
TRACKED = templates_pb2.TemplateLink(
    name="blog", kind=common_pb2.LINK_KIND_TRACKED, destination_url="https://acme.example/blog"
)

R = conversions_pb2
NO_SOURCE = R.UNATTRIBUTED_REASON_NO_SOURCE
LEGACY = R.UNATTRIBUTED_REASON_SENT_BEFORE_SMART_URLS
UNKNOWN = R.UNATTRIBUTED_REASON_UNKNOWN_SOURCE
MISMATCH = R.UNATTRIBUTED_REASON_SHORTCODE_MISMATCH
NON_HUMAN = R.UNATTRIBUTED_REASON_NON_HUMAN_CLICK
EXPIRED = R.UNATTRIBUTED_REASON_WINDOW_EXPIRED


# Shared helpers ------------------------------------------------------------------------


def ts(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def from_ts(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def time_range(since: datetime, until: datetime) -> Any:
    return dashboard_pb2.TimeRange(**{"from": ts(since), "to": ts(until)})


async def rpc_error(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


async def expect_error(call: Awaitable[object], code: grpc.StatusCode, field: str) -> None:
    error = await rpc_error(call)
    assert error.code() == code, error.details()
    assert (error.details() or "").startswith(field + ":"), error.details()


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def source_of(stack: Stack, url: str, user_agent: str = HUMAN_UA) -> str:
    """A click on a referral, enrollment or shared link: the mbsy_source it carried."""
    response = await stack.click(url, user_agent=user_agent)
    assert response.status_code == 302, response.status_code
    return query(response.headers["location"])["mbsy_source"]


async def share_tap(stack: Stack, url: str, user_agent: str = HUMAN_UA) -> str:
    """Taps a WhatsApp share button: returns the referral URL it shares."""
    response = await stack.click(url, user_agent=user_agent)
    assert response.status_code == 302, response.status_code
    return query(response.headers["location"])["text"].split(" ")[-1]


def smart_url_id(url: str) -> int:
    link_id = verify_token(KEYS, urlsplit(url).path[1:])
    assert link_id is not None
    return link_id


async def new_template(
    stack: Stack,
    account_id: int,
    goal: int,
    links: list[Any],
    *,
    window: int = 0,
    channel: int = common_pb2.CHANNEL_EMAIL,
    name: str = "t",
) -> Any:
    return await stack.templates.CreateTemplate(
        templates_pb2.CreateTemplateRequest(
            account_id=account_id,
            name=name,
            channel=channel,
            goal=goal,
            links=links,
            attribution_window_seconds=window,
        )
    )


async def mint_at(
    stack: Stack,
    account_id: int,
    template_id: int,
    message_id: str,
    sent_at: datetime,
    shortcode: str = "JANE42",
) -> dict[str, str]:
    """Mints with an exact sent_at (so window edges can be computed to the second)."""
    reply = await stack.minting.MintSmartUrls(
        minting_pb2.MintSmartUrlsRequest(
            account_id=account_id,
            template_id=template_id,
            message_id=message_id,
            advocate_shortcode=shortcode,
            sent_at=ts(sent_at),
        )
    )
    return {link.name: link.url for link in reply.links}


def order(
    account_id: int,
    order_id: str,
    source: str,
    *,
    amount: int = 2500,
    shortcode: str = "JANE42",
    occurred_at: datetime | None = None,
    customer_id: str = "",
    currency: str = "USD",
) -> Any:
    request = conversions_pb2.RecordOrderRequest(
        account_id=account_id,
        order_id=order_id,
        mbsy_source=source,
        shortcode=shortcode,
        amount_minor=amount,
        currency=currency,
        customer_id=customer_id,
    )
    if occurred_at is not None:
        request.occurred_at.CopyFrom(ts(occurred_at))
    return request


def signup(
    account_id: int,
    signup_id: str,
    source: str,
    *,
    customer_id: str = "",
    occurred_at: datetime | None = None,
) -> Any:
    request = conversions_pb2.RecordSignupRequest(
        account_id=account_id, signup_id=signup_id, mbsy_source=source, customer_id=customer_id
    )
    if occurred_at is not None:
        request.occurred_at.CopyFrom(ts(occurred_at))
    return request


async def performance(
    stack: Stack, account_id: int, template_id: int, since: datetime, until: datetime
) -> Any:
    return await stack.dashboard.GetTemplatePerformance(
        dashboard_pb2.GetTemplatePerformanceRequest(
            account_id=account_id, template_id=template_id, range=time_range(since, until)
        )
    )


def revenue(perf: Any) -> dict[str, int]:
    return {r.currency: r.amount_minor for r in perf.revenue}


def click_row(
    click_id: bytes, link_id: int, clicked_at: datetime, hit_class: str
) -> tuple[bytes, int, int, str, str, str, str, str, str]:
    """One click as ingest_clicks takes it (control.domain.model.ClickRow)."""
    micros = int(clicked_at.timestamp() * 1_000_000)
    return (click_id, link_id, micros, "GET", BOT_UA, "", "", hit_class, "")


async def send_batch(stack: Stack, clicks: list[Any], batch_seq: int = 1) -> Any:
    """One ClickBatch (row form) through the control plane's IngestClicks: its ack."""
    stub = edge_pb2_grpc.EdgeServiceStub(stack.channel)

    async def one() -> AsyncIterator[Any]:
        yield edge_pb2.ClickBatch(batch_seq=batch_seq, clicks=clicks)

    [ack] = [ack async for ack in stub.IngestClicks(one())]
    return ack


def edge_click(
    click_id: bytes,
    link_id: int,
    clicked_at: datetime,
    hit_class: str = "human",
    user_agent: str = HUMAN_UA,
) -> Any:
    return edge_pb2.Click(
        click_id=click_id,
        smart_url_id=link_id,
        clicked_at=ts(clicked_at),
        method="GET",
        user_agent=user_agent,
        hit_class=hit_class,
    )


async def orders_setup(
    stack: Stack, window: int = 0, sent_at: datetime | None = None
) -> tuple[int, int, dict[str, str]]:
    account = await stack.account()
    template = await new_template(
        stack, account.account_id, common_pb2.GOAL_ORDERS, [REFERRAL], window=window
    )
    links = await mint_at(
        stack,
        account.account_id,
        template.template_id,
        "m-1",
        sent_at or whole_second(datetime.now(UTC) - HOUR),
    )
    return account.account_id, template.template_id, links


def wide_range() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=60), now + 2 * HOUR


# Windows -------------------------------------------------------------------------------


async def test_order_window_edges_with_a_one_hour_window(stack: Stack) -> None:
    sent_at = whole_second(datetime.now(UTC) - 3 * HOUR)
    account_id, template_id, links = await orders_setup(stack, window=3600, sent_at=sent_at)
    template = await stack.templates.GetTemplate(
        templates_pb2.GetTemplateRequest(account_id=account_id, template_id=template_id)
    )
    assert template.attribution_window_seconds == 3600
    source = await source_of(stack, links["ref"])
    end = sent_at + timedelta(seconds=3600)

    inside = await stack.conversions.RecordOrder(
        order(account_id, "o-in", source, occurred_at=end - timedelta(seconds=1))
    )
    edge = await stack.conversions.RecordOrder(
        order(account_id, "o-edge", source, occurred_at=end, amount=100)
    )
    outside = await stack.conversions.RecordOrder(
        order(account_id, "o-out", source, occurred_at=end + timedelta(seconds=1), amount=7)
    )
    assert (inside.attributed, inside.counted, inside.message_id) == (True, True, "m-1")
    assert (edge.attributed, edge.counted) == (True, True)  # sent_at + window still counts
    assert (outside.attributed, outside.counted) == (False, False)
    assert outside.unattributed_reason == EXPIRED

    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.conversions) == (2, 2)
    assert revenue(perf) == {"USD": 2600}


async def test_order_window_edges_with_the_default_window(stack: Stack) -> None:
    sent_at = whole_second(datetime.now(UTC) - timedelta(days=31))
    account_id, template_id, links = await orders_setup(stack, sent_at=sent_at)
    template = await stack.templates.GetTemplate(
        templates_pb2.GetTemplateRequest(account_id=account_id, template_id=template_id)
    )
    assert template.attribution_window_seconds == DEFAULT_WINDOW
    source = await source_of(stack, links["ref"])
    end = sent_at + timedelta(seconds=DEFAULT_WINDOW)

    inside = await stack.conversions.RecordOrder(
        order(account_id, "o-in", source, occurred_at=end - timedelta(seconds=1))
    )
    outside = await stack.conversions.RecordOrder(
        order(account_id, "o-out", source, occurred_at=end + timedelta(seconds=1))
    )
    assert inside.attributed and inside.counted
    assert (outside.attributed, outside.unattributed_reason) == (False, EXPIRED)
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers) == (1, 1)
    assert revenue(perf) == {"USD": 2500}


async def test_attribution_window_bounds(stack: Stack) -> None:
    account = await stack.account()
    template = await new_template(stack, account.account_id, common_pb2.GOAL_ORDERS, [REFERRAL])

    def set_window(seconds: int) -> Any:
        return stack.templates.SetAttributionWindow(
            templates_pb2.SetAttributionWindowRequest(
                account_id=account.account_id,
                template_id=template.template_id,
                attribution_window_seconds=seconds,
            )
        )

    for bad in (0, 3599, 7776001, -3600):
        await expect_error(
            set_window(bad), grpc.StatusCode.INVALID_ARGUMENT, "attribution_window_seconds"
        )
    for bad in (3599, 7776001):
        await expect_error(
            new_template(stack, account.account_id, common_pb2.GOAL_ORDERS, [REFERRAL], window=bad),
            grpc.StatusCode.INVALID_ARGUMENT,
            "attribution_window_seconds",
        )
    for good in (3600, 7776000):
        assert (await set_window(good)).attribution_window_seconds == good
        stored = await stack.templates.GetTemplate(
            templates_pb2.GetTemplateRequest(
                account_id=account.account_id, template_id=template.template_id
            )
        )
        assert stored.attribution_window_seconds == good
    # The refused values changed nothing.
    assert (await set_window(3600)).attribution_window_seconds == 3600
    created = await new_template(
        stack, account.account_id, common_pb2.GOAL_ORDERS, [REFERRAL], window=7776000
    )
    assert created.attribution_window_seconds == 7776000


async def test_a_new_window_applies_to_outcomes_recorded_afterwards_only(stack: Stack) -> None:
    sent_at = whole_second(datetime.now(UTC) - 3 * HOUR)
    account_id, template_id, links = await orders_setup(stack, window=3600, sent_at=sent_at)
    source = await source_of(stack, links["ref"])
    two_hours_later = sent_at + 2 * HOUR

    before = await stack.conversions.RecordOrder(
        order(account_id, "o-before", source, occurred_at=two_hours_later)
    )
    assert before.unattributed_reason == EXPIRED

    widened = await stack.templates.SetAttributionWindow(
        templates_pb2.SetAttributionWindowRequest(
            account_id=account_id, template_id=template_id, attribution_window_seconds=7776000
        )
    )
    assert widened.attribution_window_seconds == 7776000
    replay = await stack.conversions.RecordOrder(
        order(account_id, "o-before", source, occurred_at=two_hours_later)
    )
    assert replay.replayed and replay.unattributed_reason == EXPIRED  # judged once, kept
    after = await stack.conversions.RecordOrder(
        order(account_id, "o-after", source, occurred_at=two_hours_later, amount=900)
    )
    assert after.attributed and after.counted

    # Narrowing again does not take back what was judged under the wide window.
    await stack.templates.SetAttributionWindow(
        templates_pb2.SetAttributionWindowRequest(
            account_id=account_id, template_id=template_id, attribution_window_seconds=3600
        )
    )
    replay = await stack.conversions.RecordOrder(
        order(account_id, "o-after", source, occurred_at=two_hours_later, amount=900)
    )
    assert replay.replayed and replay.attributed
    late = await stack.conversions.RecordOrder(
        order(account_id, "o-late", source, occurred_at=two_hours_later, amount=5)
    )
    assert late.unattributed_reason == EXPIRED
    perf = await stack.performance(account_id, template_id)
    assert perf.orders == 1 and revenue(perf) == {"USD": 900}

    windows = {}
    for order_id in ("o-before", "o-after", "o-late"):
        explained = await stack.dashboard.ExplainConversion(
            dashboard_pb2.ExplainConversionRequest(
                account_id=account_id, kind=R.CONVERSION_KIND_ORDER, external_id=order_id
            )
        )
        windows[order_id] = explained.attribution_window_seconds
    assert windows == {"o-before": 3600, "o-after": 7776000, "o-late": 3600}


async def test_a_share_tap_after_the_window_is_recorded_but_not_counted(stack: Stack) -> None:
    account = await stack.account()
    template = await new_template(
        stack, account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, [WHATSAPP]
    )
    now = datetime.now(UTC)
    old = await mint_at(stack, account.account_id, template.template_id, "old", now - 31 * DAY)
    fresh = await mint_at(stack, account.account_id, template.template_id, "new", now - 29 * DAY)
    await share_tap(stack, old["wa"])
    await share_tap(stack, fresh["wa"])
    await stack.wait_for_clicks(2)

    rows = await stack.db.fetch(
        "SELECT m.external_message_id, c.kind, c.unattributed_reason FROM conversions c"
        " JOIN messages m USING (account_id, message_id) ORDER BY 1"
    )
    assert [tuple(r) for r in rows] == [("new", "SHARE", None), ("old", "SHARE", "WINDOW_EXPIRED")]
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.unique_clickers) == (2, 2)  # the taps are clicks all the same
    assert (perf.shares, perf.unique_sharers, perf.conversions) == (1, 1, 1)


# Once per person per message -----------------------------------------------------------


async def test_people_count_once_per_message_and_the_goal_picks_the_metric(
    stack: Stack,
) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(
        stack, a, common_pb2.GOAL_ADVOCATE_SHARE, [WHATSAPP, ENROLLMENT, REFERRAL]
    )
    t = template.template_id
    # One message per kind of outcome: two links of one message clicked within
    # seconds would be a scanner's burst.
    sharer = await stack.mint(a, t, "m-share")
    sharer_2 = await stack.mint(a, t, "m-share-2")
    joiner = await stack.mint(a, t, "m-signup")
    buyer = await stack.mint(a, t, "m-order")

    for _ in range(3):
        await share_tap(stack, sharer["wa"])
    await share_tap(stack, sharer_2["wa"])

    s1 = await source_of(stack, joiner["join"])
    s2 = await source_of(stack, joiner["join"])
    signups = [
        signup(a, "su-1", s1, customer_id="c-1"),
        signup(a, "su-2", s2, customer_id="c-1"),  # the same person again
        signup(a, "su-3", s1, customer_id="c-2"),  # another person, same click
        signup(a, "su-4", s2),  # no customer id: the click is the person...
        signup(a, "su-5", s2),  # ...so this one is the same person
    ]
    for request in signups:
        assert (await stack.conversions.RecordSignup(request)).counted

    r1 = await source_of(stack, buyer["ref"])
    r2 = await source_of(stack, buyer["ref"])
    orders = [
        order(a, "o-1", r1, amount=1000, customer_id="b-1"),
        order(a, "o-2", r2, amount=2000, customer_id="b-1"),
        order(a, "o-3", r1, amount=3000, customer_id="b-2"),
        order(a, "o-4", r2, amount=500),
    ]
    for request in orders:
        assert (await stack.conversions.RecordOrder(request)).counted
    await stack.wait_for_clicks(8)

    perf = await stack.performance(a, t)
    assert (perf.messages_sent, perf.clicks, perf.unique_clickers) == (4, 8, 4)
    assert (perf.shares, perf.unique_sharers) == (4, 2)
    assert (perf.signups, perf.unique_signups) == (5, 3)
    assert (perf.orders, perf.unique_buyers) == (4, 3)
    assert revenue(perf) == {"USD": 6500}

    expected = {
        common_pb2.GOAL_ADVOCATE_SHARE: 2,  # unique sharers
        common_pb2.GOAL_SIGNUPS: 3,  # unique signups
        common_pb2.GOAL_ORDERS: 4,  # every order
        common_pb2.GOAL_UNSPECIFIED: 0,
    }
    for goal, conversions in expected.items():
        await stack.templates.SetTemplateGoal(
            templates_pb2.SetTemplateGoalRequest(account_id=a, template_id=t, goal=goal)
        )
        perf = await stack.performance(a, t)
        assert (perf.goal, perf.conversions) == (goal, conversions)
        assert perf.conversion_rate == pytest.approx(conversions / 4)
        assert perf.conversion_rate_per_clicker == pytest.approx(conversions / 4)


# Non-human clicks ----------------------------------------------------------------------


async def test_orders_carried_by_non_human_clicks_never_count(stack: Stack) -> None:
    account_id, template_id, links = await orders_setup(stack)
    bot = await source_of(stack, links["ref"], user_agent=BOT_UA)
    scanner = await source_of(stack, links["ref"], user_agent=SCANNER_UA)
    await stack.wait_for_clicks(2)
    for order_id, source in (("o-bot", bot), ("o-scanner", scanner)):
        recorded = await stack.conversions.RecordOrder(order(account_id, order_id, source))
        assert (recorded.attributed, recorded.counted) == (False, False)
        assert recorded.unattributed_reason == NON_HUMAN
        assert recorded.message_id == "m-1"  # the chain is kept for ExplainConversion

    # A browser opening the recipient's link seconds after sending is a scanner too.
    soon = await stack.mint(account_id, template_id, "m-soon", sent_ago=timedelta(seconds=1))
    soon_source = await source_of(stack, soon["ref"])
    await stack.wait_for_clicks(3)
    recorded = await stack.conversions.RecordOrder(order(account_id, "o-soon", soon_source))
    assert recorded.unattributed_reason == NON_HUMAN

    perf = await stack.performance(account_id, template_id)
    assert (perf.clicks, perf.orders, perf.conversions) == (0, 0, 0)
    assert revenue(perf) == {}
    assert dict(perf.non_human_hits) == {"bot": 1, "scanner": 2}


async def test_an_order_recorded_before_its_bot_click_lands_is_withdrawn(stack: Stack) -> None:
    account_id, template_id, links = await orders_setup(stack)
    link_id = smart_url_id(links["ref"])
    click_id = uuid_utils.uuid7().bytes
    source = mint_source(KEYS, link_id, click_id)

    recorded = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    assert recorded.attributed and recorded.counted  # the click is on its way: human so far
    assert recorded.click_id == click_id
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, revenue(perf)) == (1, {"USD": 2500})

    ack = await send_batch(stack, [edge_click(click_id, link_id, datetime.now(UTC), "bot", BOT_UA)])
    assert (ack.stored, ack.duplicates) == (1, 0)
    replay = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    assert replay.replayed
    assert (replay.attributed, replay.unattributed_reason, replay.counted) == (
        False,
        NON_HUMAN,
        False,
    )
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, perf.conversions) == (0, 0, 0)
    assert revenue(perf) == {}
    assert dict(perf.non_human_hits) == {"bot": 1}


async def test_an_order_recorded_before_its_human_click_lands_stays(stack: Stack) -> None:
    account_id, template_id, links = await orders_setup(stack)
    link_id = smart_url_id(links["ref"])
    click_id = uuid_utils.uuid7().bytes
    source = mint_source(KEYS, link_id, click_id)
    await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    await send_batch(stack, [edge_click(click_id, link_id, datetime.now(UTC))])
    replay = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    assert replay.attributed and replay.counted
    perf = await stack.performance(account_id, template_id)
    assert (perf.clicks, perf.orders) == (1, 1)


async def test_a_burst_that_arrives_after_the_order_withdraws_it(stack: Stack) -> None:
    account = await stack.account()
    template = await new_template(
        stack, account.account_id, common_pb2.GOAL_ORDERS, [REFERRAL, TRACKED]
    )
    links = await stack.mint(account.account_id, template.template_id, "m-1")
    source = await source_of(stack, links["ref"])
    await stack.wait_for_clicks(1)
    clicked_at = await stack.db.fetchval("SELECT clicked_at FROM clicks")
    recorded = await stack.conversions.RecordOrder(order(account.account_id, "o-1", source))
    assert recorded.counted  # a human click, as far as anyone knows yet

    # Another link of the same message, a second later: the two were a scanner's burst.
    await send_batch(
        stack,
        [
            edge_click(
                uuid_utils.uuid7().bytes,
                smart_url_id(links["blog"]),
                clicked_at + timedelta(seconds=1),
            )
        ],
    )
    classes = await stack.db.fetch("SELECT hit_class, reasons FROM clicks")
    assert [tuple(r) for r in classes] == [("scanner", ["burst"])] * 2
    replay = await stack.conversions.RecordOrder(order(account.account_id, "o-1", source))
    assert replay.unattributed_reason == NON_HUMAN
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.unique_clickers, perf.orders) == (0, 0, 0)
    assert revenue(perf) == {}


async def test_a_bot_click_landing_while_the_order_is_judged_still_withdraws_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    account_id, template_id, links = await orders_setup(stack)
    link_id = smart_url_id(links["ref"])
    click_id = uuid_utils.uuid7().bytes
    source = mint_source(KEYS, link_id, click_id)

    looks = 0

    async def gather_then_click_lands(*args: Any, **kwargs: Any) -> Evidence:
        nonlocal looks
        looks += 1
        evidence = await gather(*args, **kwargs)
        if looks == 1:
            # The click's batch commits after the first lookup, before the order
            # takes the message lock: two concurrent RPCs, interleaved here.
            await ingest_clicks(
                stack.db,
                stack.deps.partitions,
                [click_row(click_id, link_id, datetime.now(UTC), "bot")],
            )
        return evidence

    monkeypatch.setattr(conversions_module, "gather", gather_then_click_lands)
    await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    monkeypatch.undo()

    assert await stack.db.fetchval("SELECT hit_class FROM clicks") == "bot"
    replay = await stack.conversions.RecordOrder(order(account_id, "o-1", source))
    perf = await stack.performance(account_id, template_id)
    assert (replay.unattributed_reason, perf.orders) == (NON_HUMAN, 0)


# Unattributable sources ----------------------------------------------------------------


async def test_unattributable_orders_are_recorded_not_counted_and_explained(
    stack: Stack,
) -> None:
    account_id, template_id, links = await orders_setup(stack)
    source = await source_of(stack, links["ref"])
    forged = source[:-2] + ("AA" if source[-2:] != "AA" else "BB")
    cases = {
        "o-none": (order(account_id, "o-none", ""), NO_SOURCE),
        "o-legacy": (order(account_id, "o-legacy", "newsletter"), LEGACY),
        "o-forged": (order(account_id, "o-forged", forged), UNKNOWN),
        "o-mismatch": (order(account_id, "o-mismatch", source, shortcode="SOMEONE"), MISMATCH),
    }
    for order_id, (request, reason) in cases.items():
        recorded = await stack.conversions.RecordOrder(request)
        assert (recorded.attributed, recorded.counted, recorded.unattributed_reason) == (
            False,
            False,
            reason,
        ), order_id
        assert not recorded.replayed and recorded.amount_minor == 2500
        replay = await stack.conversions.RecordOrder(request)
        assert (replay.replayed, replay.unattributed_reason) == (True, reason)
        explained = await stack.dashboard.ExplainConversion(
            dashboard_pb2.ExplainConversionRequest(
                account_id=account_id, kind=R.CONVERSION_KIND_ORDER, external_id=order_id
            )
        )
        assert explained.conversion.unattributed_reason == reason
        assert explained.summary.startswith("Not attributed"), explained.summary
    stored = await stack.db.fetch(
        "SELECT external_id, unattributed_reason FROM conversions ORDER BY external_id"
    )
    assert dict((r[0], r[1]) for r in stored) == {
        "o-forged": "UNKNOWN_SOURCE",
        "o-legacy": "SENT_BEFORE_SMART_URLS",
        "o-mismatch": "SHORTCODE_MISMATCH",
        "o-none": "NO_SOURCE",
    }
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, perf.conversions) == (0, 0, 0)
    assert revenue(perf) == {}

    # The mismatch's chain reached the message (kept for ExplainConversion); the others
    # name none.
    chains = await stack.db.fetch(
        "SELECT external_id, message_id IS NOT NULL FROM conversions ORDER BY external_id"
    )
    assert [tuple(r) for r in chains] == [
        ("o-forged", False),
        ("o-legacy", False),
        ("o-mismatch", True),
        ("o-none", False),
    ]
    matched = await stack.conversions.RecordOrder(order(account_id, "o-ok", source))
    assert matched.counted
    assert (await stack.performance(account_id, template_id)).orders == 1


# Cancellations and refunds -------------------------------------------------------------


async def test_cancel_is_idempotent_and_takes_the_order_out(stack: Stack) -> None:
    account_id, template_id, links = await orders_setup(stack)
    source = await source_of(stack, links["ref"])
    await stack.conversions.RecordOrder(order(account_id, "o-1", source, customer_id="b-1"))
    await stack.conversions.RecordOrder(
        order(account_id, "o-2", source, customer_id="b-2", amount=700)
    )
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, revenue(perf)) == (2, 2, {"USD": 3200})

    cancel = R.CancelOrderRequest(account_id=account_id, order_id="o-1")
    first = await stack.conversions.CancelOrder(cancel)
    assert (first.replayed, first.counted, first.attributed) == (False, False, True)
    assert first.HasField("cancelled_at")
    again = await stack.conversions.CancelOrder(cancel)
    assert again.replayed and again.cancelled_at == first.cancelled_at
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, perf.conversions) == (1, 1, 1)
    assert revenue(perf) == {"USD": 700}

    # The caller's moment of cancellation is kept.
    when = whole_second(datetime.now(UTC) - timedelta(minutes=5))
    cancelled = await stack.conversions.CancelOrder(
        R.CancelOrderRequest(account_id=account_id, order_id="o-2", occurred_at=ts(when))
    )
    assert from_ts(cancelled.cancelled_at) == when
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, revenue(perf)) == (0, 0, {})

    await expect_error(
        stack.conversions.RefundOrder(
            R.RefundOrderRequest(account_id=account_id, order_id="o-1", refund_id="r-1")
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "order_id",
    )
    await expect_error(
        stack.conversions.CancelOrder(R.CancelOrderRequest(account_id=account_id, order_id="nope")),
        grpc.StatusCode.NOT_FOUND,
        "order_id",
    )
    await expect_error(
        stack.conversions.RefundOrder(
            R.RefundOrderRequest(
                account_id=account_id, order_id="nope", refund_id="r-1", amount_minor=1
            )
        ),
        grpc.StatusCode.NOT_FOUND,
        "order_id",
    )
    # Signups are not orders: there is no order of that id to cancel.
    await stack.conversions.RecordSignup(signup(account_id, "su-1", source))
    await expect_error(
        stack.conversions.CancelOrder(R.CancelOrderRequest(account_id=account_id, order_id="su-1")),
        grpc.StatusCode.NOT_FOUND,
        "order_id",
    )


async def test_refunds_lower_revenue_once_per_refund_id(stack: Stack) -> None:
    account_id, template_id, links = await orders_setup(stack)
    source = await source_of(stack, links["ref"])
    await stack.conversions.RecordOrder(order(account_id, "o-1", source, customer_id="b-1"))

    def refund(refund_id: str, amount: int) -> Any:
        return stack.conversions.RefundOrder(
            R.RefundOrderRequest(
                account_id=account_id, order_id="o-1", refund_id=refund_id, amount_minor=amount
            )
        )

    partial = await refund("r-1", 1000)
    assert (partial.replayed, partial.refunded_minor, partial.counted) == (False, 1000, True)
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, revenue(perf)) == (1, 1, {"USD": 1500})

    retry = await refund("r-1", 1000)
    assert (retry.replayed, retry.refunded_minor) == (True, 1000)
    assert revenue(await stack.performance(account_id, template_id)) == {"USD": 1500}
    await expect_error(refund("r-1", 999), grpc.StatusCode.ALREADY_EXISTS, "refund_id")
    await expect_error(refund("r-2", 1501), grpc.StatusCode.INVALID_ARGUMENT, "amount_minor")
    await expect_error(refund("r-2", -1), grpc.StatusCode.INVALID_ARGUMENT, "amount_minor")
    await expect_error(refund("", 1), grpc.StatusCode.INVALID_ARGUMENT, "refund_id")
    # The refused ones took nothing.
    assert revenue(await stack.performance(account_id, template_id)) == {"USD": 1500}

    rest = await refund("r-2", 0)  # 0: whatever is left
    assert (rest.replayed, rest.refunded_minor, rest.counted, rest.attributed) == (
        False,
        2500,
        False,
        True,
    )
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, perf.unique_buyers, perf.conversions, revenue(perf)) == (0, 0, 0, {})
    # A retry of "the rest" is a replay, not "nothing left".
    assert (await refund("r-2", 0)).replayed
    assert (await refund("r-2", 1500)).replayed
    await expect_error(refund("r-3", 0), grpc.StatusCode.FAILED_PRECONDITION, "order_id")
    await expect_error(refund("r-3", 1), grpc.StatusCode.INVALID_ARGUMENT, "amount_minor")
    refunds = await stack.db.fetch("SELECT refund_id, amount_minor FROM refunds ORDER BY 1")
    assert [tuple(r) for r in refunds] == [("r-1", 1000), ("r-2", 1500)]


async def test_a_zero_amount_order_counts_until_cancelled(stack: Stack) -> None:
    account_id, template_id, links = await orders_setup(stack)
    source = await source_of(stack, links["ref"])
    free = await stack.conversions.RecordOrder(order(account_id, "o-free", source, amount=0))
    assert free.counted
    assert (await stack.performance(account_id, template_id)).orders == 1
    await expect_error(
        stack.conversions.RefundOrder(
            R.RefundOrderRequest(account_id=account_id, order_id="o-free", refund_id="r-1")
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "order_id",
    )
    await stack.conversions.CancelOrder(
        R.CancelOrderRequest(account_id=account_id, order_id="o-free")
    )
    assert (await stack.performance(account_id, template_id)).orders == 0


async def test_refunds_of_unattributed_orders_change_no_figure(stack: Stack) -> None:
    account_id, template_id, _ = await orders_setup(stack)
    await stack.conversions.RecordOrder(order(account_id, "o-none", ""))
    refunded = await stack.conversions.RefundOrder(
        R.RefundOrderRequest(
            account_id=account_id, order_id="o-none", refund_id="r-1", amount_minor=500
        )
    )
    assert refunded.refunded_minor == 500 and not refunded.counted
    cancelled = await stack.conversions.CancelOrder(
        R.CancelOrderRequest(account_id=account_id, order_id="o-none")
    )
    assert cancelled.HasField("cancelled_at")
    perf = await stack.performance(account_id, template_id)
    assert (perf.orders, revenue(perf)) == (0, {})


async def test_cancelling_a_buyers_first_order_makes_the_next_one_their_first(
    stack: Stack,
) -> None:
    account_id, template_id, links = await orders_setup(
        stack, sent_at=whole_second(datetime.now(UTC) - 6 * HOUR)
    )
    source = await source_of(stack, links["ref"])
    now = datetime.now(UTC)
    first_at, second_at = now - 3 * HOUR, now - HOUR  # in different hours
    await stack.conversions.RecordOrder(
        order(account_id, "o-1", source, customer_id="b-1", occurred_at=first_at)
    )
    await stack.conversions.RecordOrder(
        order(account_id, "o-2", source, customer_id="b-1", occurred_at=second_at, amount=400)
    )
    second_hour = floor_to(second_at, HOUR)

    async def figures(since: datetime, until: datetime) -> tuple[int, int]:
        perf = await performance(stack, account_id, template_id, since, until)
        return perf.orders, perf.unique_buyers

    assert await figures(now - DAY, now + HOUR) == (2, 1)
    assert await figures(second_hour, second_hour + HOUR) == (1, 0)  # not the first order

    await stack.conversions.CancelOrder(R.CancelOrderRequest(account_id=account_id, order_id="o-1"))
    assert await figures(now - DAY, now + HOUR) == (1, 1)
    assert await figures(second_hour, second_hour + HOUR) == (1, 1)  # the buyer moved here
    first_hour = floor_to(first_at, HOUR)
    assert await figures(first_hour, first_hour + HOUR) == (0, 0)

    # Fully refunding the remaining order leaves no buyer at all.
    await stack.conversions.RefundOrder(
        R.RefundOrderRequest(account_id=account_id, order_id="o-2", refund_id="all")
    )
    assert await figures(now - DAY, now + HOUR) == (0, 0)
    # A later order of the same buyer is their first counted one again.
    await stack.conversions.RecordOrder(order(account_id, "o-3", source, customer_id="b-1"))
    assert await figures(now - DAY, now + 2 * HOUR) == (1, 1)


# Goal history --------------------------------------------------------------------------


async def test_goal_changes_apply_from_the_moment_they_are_made(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ADVOCATE_SHARE, [WHATSAPP])
    t = template.template_id
    for goal in (common_pb2.GOAL_SIGNUPS, common_pb2.GOAL_ORDERS):
        changed = await stack.templates.SetTemplateGoal(
            templates_pb2.SetTemplateGoalRequest(account_id=a, template_id=t, goal=goal)
        )
    history = [(g.goal, from_ts(g.effective_from)) for g in changed.goal_history]
    assert [g for g, _ in history] == [
        common_pb2.GOAL_ADVOCATE_SHARE,
        common_pb2.GOAL_SIGNUPS,
        common_pb2.GOAL_ORDERS,
    ]
    assert [m for _, m in history] == sorted(m for _, m in history)
    # Setting the current goal again adds no entry.
    again = await stack.templates.SetTemplateGoal(
        templates_pb2.SetTemplateGoalRequest(
            account_id=a, template_id=t, goal=common_pb2.GOAL_ORDERS
        )
    )
    assert len(again.goal_history) == 3

    since, until = history[0][1] - 2 * DAY, history[-1][1] + 2 * HOUR
    perf = await performance(stack, a, t, since, until)
    assert perf.goal == common_pb2.GOAL_ORDERS
    since, until = floor_to(since, HOUR), floor_to(until, HOUR) + HOUR
    periods = [(p.goal, from_ts(getattr(p, "from")), from_ts(p.to)) for p in perf.goal_periods]
    # Each goal from the second it was set, however close the changes.
    assert periods == [
        (common_pb2.GOAL_ADVOCATE_SHARE, since, history[1][1]),
        (common_pb2.GOAL_SIGNUPS, history[1][1], history[2][1]),
        (common_pb2.GOAL_ORDERS, history[2][1], until),
    ]


async def test_a_goal_changed_mid_hour_splits_that_hour_exactly(stack: Stack) -> None:
    """Advocate Share until hh:19:30, Orders from then: shares made in the minutes
    before the change count in the share period, an order after it in the
    orders period, and the periods cover the range with nothing counted twice."""
    a = (await stack.account()).account_id
    template = await new_template(stack, a, common_pb2.GOAL_ADVOCATE_SHARE, [WHATSAPP, REFERRAL])
    t = template.template_id
    await stack.templates.SetTemplateGoal(
        templates_pb2.SetTemplateGoalRequest(
            account_id=a, template_id=t, goal=common_pb2.GOAL_ORDERS
        )
    )
    hour = floor_to(datetime.now(UTC), HOUR) - 2 * HOUR
    change = hour + timedelta(minutes=19, seconds=30)
    # Back-dated, as a test cannot wait for the hour: created before the range.
    for goal, moment in (("ADVOCATE_SHARE", hour - 3 * HOUR), ("ORDERS", change)):
        await stack.db.execute(
            "UPDATE template_goals SET effective_from = $3"
            " WHERE account_id = $1 AND template_id = $2 AND goal = $4",
            a,
            t,
            moment,
            goal,
        )
    sent = hour - HOUR
    taps = {"m-1": timedelta(minutes=19, seconds=1), "m-2": timedelta(minutes=19, seconds=29)}
    taps["m-3"] = timedelta(minutes=19, seconds=45)  # after the change: no sharer counted
    rows = []
    for message, offset in taps.items():
        links = await mint_at(stack, a, t, message, sent)
        link_id = smart_url_id(links["wa"])
        rows.append(click_row(uuid_utils.uuid7().bytes, link_id, hour + offset, "human"))
    await ingest_clicks(stack.db, stack.deps.partitions, rows)
    buyer = await mint_at(stack, a, t, "m-buyer", sent)
    source = await source_of(stack, buyer["ref"])
    for order_id, minutes in (("before", 10), ("after", 50)):
        await stack.conversions.RecordOrder(
            order(a, order_id, source, occurred_at=hour + timedelta(minutes=minutes))
        )

    since, until = hour - HOUR, hour + 2 * HOUR
    perf = await performance(stack, a, t, since, until)
    periods = [
        (p.goal, from_ts(getattr(p, "from")), from_ts(p.to), p.conversions)
        for p in perf.goal_periods
    ]
    assert periods == [
        (common_pb2.GOAL_ADVOCATE_SHARE, since, change, 2),  # m-1 and m-2 shared
        (common_pb2.GOAL_ORDERS, change, until, 1),  # the order after the change
    ]
    # The headline is the current goal's metric over the whole range.
    assert (perf.goal, perf.conversions, perf.unique_sharers) == (common_pb2.GOAL_ORDERS, 2, 3)


async def test_goal_periods_list_each_goal_with_its_own_metric(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(
        stack, a, common_pb2.GOAL_SIGNUPS, [WHATSAPP, ENROLLMENT, REFERRAL]
    )
    t = template.template_id
    await stack.templates.SetTemplateGoal(
        templates_pb2.SetTemplateGoalRequest(
            account_id=a, template_id=t, goal=common_pb2.GOAL_ORDERS
        )
    )
    current = await stack.templates.SetTemplateGoal(
        templates_pb2.SetTemplateGoalRequest(
            account_id=a, template_id=t, goal=common_pb2.GOAL_ADVOCATE_SHARE
        )
    )
    share_from = from_ts(current.goal_history[-1].effective_from)
    base = floor_to(share_from, HOUR)
    # Back-date the earlier goals (a test cannot wait hours between changes).
    signups_from, orders_from = base - 10 * HOUR, base - 4 * HOUR + timedelta(minutes=30)
    for goal, moment in (("SIGNUPS", signups_from), ("ORDERS", orders_from)):
        await stack.db.execute(
            "UPDATE template_goals SET effective_from = $3"
            " WHERE account_id = $1 AND template_id = $2 AND goal = $4",
            a,
            t,
            moment,
            goal,
        )

    sent_at = base - 12 * HOUR
    joiner = await mint_at(stack, a, t, "m-signup", sent_at)
    buyer = await mint_at(stack, a, t, "m-order", sent_at)
    sharer = await mint_at(stack, a, t, "m-share", sent_at)
    s = await source_of(stack, joiner["join"])
    o = await source_of(stack, buyer["ref"])
    in_signups, in_orders = base - 8 * HOUR, base - 2 * HOUR
    for i, customer in enumerate(("c-1", "c-2", "c-1")):
        await stack.conversions.RecordSignup(
            signup(a, f"su-{i}", s, customer_id=customer, occurred_at=in_signups)
        )
    await stack.conversions.RecordSignup(signup(a, "su-late", s, occurred_at=in_orders))
    await stack.conversions.RecordOrder(order(a, "o-early", o, occurred_at=in_signups))
    for i in range(3):
        await stack.conversions.RecordOrder(order(a, f"o-{i}", o, occurred_at=in_orders))
    await share_tap(stack, sharer["wa"])
    await share_tap(stack, sharer["wa"])
    await stack.wait_for_clicks(4)

    since, until = base - DAY, base + 2 * HOUR
    perf = await performance(stack, a, t, since, until)
    assert perf.goal == common_pb2.GOAL_ADVOCATE_SHARE
    assert (perf.unique_sharers, perf.conversions) == (1, 1)
    assert (perf.signups, perf.unique_signups, perf.orders) == (4, 3, 4)
    periods = [
        (p.goal, from_ts(getattr(p, "from")), from_ts(p.to), p.conversions)
        for p in perf.goal_periods
    ]
    assert periods == [
        (common_pb2.GOAL_SIGNUPS, since, orders_from, 2),  # unique signups in it
        (common_pb2.GOAL_ORDERS, orders_from, share_from, 3),  # its orders, not o-early
        (common_pb2.GOAL_ADVOCATE_SHARE, share_from, until, 1),
    ]
    # A range inside one period lists that period only, clipped to the range.
    inner = await performance(stack, a, t, base - 3 * HOUR, base - HOUR)
    assert [
        (p.goal, from_ts(getattr(p, "from")), from_ts(p.to), p.conversions)
        for p in inner.goal_periods
    ] == [(common_pb2.GOAL_ORDERS, base - 3 * HOUR, base - HOUR, 3)]
    assert inner.goal == common_pb2.GOAL_ADVOCATE_SHARE and inner.conversions == 0

    goals = {}
    for kind, external_id in ((R.CONVERSION_KIND_SIGNUP, "su-0"), (R.CONVERSION_KIND_ORDER, "o-0")):
        explained = await stack.dashboard.ExplainConversion(
            dashboard_pb2.ExplainConversionRequest(account_id=a, kind=kind, external_id=external_id)
        )
        goals[external_id] = explained.goal_at_occurrence
    assert goals == {"su-0": common_pb2.GOAL_SIGNUPS, "o-0": common_pb2.GOAL_ORDERS}
