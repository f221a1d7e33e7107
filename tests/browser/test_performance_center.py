"""The Performance Center in a real browser, against the real stack: what a
marketer sees must be what the API answers for the same range, number by number.

SMARTURLS_TEST_SCREENSHOTS=DIR saves a screenshot of every page visited."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp
from playwright.async_api import Browser, Page

from console import formatting
from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2, templates_pb2
from tests.marketing_data import MarketingAccount, marketing_account
from tests.support import Stack

GOAL_UNITS = {
    common_pb2.GOAL_ADVOCATE_SHARE: ("unique sharer", "unique sharers"),
    common_pb2.GOAL_SIGNUPS: ("signup", "signups"),
    common_pb2.GOAL_ORDERS: ("order", "orders"),
}


async def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SMARTURLS_TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def recent_days() -> tuple[str, str, dashboard_pb2.TimeRange]:
    """Yesterday and today (messages are minted as sent an hour ago) as the
    custom range form names them, and as the API is asked for them."""
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    start, end = Timestamp(), Timestamp()
    start.FromDatetime(datetime.combine(yesterday, time(), UTC))
    end.FromDatetime(datetime.combine(today + timedelta(days=1), time(), UTC))
    span = dashboard_pb2.TimeRange(**{"from": start, "to": end})
    return yesterday.isoformat(), today.isoformat(), span


def expected_cells(p: dashboard_pb2.TemplatePerformance) -> dict[str, str]:
    """Each cell as a person reads it, from the API's figures."""

    def share(part: int, whole: int) -> str:
        return f"{part / whole * 100:.1f}%" if whole else "—"

    cells = {
        "name": p.name,
        "sent": f"{p.messages_sent:,}",
        "clicks": f"{p.clicks:,}",
        "clickers": f"{p.unique_clickers:,}",
        "non_human": f"{sum(p.non_human_hits.values()):,}",
        "revenue": "\n".join(formatting.money(r.amount_minor, r.currency) for r in p.revenue)
        or "—",
    }
    if p.goal:
        one, many = GOAL_UNITS[p.goal]
        cells["goal_metric"] = f"{p.conversions:,} {one if p.conversions == 1 else many}"
        cells["rate"] = share(p.conversions, p.messages_sent)
        cells["clicker_rate"] = share(p.conversions, p.unique_clickers)
    else:
        cells["goal_metric"] = (
            f"no goal\n{p.unique_sharers:,} sharers · {p.unique_signups:,} signups"
            f" · {p.orders:,} orders"
        )
        cells["rate"] = cells["clicker_rate"] = "—"
    return cells


async def table_cells(page: Page) -> dict[int, dict[str, str]]:
    rows = {}
    for row in await page.locator("table[data-table=templates] tbody tr").all():
        template_id = int(await row.get_attribute("data-template-id") or 0)
        cells = {}
        for cell in await row.locator("[data-col]").all():
            cells[await cell.get_attribute("data-col") or ""] = (await cell.inner_text()).strip()
        cells.pop("goal")
        rows[template_id] = cells
    return rows


async def api_rows(
    stack: Stack, account: MarketingAccount, channel: int, span: dashboard_pb2.TimeRange
) -> list[dashboard_pb2.TemplatePerformance]:
    reply = await stack.dashboard.ListTemplatePerformance(
        dashboard_pb2.ListTemplatePerformanceRequest(
            account_id=account.account_id, channel=channel, range=span
        )
    )
    return list(reply.templates)


async def row_order(page: Page) -> list[int]:
    rows = page.locator("table[data-table=templates] tbody tr")
    return [int(await r.get_attribute("data-template-id") or 0) for r in await rows.all()]


