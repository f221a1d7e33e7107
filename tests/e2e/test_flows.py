"""The three Smart URL flows, end to end: mint -> click on the edge -> follow the
redirect outside -> report the outcome -> read the dashboard."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from control.domain.hit_rules import BURST_SECONDS
from signing.tokens import mint_token
from smarturls.v1 import common_pb2, conversions_pb2, templates_pb2
from tests.e2e.merchant import FakeShop
from tests.support import KEYS, Stack

SHOP = "https://shop.acme.example/welcome?campaignid=7"


def share_button(network: int, name: str) -> templates_pb2.TemplateLink:
    return templates_pb2.TemplateLink(
        name=name,
        kind=common_pb2.LINK_KIND_SHARE,
        network=network,
        destination_url=SHOP,
        share_text="20% off at Acme:",
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_advocate_share_flow(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(
        account.account_id,
        common_pb2.GOAL_ADVOCATE_SHARE,
        [
            share_button(common_pb2.SHARE_NETWORK_WHATSAPP, "whatsapp"),
            share_button(common_pb2.SHARE_NETWORK_X, "x"),
        ],
    )
    links = await stack.mint(account.account_id, template.template_id, "msg-1")
    await stack.mint(account.account_id, template.template_id, "msg-2")  # sent, never clicked

    tapped = await stack.click(links["whatsapp"])
    assert tapped.status_code == 302
    assert tapped.headers["cache-control"] == "no-store"
    location = tapped.headers["location"]
    assert location.startswith("https://wa.me/?text=")
    shared_text = query(location)["text"]
    assert shared_text.startswith("20% off at Acme: https://share.acme.example/")
    referral_url = shared_text.split(" ")[-1]
    assert referral_url not in links.values()  # the friend gets a link of their own

    # The advocate taps again, and later on X: three shares, one sharer.
    # (Two links of one message within 2 s would be a scanner's burst.)
    await stack.click(links["whatsapp"])
    await asyncio.sleep(BURST_SECONDS + 0.1)
    x_location = (await stack.click(links["x"])).headers["location"]
    assert x_location.startswith("https://x.com/intent/tweet?text=")
    assert query(x_location)["text"] == "20% off at Acme:"
    assert query(x_location)["url"].startswith("https://share.acme.example/")

    # The friend opens the shared link: the shop, with the advocate's shortcode.
    friend = await stack.click(referral_url)
    assert friend.status_code == 302
    landing = query(friend.headers["location"])
    assert landing["mbsy"] == "JANE42" and landing["campaignid"] == "7"

    await stack.wait_for_clicks(4)
    network = await stack.db.fetchval(
        "SELECT t.network FROM clicks c JOIN smart_urls s USING (smart_url_id)"
        " JOIN smart_urls p ON p.smart_url_id = s.parent_smart_url_id"
        " JOIN template_links t ON t.template_id = p.template_id AND t.name = p.link_name"
        " WHERE c.kind = 'SHARED_REFERRAL'"
    )
    assert network == "WHATSAPP"  # the friend's click knows where it was shared
    perf = await stack.performance(account.account_id, template.template_id)
    assert perf.goal == common_pb2.GOAL_ADVOCATE_SHARE
    assert (perf.messages_sent, perf.clicks, perf.unique_clickers) == (2, 3, 1)
    assert (perf.friend_clicks, perf.shares, perf.unique_sharers) == (1, 3, 1)
    assert perf.conversions == 1  # the goal's metric: unique sharers
    assert perf.conversion_rate == pytest.approx(0.5)


async def test_signup_flow(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(
        account.account_id,
        common_pb2.GOAL_SIGNUPS,
        [
            templates_pb2.TemplateLink(
                name="join",
                kind=common_pb2.LINK_KIND_ENROLLMENT,
                destination_url="https://acme.example/join#form",
            )
        ],
        channel=common_pb2.CHANNEL_SMS,
    )
    links = await stack.mint(account.account_id, template.template_id, "sms-1", shortcode="")
    assert len(urlsplit(links["join"]).path) == 13  # "/" + 12 characters: SMS-sized

    response = await stack.click(links["join"])
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("https://acme.example/join?mbsy_source=")
    assert location.endswith("#form")
    source = query(location)["mbsy_source"]
    assert response.cookies.get("mbsy_source") == source

    signup = await stack.conversions.RecordSignup(
        conversions_pb2.RecordSignupRequest(
            account_id=account.account_id, signup_id="signup-1", mbsy_source=source
        )
    )
    assert signup.attributed and signup.message_id == "sms-1"
    await stack.wait_for_clicks(1)
    perf = await stack.performance(account.account_id, template.template_id)
    assert perf.channel == common_pb2.CHANNEL_SMS
    assert (perf.messages_sent, perf.clicks, perf.signups, perf.conversions) == (1, 1, 1, 1)
    assert perf.conversion_rate == pytest.approx(1.0)


async def test_order_flow_through_a_share(stack: Stack) -> None:
    """Message -> share tap -> friend's click -> the shop -> the order, traced back."""
    shop = FakeShop()
    account = await stack.account()
    template = await stack.template(
        account.account_id,
        common_pb2.GOAL_ORDERS,
        [share_button(common_pb2.SHARE_NETWORK_WHATSAPP, "whatsapp")],
    )
    links = await stack.mint(account.account_id, template.template_id, "order-msg")

    tapped = await stack.click(links["whatsapp"])
    referral_url = query(tapped.headers["location"])["text"].split(" ")[-1]
    friend = await stack.click(referral_url, user_agent="Mozilla/5.0 (Android) Chrome/130")
    landing_url = friend.headers["location"]
    assert urlsplit(landing_url).path == "/welcome"

    # Follow the redirect to the outside: the shop stores what it is given.
    path_and_query = landing_url.split("shop.acme.example", 1)[1]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=shop.app()), base_url="https://shop.acme.example"
    ) as browser:
        assert (await browser.get(path_and_query)).text == "Welcome to Acme"
    stored = shop.landings[0]

    order = await stack.conversions.RecordOrder(
        conversions_pb2.RecordOrderRequest(
            account_id=account.account_id,
            order_id="A-1001",
            mbsy_source=stored["mbsy_source"],
            shortcode=stored["mbsy"],
            amount_minor=4599,
            currency="USD",
        )
    )
    assert order.attributed and order.message_id == "order-msg"
    assert order.template_id == template.template_id
    await stack.wait_for_clicks(2)
    # The order's click is the friend's click on the referral link minted for the share.
    chain = await stack.db.fetchrow(
        "SELECT c.kind, p.smart_url_id AS share_button FROM conversions o"
        " JOIN clicks c ON c.click_id = o.click_id"
        " JOIN smart_urls s ON s.smart_url_id = c.smart_url_id"
        " JOIN smart_urls p ON p.smart_url_id = s.parent_smart_url_id"
        " WHERE o.external_id = 'A-1001'"
    )
    assert chain["kind"] == "SHARED_REFERRAL"
    assert links["whatsapp"].endswith("/" + mint_token(KEYS, chain["share_button"]))
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.orders, perf.conversions, perf.friend_clicks) == (1, 1, 1)
    assert [(r.currency, r.amount_minor) for r in perf.revenue] == [("USD", 4599)]


async def test_order_through_the_referral_link(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(
        account.account_id,
        common_pb2.GOAL_ORDERS,
        [
            templates_pb2.TemplateLink(
                name="referral", kind=common_pb2.LINK_KIND_REFERRAL, destination_url=SHOP
            )
        ],
    )
    links = await stack.mint(account.account_id, template.template_id, "ref-msg")
    landing = query((await stack.click(links["referral"])).headers["location"])
    assert landing["mbsy"] == "JANE42"
    order = await stack.conversions.RecordOrder(
        conversions_pb2.RecordOrderRequest(
            account_id=account.account_id,
            order_id="B-1",
            mbsy_source=landing["mbsy_source"],
            shortcode="JANE42",
            amount_minor=1000,
            currency="EUR",
        )
    )
    assert order.attributed and order.message_id == "ref-msg"
