"""Every hit kept with its class; only human hits are clicks, shares or conversions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from smarturls.v1 import common_pb2, templates_pb2
from tests.support import Stack
from tests.unit.classifier.test_classify import BOTS, HUMANS, PREVIEWS, SCANNERS

SHARE = templates_pb2.TemplateLink(
    name="wa",
    kind=common_pb2.LINK_KIND_SHARE,
    network=common_pb2.SHARE_NETWORK_WHATSAPP,
    destination_url="https://shop.example/",
    share_text="20% off",
    og_title="Acme <Spring> sale",
    og_description="20% off your first order",
    og_image_url="https://cdn.acme.example/card.png",
)
TRACKED = [
    templates_pb2.TemplateLink(
        name=name, kind=common_pb2.LINK_KIND_TRACKED, destination_url=f"https://acme.example/{name}"
    )
    for name in ("a", "b", "c")
]


async def test_each_agent_is_stored_with_its_class(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE])
    table = (
        [(agent, "human") for agent in HUMANS]
        + [(agent, "preview") for agent in PREVIEWS]
        + [(agent, "scanner") for agent in SCANNERS]
        + [(agent, "bot") for agent in BOTS]
    )
    for i, (agent, _) in enumerate(table):
        # One message per agent: one recipient each, no bursts.
        url = (await stack.mint(account.account_id, template.template_id, f"m-{i}"))["wa"]
        response = await stack.click(url, user_agent=agent)
        assert response.status_code == (200 if agent in PREVIEWS else 302), agent
    await stack.wait_for_clicks(len(table))
    stored = dict(await stack.db.fetch("SELECT user_agent, hit_class FROM clicks"))
    assert stored == dict(table)
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.unique_clickers, perf.shares) == (
        len(HUMANS),
        len(HUMANS),
        len(HUMANS),
    )
    assert dict(perf.non_human_hits) == {
        "preview": len(PREVIEWS),
        "scanner": len(SCANNERS),
        "bot": len(BOTS),
    }


async def test_safe_links_with_a_browser_agent_is_a_scanner_by_its_address(stack: Stack) -> None:
    # Defender Safe Links opens links from Microsoft's mail cloud with an ordinary
    # browser agent; the load balancer in front of the edge passes its address.
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE])
    scanned = (await stack.mint(account.account_id, template.template_id, "m-1"))["wa"]
    person = (await stack.mint(account.account_id, template.template_id, "m-2"))["wa"]
    response = await stack.click(scanned, user_agent=HUMANS[2], forwarded_for="40.107.22.5")
    assert response.status_code == 302  # a scanner is redirected like anyone, never counted
    assert (
        await stack.click(person, user_agent=HUMANS[2], forwarded_for="203.0.113.9")
    ).is_redirect
    await stack.wait_for_clicks(2)
    stored = {
        str(r["ip_prefix"]): (r["hit_class"], list(r["reasons"]))
        for r in await stack.db.fetch("SELECT ip_prefix, hit_class, reasons FROM clicks")
    }
    assert stored == {
        "40.107.22.0/24": ("scanner", ["ip_scanner:microsoft"]),
        "203.0.113.0/24": ("human", []),
    }
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.shares, dict(perf.non_human_hits)) == (1, 1, {"scanner": 1})


async def test_previewers_get_the_card_and_count_nothing(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE])
    url = (await stack.mint(account.account_id, template.template_id, "m-1"))["wa"]
    page = await stack.click(url, user_agent="WhatsApp/2.23.20.0 A")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<meta property="og:title" content="Acme &lt;Spring&gt; sale">' in html
    assert '<meta property="og:description" content="20% off your first order">' in html
    assert '<meta property="og:image" content="https://cdn.acme.example/card.png">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    head = await stack.click(url, method="HEAD", user_agent="WhatsApp/2.23.20.0 A")
    assert head.status_code == 302  # HEAD gets headers only; it is never a click either
    await stack.wait_for_clicks(2)
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, perf.shares, perf.conversions) == (0, 0, 0)
    assert dict(perf.non_human_hits) == {"preview": 2}


async def test_a_burst_over_one_messages_links_is_a_scanner(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED)
    links = await stack.mint(account.account_id, template.template_id, "m-1")
    await stack.click(links["a"])
    await stack.wait_for_clicks(1)  # the first hit is stored as human, in its own batch...
    assert await stack.db.fetchval("SELECT hit_class FROM clicks") == "human"
    await stack.click(links["b"])
    await stack.click(links["c"])
    await stack.wait_for_clicks(3)
    await asyncio.sleep(0.1)
    rows = await stack.db.fetch("SELECT hit_class, reasons FROM clicks")
    # ...and reclassified once the rest of the burst arrives.
    assert [(r["hit_class"], r["reasons"]) for r in rows] == [("scanner", ["burst"])] * 3
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.clicks, dict(perf.non_human_hits)) == (0, {"scanner": 3})


async def test_a_share_tap_in_a_burst_is_withdrawn(stack: Stack) -> None:
    account = await stack.account()
    other = templates_pb2.TemplateLink(
        name="x",
        kind=common_pb2.LINK_KIND_SHARE,
        network=common_pb2.SHARE_NETWORK_X,
        destination_url="https://shop.example/",
    )
    template = await stack.template(
        account.account_id, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE, other]
    )
    links = await stack.mint(account.account_id, template.template_id, "m-1")
    await stack.click(links["wa"])
    await stack.wait_for_clicks(1)
    assert await stack.db.fetchval("SELECT count(*) FROM conversions") == 1
    await stack.click(links["x"])
    await stack.wait_for_clicks(2)
    await asyncio.sleep(0.1)
    # Kept, with the reason, so ExplainConversion can say why it does not count.
    reasons = await stack.db.fetch("SELECT unattributed_reason FROM conversions")
    assert [r[0] for r in reasons] == ["NON_HUMAN_CLICK"]
    perf = await stack.performance(account.account_id, template.template_id)
    assert (perf.shares, perf.conversions) == (0, 0)


async def test_a_click_seconds_after_sending_is_a_scanner(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_UNSPECIFIED, TRACKED[:1])
    url = (
        await stack.mint(
            account.account_id, template.template_id, "m-1", sent_ago=timedelta(seconds=1)
        )
    )["a"]
    await stack.click(url)
    await stack.wait_for_clicks(1)
    hit_class, reasons = await stack.db.fetchrow("SELECT hit_class, reasons FROM clicks")
    assert hit_class == "scanner" and reasons[0].startswith("soon_after_send:")


async def test_how_soon_is_too_soon_depends_on_the_messages_channel(stack: Stack) -> None:
    """Email scanners open links up to 10 s after delivery; SMS previews within 3 s.
    Six seconds after sending, an email's link is a scanner's, an SMS's a human's."""
    account = await stack.account()
    templates = {}
    for channel in (common_pb2.CHANNEL_EMAIL, common_pb2.CHANNEL_SMS):
        template = await stack.template(
            account.account_id,
            common_pb2.GOAL_UNSPECIFIED,
            TRACKED[:1],
            name=f"t-{channel}",
            channel=channel,
        )
        url = (
            await stack.mint(
                account.account_id,
                template.template_id,
                f"m-{channel}",
                sent_ago=timedelta(seconds=6),
            )
        )["a"]
        await stack.click(url)
        templates[channel] = template.template_id
    await stack.wait_for_clicks(2)
    rows = await stack.db.fetch("SELECT template_id, hit_class FROM clicks")
    by_template = {r["template_id"]: r["hit_class"] for r in rows}
    assert by_template == {
        templates[common_pb2.CHANNEL_EMAIL]: "scanner",
        templates[common_pb2.CHANNEL_SMS]: "human",
    }