async def test_a_marketer_signs_in_reads_sorts_drills_down_looks_up_and_signs_out(
    stack: Stack, chromium: Browser
) -> None:
    account = await marketing_account(stack)
    console = await stack.start_console()
    page = await chromium.new_page(viewport={"width": 1360, "height": 900})

    await page.goto(console.url + "/emails")
    assert page.url.endswith("/signin")
    await page.fill("#key", "su_0123456789ab_" + "x" * 43)
    await page.click("button[type=submit]")
    assert "That key was not accepted" in await page.inner_text("[role=alert]")
    await page.fill("#key", account.dashboard_key)
    await page.click("button[type=submit]")
    assert page.url.endswith("/emails")
    assert await page.inner_text("h1") == "Emails Dashboard"

    # Two days, through the custom range form: the same range the API is asked for.
    first, last, span = recent_days()
    await page.fill("input[name=from]", first)
    await page.fill("input[name=to]", last)
    await page.click(".custom button[type=submit]")
    await shot(page, "emails")
    emails = await api_rows(stack, account, common_pb2.CHANNEL_EMAIL, span)
    assert len(emails) == 4
    assert await table_cells(page) == {p.template_id: expected_cells(p) for p in emails}
    counted = emails[0].counted_range
    assert await page.inner_text("[data-counted]") == (
        f"Counted {formatting.minute(getattr(counted, 'from'))} \u2013 "
        f"{formatting.minute(counted.to)} (whole hours, UTC)"
    )
    # A few cells by hand, so the comparison above is not only format(API) == format(API).
    refer = (await table_cells(page))[account.templates["Refer a friend"]]
    assert refer["revenue"] == "€12,345.67"
    assert refer["goal_metric"] == "1 order"
    assert (refer["sent"], refer["clicks"], refer["rate"]) == ("3", "3", "33.3%")

    # Sorting: by messages sent, largest first (the default), then flipped (ties by name either
    # way); by name; by the goal's result, templates without a goal last.
    def order_by(
        key: Callable[[dashboard_pb2.TemplatePerformance], object], desc: bool
    ) -> list[int]:
        by_name = sorted(emails, key=lambda p: p.name.casefold())
        return [p.template_id for p in sorted(by_name, key=key, reverse=desc)]  # type: ignore[arg-type]

    assert await row_order(page) == order_by(lambda p: p.messages_sent, True)  # the default
    await page.click("a[data-sort=sent]")
    assert await row_order(page) == order_by(lambda p: p.messages_sent, False)
    await page.click("a[data-sort=name]")
    assert await row_order(page) == order_by(lambda p: 0, False)
    await page.click("a[data-sort=goal_metric]")
    by_result = order_by(lambda p: p.conversions if p.goal else -1, True)
    assert await row_order(page) == by_result
    assert by_result[0] == account.templates["Share your reward"]
    assert by_result[-1] == account.templates["Monthly news"]
    # The range changes and the sort stays.
    await page.click("a.pill:has-text('7 days')")
    assert "range=7d" in page.url and "sort=goal_metric" in page.url
    assert "Counted" in await page.inner_text("[data-counted]")
    assert len(await row_order(page)) == 4

    # The SMS dashboard: its one template, the API's numbers.
    await page.click("nav >> text=SMS")
    await page.fill("input[name=from]", first)
    await page.fill("input[name=to]", last)
    await page.click(".custom button[type=submit]")
    await shot(page, "sms")
    sms = await api_rows(stack, account, common_pb2.CHANNEL_SMS, span)
    assert await table_cells(page) == {p.template_id: expected_cells(p) for p in sms}
    assert [p.name for p in sms] == ["SMS invite"]

    # A template: its goal's figure front and centre, its chart, its outcomes.
    await page.click("nav >> text=Emails")
    await page.click("text=Refer a friend")
    await shot(page, "template")
    assert await page.inner_text("h1") == "Refer a friend"
    performance = await stack.dashboard.GetTemplatePerformance(
        dashboard_pb2.GetTemplatePerformanceRequest(
            account_id=account.account_id,
            template_id=account.templates["Refer a friend"],
            range=span,
        )
    )
    headline = page.locator("[data-figure=goal_metric] .big")
    assert await headline.inner_text() == f"{performance.conversions:,}"
    assert await page.inner_text("[data-figure=revenue]") == "€12,345.67"
    for chart in ("sent", "clicks", "goal"):
        bars = page.locator(f"figure[data-chart={chart}] rect")
        assert await bars.count() >= 1, chart
        assert "1" in (await bars.first.locator("title").text_content() or "")
    orders = page.locator("[data-outcome=orders] td")
    assert [await c.inner_text() for c in await orders.all()] == ["1", "1 unique buyers"]

    # Why did this order count?
    await page.click("nav >> text=Why did it (not) count?")
    await page.select_option("select[name=kind]", "order")
    await page.fill("input[name=id]", account.order_id)
    await page.click("form.lookup button[type=submit]")
    await shot(page, "conversion")
    explained = await stack.dashboard.ExplainConversion(
        dashboard_pb2.ExplainConversionRequest(
            account_id=account.account_id,
            kind=conversions_pb2.CONVERSION_KIND_ORDER,
            external_id=account.order_id,
        )
    )
    assert await page.inner_text("[data-summary]") == explained.summary
    assert await page.get_attribute("[data-verdict]", "data-verdict") == "counted"
    steps = await page.locator("ol.chain .step-title").all_inner_texts()
    assert steps == [
        f"Message {explained.message_id} sent",
        "The advocate tapped the share button",
        "A friend clicked the shared link",
        f"Order {account.order_id}",
    ]

    # Another account's template does not exist for this one.
    other = await stack.account(domain="other.example")
    link = templates_pb2.TemplateLink(
        name="read", kind=common_pb2.LINK_KIND_TRACKED, destination_url="https://other.example/"
    )
    foreign = await stack.template(other.account_id, 0, [link], name="Not yours")
    response = await page.goto(f"{console.url}/templates/{foreign.template_id}")
    assert response is not None and response.status == 404
    assert "Not yours" not in await page.content()

    await page.click("text=Sign out")
    assert "You are signed out." in await page.inner_text(".note")
    await page.goto(console.url + "/emails")
    assert page.url.endswith("/signin")


async def test_the_numbers_read_without_javascript(stack: Stack, chromium: Browser) -> None:
    account = await marketing_account(stack)
    console = await stack.start_console()
    context = await chromium.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(console.url + "/signin")
    await page.fill("#key", account.dashboard_key)
    await page.click("button[type=submit]")
    await page.click("text=Welcome series")
    assert await page.inner_text("[data-figure=sent]") == "4"
    assert await page.inner_text("[data-figure=goal_metric] .big") == "1"
    # The chart's numbers are in the page itself: a table, and a title per bar.
    await page.click("details summary")
    rows = page.locator("table[data-table=series] tbody tr")
    assert await rows.count() >= 1
    titles = await page.locator("figure[data-chart=sent] rect title").all_text_contents()
    assert titles and titles[-1].endswith(": 4")
    await context.close()
