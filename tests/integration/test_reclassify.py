"""History that heals: after a classifier change, reclassifying the stored hits
leaves the dashboard as a fresh ingest under the new rules would have made it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

import classifier
from classifier import agents
from control.domain.reclassify import reclassify
from control.domain.rollup_repair import reconcile
from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2, templates_pb2
from tests.support import Stack

SHARE = templates_pb2.TemplateLink(
    name="wa",
    kind=common_pb2.LINK_KIND_SHARE,
    network=common_pb2.SHARE_NETWORK_WHATSAPP,
    destination_url="https://shop.example/",
)
REFERRAL = templates_pb2.TemplateLink(
    name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/in"
)
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148 Safari/604.1"
# A browser-shaped agent: a person, until the rule below calls it a fetcher.
FETCHER = "Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537.36 ExampleFetcher/2"
# Not a browser's shape: a program, until the rule below knows it as an app's browser.
APP = "ExampleApp/5.0 (iPhone; iOS 18.1; Scale/3.00)"


def _clear() -> None:
    agents.classify_agent.cache_clear()
    classifier._combine.cache_clear()


@pytest.fixture
def new_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Calling it changes the classifier's data as an upgrade would, everywhere
    in this process (the test's edge included)."""

    def change() -> None:
        bots = (*agents.BOT_AGENTS, ("example-fetcher", r"ExampleFetcher"))
        in_app = (*agents.IN_APP_BROWSERS, ("example-app", r"^ExampleApp/"))
        monkeypatch.setattr(agents, "BOT_AGENTS", bots)
        monkeypatch.setattr(agents, "_BOT", agents._combined(bots))
        monkeypatch.setattr(agents, "IN_APP_BROWSERS", in_app)
        monkeypatch.setattr(agents, "_IN_APP", agents._combined(in_app))
        _clear()

    yield change
    monkeypatch.undo()
    _clear()


async def campaign(stack: Stack, account_id: int) -> tuple[int, int]:
    """The same hits and orders for either account: a share tap by the fetcher,
    a referral click by the app with an order, and a phone's with an order."""
    shares = await stack.template(account_id, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE], name="s")
    orders = await stack.template(account_id, common_pb2.GOAL_ORDERS, [REFERRAL], name="o")
    tap = (await stack.mint(account_id, shares.template_id, "share-1"))["wa"]
    assert (await stack.click(tap, user_agent=FETCHER)).status_code == 302
    for n, agent in enumerate((APP, PHONE)):
        url = (await stack.mint(account_id, orders.template_id, f"order-{n}"))["ref"]
        location = (await stack.click(url, user_agent=agent)).headers["location"]
        [source] = parse_qs(urlsplit(location).query)["mbsy_source"]
        await stack.conversions.RecordOrder(
            conversions_pb2.RecordOrderRequest(
                account_id=account_id,
                order_id=f"o-{n}",
                mbsy_source=source,
                shortcode="JANE42",
                amount_minor=2500,
                currency="USD",
            )
        )
    return shares.template_id, orders.template_id


async def figures(stack: Stack, account_id: int) -> list[tuple[object, ...]]:
    reply = await stack.dashboard.ListTemplatePerformance(
        dashboard_pb2.ListTemplatePerformanceRequest(account_id=account_id)
    )
    return sorted(
        (
            t.name,
            t.clicks,
            t.unique_clickers,
            t.shares,
            t.unique_sharers,
            t.orders,
            t.conversions,
            tuple((r.currency, r.amount_minor) for r in t.revenue),
            tuple(sorted(t.non_human_hits.items())),
        )
        for t in reply.templates
    )


async def reasons(stack: Stack, account_id: int) -> list[tuple[str, str | None]]:
    rows = await stack.db.fetch(
        "SELECT kind, unattributed_reason FROM conversions WHERE account_id = $1 ORDER BY 1, 2",
        account_id,
    )
    return [(r["kind"], r["unattributed_reason"]) for r in rows]


async def test_reclassified_history_equals_a_fresh_ingest_under_the_new_rules(
    stack: Stack, new_rules: object
) -> None:
    old = (await stack.account()).account_id
    fresh = (await stack.account(domain="share.other.example")).account_id
    started = datetime.now(UTC) - timedelta(minutes=1)
    await campaign(stack, old)
    await stack.wait_for_clicks(3)
    before = await figures(stack, old)
    # Under the old rules the fetcher shared and the app's order did not count.
    assert await reasons(stack, old) == [
        ("ORDER", "NON_HUMAN_CLICK"),
        ("ORDER", None),
        ("SHARE", None),
    ]

    new_rules()  # type: ignore[operator]
    await campaign(stack, fresh)
    await stack.wait_for_clicks(6)
    async with stack.db.acquire() as conn:
        done = await reclassify(conn, started, old)
    assert done.moves == {("human", "bot"): 1, ("bot", "human"): 1}
    assert (done.withdrawn, done.restored, done.shares_added) == (1, 1, 0)

    assert await figures(stack, old) != before
    assert [f[1:] for f in await figures(stack, old)] == [
        f[1:] for f in await figures(stack, fresh)
    ]
    # The orders as a fresh ingest judged them; the fetcher's share is kept,
    # withdrawn with its reason (as when a burst unmakes one), where a fresh
    # ingest never made it.
    assert await reasons(stack, old) == [
        ("ORDER", None),
        ("ORDER", None),
        ("SHARE", "NON_HUMAN_CLICK"),
    ]
    assert await reasons(stack, fresh) == [("ORDER", None), ("ORDER", None)]
    classes = await stack.db.fetch(
        "SELECT user_agent, hit_class, reasons FROM clicks WHERE account_id = $1", old
    )
    assert {r["user_agent"]: r["hit_class"] for r in classes} == {
        FETCHER: "bot",
        APP: "human",
        PHONE: "human",
    }
    async with stack.db.acquire() as conn:
        assert await reconcile(conn, [old, fresh], None, fix=False) == []


async def test_a_share_tap_that_is_a_persons_now_becomes_a_share(
    stack: Stack, new_rules: object
) -> None:
    account = (await stack.account()).account_id
    template = await stack.template(account, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE])
    tap = (await stack.mint(account, template.template_id, "m-1"))["wa"]
    await stack.click(tap, user_agent=APP)
    await stack.wait_for_clicks(1)
    assert (await stack.performance(account, template.template_id)).unique_sharers == 0

    new_rules()  # type: ignore[operator]
    async with stack.db.acquire() as conn:
        done = await reclassify(conn, datetime.now(UTC) - timedelta(hours=1), account)
        again = await reclassify(conn, datetime.now(UTC) - timedelta(hours=1), account)
    assert done.shares_added == 1
    perf = await stack.performance(account, template.template_id)
    assert (perf.clicks, perf.shares, perf.unique_sharers, perf.conversions) == (1, 1, 1, 1)
    # Nothing left to change the second time.
    assert (sum(again.moves.values()), again.shares_added) == (0, 0)


async def test_hits_before_since_and_other_accounts_are_left_alone(
    stack: Stack, new_rules: object
) -> None:
    one = (await stack.account()).account_id
    two = (await stack.account(domain="share.other.example")).account_id
    for account in (one, two):
        template = await stack.template(account, common_pb2.GOAL_ADVOCATE_SHARE, [SHARE])
        await stack.click(
            (await stack.mint(account, template.template_id, "m"))["wa"], user_agent=FETCHER
        )
    await stack.wait_for_clicks(2)
    new_rules()  # type: ignore[operator]
    async with stack.db.acquire() as conn:
        later = await reclassify(conn, datetime.now(UTC) + timedelta(minutes=1), one)
        done = await reclassify(conn, datetime.now(UTC) - timedelta(hours=1), one)
    assert later.hits_read == 0
    assert done.moves == {("human", "bot"): 1}
    stored = dict(await stack.db.fetch("SELECT account_id, hit_class FROM clicks"))
    assert stored == {one: "bot", two: "human"}
