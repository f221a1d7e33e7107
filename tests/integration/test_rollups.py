"""The hourly rollups the dashboards read: they agree with the raw facts after any mix
of traffic and outcomes (reconcile), time series add up to the totals, lists sort and
filter, and no dashboard figure is counted from raw clicks."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import uuid_utils

from control.domain.click_ingest import ingest_clicks
from control.domain.dashboard import ceil_to, floor_to
from control.domain.rollup_repair import Difference, rebuild_pending, reconcile
from signing.sources import mint_source
from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2, templates_pb2
from tests.integration.test_attribution_rules import (
    DAY,
    ENROLLMENT,
    HOUR,
    REFERRAL,
    TRACKED,
    WHATSAPP,
    click_row,
    edge_click,
    expect_error,
    from_ts,
    new_template,
    order,
    performance,
    query,
    revenue,
    send_batch,
    share_tap,
    signup,
    smart_url_id,
    source_of,
    time_range,
    ts,
)
from tests.integration.test_edge import message_held
from tests.support import KEYS, Stack
from tests.unit.classifier.test_classify import BOTS, HUMANS, PREVIEWS, SCANNERS

R = conversions_pb2
X_SHARE = templates_pb2.TemplateLink(
    name="x",
    kind=common_pb2.LINK_KIND_SHARE,
    network=common_pb2.SHARE_NETWORK_X,
    destination_url="https://shop.example/x",
    share_text="Look:",
)
# Refusals a random caller can run into; anything else fails the test.
EXPECTED_REFUSALS = {
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.ALREADY_EXISTS,
}


def uuid7_at(moment: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 of a given millisecond, as an edge clicking at that moment would make."""
    millis = int(moment.timestamp() * 1000)
    value = (millis << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return uuid.UUID(int=value)


# A randomized workload ------------------------------------------------------------------


@dataclass
class Sent:
    account_id: int
    template_id: int
    message_id: str
    links: dict[str, str]
    shortcode: str
    main_link: str = ""


@dataclass
class Workload:
    stack: Stack
    rng: random.Random
    accounts: list[int] = field(default_factory=list)
    messages: list[Sent] = field(default_factory=list)
    # (account, mbsy_source, the advocate's shortcode)
    sources: list[tuple[int, str, str]] = field(default_factory=list)
    referrals: list[tuple[Sent, str]] = field(default_factory=list)
    outcomes: list[Any] = field(default_factory=list)  # requests recorded, for replays
    orders: list[tuple[int, str]] = field(default_factory=list)
    refund_ids: list[tuple[int, str, str, int]] = field(default_factory=list)
    pending: list[Any] = field(default_factory=list)  # clicks of orders made first
    edge_requests: int = 0
    direct_clicks: int = 0
    counter: int = 0
    seq: int = 0
    log: list[str] = field(default_factory=list)

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def agent(self) -> str:
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.choice(HUMANS)
        if roll < 0.8:
            return self.rng.choice(BOTS)
        if roll < 0.9:
            return self.rng.choice(sorted(PREVIEWS))
        return self.rng.choice(sorted(SCANNERS))

    async def setup(self) -> None:
        now = datetime.now(UTC)
        for domain in ("share.acme.example", "share.other.example"):
            account = await self.stack.account(domain=domain)
            a = account.account_id
            self.accounts.append(a)
            specs = [
                ("shares", common_pb2.CHANNEL_EMAIL, common_pb2.GOAL_ADVOCATE_SHARE,
                 [WHATSAPP, X_SHARE, REFERRAL]),
                ("signups", common_pb2.CHANNEL_SMS, common_pb2.GOAL_SIGNUPS, [ENROLLMENT, TRACKED]),
                ("orders", common_pb2.CHANNEL_EMAIL, common_pb2.GOAL_ORDERS, [REFERRAL, WHATSAPP]),
            ]  # fmt: skip
            for name, channel, goal, links in specs:
                window = self.rng.choice([0, 3600, 86400, 7 * 86400])
                template = await new_template(
                    self.stack, a, goal, links, window=window, channel=channel, name=name
                )
                for _ in range(12):
                    message_id = self.next_id("m")
                    shortcode = self.rng.choice(["JANE42", "BOB7", "ANA1"])
                    [sent_ago] = self.rng.choices(
                        [
                            timedelta(seconds=1),  # its clicks in the next seconds: scanners
                            timedelta(minutes=30),
                            timedelta(hours=3),
                            timedelta(days=2),
                            timedelta(days=40),
                        ],
                        [1, 3, 3, 3, 2],
                    )
                    links_ = await self.stack.mint(
                        a, template.template_id, message_id, shortcode, sent_ago
                    )
                    main_link = self.rng.choice(sorted(links_))
                    self.messages.append(
                        Sent(a, template.template_id, message_id, links_, shortcode, main_link)
                    )
        self.log.append(f"setup at {now.isoformat()}")

    # Each action draws its random choices before its first await and returns what it
    # found, so a group of concurrent actions changes the shared lists in a fixed order.

    def click(self) -> Callable[[], Awaitable[list[Any]]]:
        message = self.rng.choice(self.messages)
        # Mostly the message's main link: different links of one message within
        # seconds are a burst, which the burst action makes on purpose.
        if self.rng.random() < 0.85:
            name = message.main_link
        else:
            name = self.rng.choice(sorted(message.links))
        agent = self.agent()
        method = "HEAD" if self.rng.random() < 0.05 else "GET"
        self.edge_requests += 1
        return lambda: self._click(message, name, agent, method)

    async def _click(self, message: Sent, name: str, agent: str, method: str) -> list[Any]:
        response = await self.stack.click(message.links[name], user_agent=agent, method=method)
        return self._found(message, response)

    def _found(self, message: Sent, response: Any) -> list[Any]:
        if response.status_code != 302:
            return []
        location = response.headers["location"]
        found: list[Any] = []
        q = query(location)
        if "mbsy_source" in q:
            found.append(("source", (message.account_id, q["mbsy_source"], message.shortcode)))
        if location.startswith("https://wa.me/"):
            found.append(("referral", (message, q["text"].split(" ")[-1])))
        elif location.startswith("https://x.com/"):
            found.append(("referral", (message, q["url"])))
        return found

    def burst(self) -> Callable[[], Awaitable[list[Any]]]:
        message = self.rng.choice([m for m in self.messages if len(m.links) > 1])
        first, second = self.rng.sample(sorted(message.links), 2)
        agent = self.rng.choice(HUMANS)
        self.edge_requests += 2

        async def run() -> list[Any]:
            found = await self._click(message, first, agent, "GET")
            return found + await self._click(message, second, agent, "GET")

        return run

    def friend(self) -> Callable[[], Awaitable[list[Any]]] | None:
        if not self.referrals:
            return None
        message, url = self.rng.choice(self.referrals)
        agent = self.rng.choice(HUMANS) if self.rng.random() < 0.8 else self.agent()
        self.edge_requests += 1

        async def run() -> list[Any]:
            return self._found(message, await self.stack.click(url, user_agent=agent))

        return run

    def _source(self) -> tuple[int, str, str]:
        roll = self.rng.random()
        if roll < 0.75 and self.sources:
            account_id, source, shortcode = self.rng.choice(self.sources)
            if self.rng.random() < 0.05:  # another account's source
                account_id = self.rng.choice(self.accounts)
            return account_id, source, shortcode
        account_id = self.rng.choice(self.accounts)
        if roll < 0.85:
            return account_id, "", ""
        if roll < 0.92:
            return account_id, "newsletter", ""
        return account_id, "A" * 37, ""  # shaped like a source, not minted

    def _occurred(self) -> datetime | None:
        now = datetime.now(UTC)
        return self.rng.choice(
            [
                None,
                now - self.rng.uniform(0, 2) * HOUR,
                now - self.rng.uniform(2, 72) * HOUR,
                now - self.rng.uniform(20, 45) * DAY,
            ]
        )

    def outcome(self) -> Callable[[], Awaitable[list[Any]]]:
        if self.outcomes and self.rng.random() < 0.1:
            replayed = self.rng.choice(self.outcomes)
            return lambda: self._record(replayed)
        account_id, source, shortcode = self._source()
        customer = self.rng.choice(["", "", "c-1", "c-2", "c-3"])
        if self.rng.random() < 0.4:
            request = signup(
                account_id,
                self.next_id("su"),
                source,
                customer_id=customer,
                occurred_at=self._occurred(),
            )
        else:
            if shortcode and self.rng.random() < 0.1:
                shortcode = "SOMEONE"
            request = order(
                account_id,
                self.next_id("o"),
                source,
                amount=self.rng.choice([0, self.rng.randint(1, 10_000)]),
                currency=self.rng.choice(["USD", "USD", "EUR"]),
                shortcode=shortcode or self.rng.choice(["", "JANE42"]),
                customer_id=customer,
                occurred_at=self._occurred(),
            )
        return lambda: self._record(request)

    async def _record(self, request: Any) -> list[Any]:
        if isinstance(request, conversions_pb2.RecordOrderRequest):
            recorded = await self.stack.conversions.RecordOrder(request)
            return [("outcome", request), ("order", (request.account_id, request.order_id))]
        recorded = await self.stack.conversions.RecordSignup(request)
        assert recorded.conversion_id
        return [("outcome", request)]

    def race(self) -> Callable[[], Awaitable[list[Any]]]:
        """An order or signup whose click reaches the control plane later."""
        message = self.rng.choice(self.messages)
        names = [n for n in sorted(message.links) if n in ("ref", "join")]
        if not names:
            return self.click()
        link_id = smart_url_id(message.links[self.rng.choice(names)])
        click_id = uuid7_at(datetime.now(UTC), self.rng)
        source = mint_source(KEYS, link_id, click_id.bytes)
        hit_class = self.rng.choice(["human", "human", "bot", "scanner", "preview"])
        self.pending.append(
            edge_click(click_id.bytes, link_id, datetime.now(UTC), hit_class, "Mozilla/5.0")
        )
        self.sources.append((message.account_id, source, message.shortcode))
        request = order(
            message.account_id,
            self.next_id("o"),
            source,
            amount=self.rng.randint(1, 5000),
            shortcode=message.shortcode,
            customer_id=self.rng.choice(["", "c-1"]),
        )
        return lambda: self._record(request)

    def land(self) -> Callable[[], Awaitable[list[Any]]] | None:
        """Sends some of the pending clicks, and sometimes clicks from past hours."""
        batch = [self.pending.pop(self.rng.randrange(len(self.pending)))] if self.pending else []
        for _ in range(self.rng.randint(0, 3)):
            message = self.rng.choice(self.messages)
            link_id = smart_url_id(message.links[self.rng.choice(sorted(message.links))])
            clicked_at = datetime.now(UTC) - self.rng.uniform(0, 96) * HOUR
            batch.append(
                edge_click(
                    uuid7_at(clicked_at, self.rng).bytes,
                    link_id,
                    clicked_at,
                    self.rng.choice(["human", "human", "bot", "scanner", "preview"]),
                )
            )
        if not batch:
            return None
        self.direct_clicks += len(batch)
        self.seq += 1
        seq = self.seq

        async def run() -> list[Any]:
            ack = await send_batch(self.stack, batch, seq)
            assert ack.stored == len(batch)
            return []

        return run

    def cancel(self) -> Callable[[], Awaitable[list[Any]]] | None:
        if not self.orders:
            return None
        account_id, order_id = self.rng.choice(self.orders)
        request = R.CancelOrderRequest(account_id=account_id, order_id=order_id)

        async def run() -> list[Any]:
            await self.stack.conversions.CancelOrder(request)
            return []

        return run

    def refund(self) -> Callable[[], Awaitable[list[Any]]] | None:
        if not self.orders:
            return None
        if self.refund_ids and self.rng.random() < 0.2:
            account_id, order_id, refund_id, amount = self.rng.choice(self.refund_ids)
        else:
            account_id, order_id = self.rng.choice(self.orders)
            refund_id = self.next_id("r")
            amount = self.rng.choice([0, self.rng.randint(1, 3000)])
        request = R.RefundOrderRequest(
            account_id=account_id, order_id=order_id, refund_id=refund_id, amount_minor=amount
        )

        async def run() -> list[Any]:
            try:
                await self.stack.conversions.RefundOrder(request)
            except grpc.aio.AioRpcError as error:
                if error.code() not in EXPECTED_REFUSALS:
                    raise
                return []
            return [("refund", (account_id, order_id, refund_id, amount))]

        return run

    def action(self) -> Callable[[], Awaitable[list[Any]]] | None:
        choices: list[tuple[float, Callable[[], Any]]] = [
            (30, self.click),
            (5, self.burst),
            (8, self.friend),
            (25, self.outcome),
            (6, self.race),
            (6, self.land),
            (6, self.cancel),
            (8, self.refund),
        ]
        [make] = self.rng.choices([c for _, c in choices], [w for w, _ in choices])
        made: Callable[[], Awaitable[list[Any]]] | None = make()
        return made

    def absorb(self, found: list[Any]) -> None:
        for kind, value in found:
            if kind == "source":
                self.sources.append(value)
            elif kind == "referral" and value not in self.referrals:
                self.referrals.append(value)
            elif kind == "outcome":
                self.outcomes.append(value)
            elif kind == "order" and value not in self.orders:
                self.orders.append(value)
            elif kind == "refund":
                self.refund_ids.append(value)

    async def run(self, steps: int) -> None:
        done = 0
        while done < steps:
            group = [a for a in (self.action() for _ in range(self.rng.choice([1, 1, 2, 3]))) if a]
            done += len(group) or 1
            for found in await asyncio.gather(*(a() for a in group)):
                self.absorb(found)
        while self.pending:  # every click an order was made from lands in the end
            landing = self.land()
            assert landing is not None
            await landing()
        await self.stack.wait_for_clicks(self.edge_requests + self.direct_clicks, timeout=30)


def workload_seeds() -> list[int]:
    seeds = [11, 2026, 90125]
    if os.environ.get("SMARTURLS_TEST_SEED"):
        seeds.append(int(os.environ["SMARTURLS_TEST_SEED"]))
    return seeds


@pytest.mark.parametrize("seed", workload_seeds())
async def test_rollups_reconcile_after_a_random_workload(stack: Stack, seed: int) -> None:
    workload = Workload(stack, random.Random(seed))
    await workload.setup()
    await workload.run(steps=160)
    async with stack.db.acquire() as conn:
        differences = await reconcile(conn, workload.accounts, horizon=None, fix=False)
    assert differences == [], f"seed {seed} (SMARTURLS_TEST_SEED={seed} to add it): {differences}"

    # The workload did reach the cases it is meant to mix.
    kinds = {r[0] for r in await stack.db.fetch("SELECT DISTINCT kind FROM conversions")}
    classes = {r[0] for r in await stack.db.fetch("SELECT DISTINCT hit_class FROM clicks")}
    assert kinds == {"SHARE", "SIGNUP", "ORDER"}, f"seed {seed}"
    assert {"human", "bot", "scanner", "preview"} <= classes, f"seed {seed}"
    reasons = {
        r[0] for r in await stack.db.fetch("SELECT DISTINCT unattributed_reason FROM conversions")
    }
    assert len(reasons) >= 5, f"seed {seed}: {reasons}"
    changed = await stack.db.fetchrow(
        "SELECT count(*) FILTER (WHERE cancelled_at IS NOT NULL) AS cancelled,"
        " count(*) FILTER (WHERE refunded_minor > 0) AS refunded FROM conversions"
    )
    assert changed["cancelled"] and changed["refunded"], f"seed {seed}"


async def small_history(stack: Stack) -> tuple[int, int, dict[str, str]]:
    """An account with clicks (human and bot), an order, a signup and a share tap."""
    account = await stack.account()
    a = account.account_id
    template = await new_template(
        stack, a, common_pb2.GOAL_ORDERS, [REFERRAL, WHATSAPP, ENROLLMENT]
    )
    t = template.template_id
    links = await stack.mint(a, t, "m-1")
    other = await stack.mint(a, t, "m-2")
    third = await stack.mint(a, t, "m-3")
    source = await source_of(stack, links["ref"])
    await source_of(stack, links["ref"], user_agent="curl/8.5.0")
    await share_tap(stack, other["wa"])
    joined = await source_of(stack, third["join"])
    await stack.conversions.RecordOrder(order(a, "o-1", source, customer_id="b-1"))
    await stack.conversions.RecordOrder(order(a, "o-2", source, amount=1000, currency="EUR"))
    await stack.conversions.RecordSignup(signup(a, "su-1", joined))
    await stack.wait_for_clicks(4)
    return a, t, links


async def has_daily_rollups(conn: Any) -> bool:
    """Whether this schema also keeps the figures per UTC day (template_daily)."""
    return bool(await conn.fetchval("SELECT to_regclass('template_daily') IS NOT NULL"))


async def corrupt(conn: Any, a: int, figure: str, delta: int) -> Difference:
    """Adds delta to one figure of one of the account's rollup hours, the way a slip in
    the live path would: to the hour and to its day (when days are kept too)."""
    if figure.startswith("revenue:"):
        currency = figure.split(":", 1)[1]
        t, hour, value = await conn.fetchrow(
            "SELECT template_id, hour, revenue_minor FROM template_hourly_revenue"
            " WHERE account_id = $1 AND currency = $2 AND revenue_minor > 0 LIMIT 1",
            a,
            currency,
        )
        tables = [("template_hourly_revenue", "hour", hour)]
        if await has_daily_rollups(conn):
            tables.append(("template_daily_revenue", "day", floor_to(hour, DAY)))
        for table, period, moment in tables:
            await conn.execute(
                f"UPDATE {table} SET revenue_minor = revenue_minor + $4"
                f" WHERE account_id = $1 AND template_id = $2 AND {period} = $3"
                " AND currency = $5",
                a,
                t,
                moment,
                delta,
                currency,
            )
    else:
        t, hour, value = await conn.fetchrow(
            f"SELECT template_id, hour, {figure} FROM template_hourly"
            f" WHERE account_id = $1 AND {figure} > 0 LIMIT 1",
            a,
        )
        tables = [("template_hourly", "hour", hour)]
        if await has_daily_rollups(conn):
            tables.append(("template_daily", "day", floor_to(hour, DAY)))
        for table, period, moment in tables:
            await conn.execute(
                f"UPDATE {table} SET {figure} = {figure} + $4"
                f" WHERE account_id = $1 AND template_id = $2 AND {period} = $3",
                a,
                t,
                moment,
                delta,
            )
    return Difference(a, t, hour, figure, stored=int(value) + delta, recomputed=int(value))


def by_figure(differences: list[Difference]) -> list[Difference]:
    return sorted(differences, key=lambda d: (d.figure, d.hour))


async def test_reconcile_reports_exactly_what_was_corrupted_and_fix_repairs_it(
    stack: Stack,
) -> None:
    a, t, _ = await small_history(stack)
    now = datetime.now(UTC)
    async with stack.db.acquire() as conn:
        assert await reconcile(conn, [a], horizon=None, fix=False) == []
        before = await performance(stack, a, t, now - DAY, now + HOUR)

        clicks = await corrupt(conn, a, "clicks", +1)
        assert await reconcile(conn, [a], horizon=None, fix=False) == [clicks]
        assert await reconcile(conn, [a], horizon=None, fix=False) == [clicks]  # only reports
        assert await performance(stack, a, t, now - DAY, now + HOUR) != before

        # More kinds of damage: outcome figures and a currency's revenue.
        damage = [
            clicks,
            await corrupt(conn, a, "unique_buyers", +2),
            await corrupt(conn, a, "shares", -1),
            await corrupt(conn, a, "revenue:EUR", -1000),
        ]
        differences = await reconcile(conn, [a], horizon=None, fix=False)
        assert by_figure(differences) == by_figure(damage)
        # Another account's figures are not looked at.
        assert await reconcile(conn, [a + 1000], horizon=None, fix=False) == []

        assert by_figure(await reconcile(conn, [a], horizon=None, fix=True)) == by_figure(damage)
        assert await reconcile(conn, [a], horizon=None, fix=False) == []
    assert await performance(stack, a, t, now - DAY, now + HOUR) == before


async def test_reconcile_checks_the_daily_rollups_against_their_hours(stack: Stack) -> None:
    a, t, _ = await small_history(stack)
    async with stack.db.acquire() as conn:
        if not await has_daily_rollups(conn):
            pytest.skip("this schema keeps no daily rollups")
        day, clicks = await conn.fetchrow(
            "SELECT day, clicks FROM template_daily WHERE account_id = $1 AND clicks > 0", a
        )
        await conn.execute(
            "UPDATE template_daily SET clicks = clicks + 4 WHERE account_id = $1 AND day = $2",
            a,
            day,
        )
        assert await reconcile(conn, [a], horizon=None, fix=False) == [
            Difference(a, t, day, "daily:clicks", stored=clicks + 4, recomputed=clicks)
        ]
        assert len(await reconcile(conn, [a], horizon=None, fix=True)) == 1
        assert await reconcile(conn, [a], horizon=None, fix=False) == []


async def test_reconcile_skips_click_figures_before_the_horizon_only(stack: Stack) -> None:
    a, _, _ = await small_history(stack)
    async with stack.db.acquire() as conn:
        damage = [
            await corrupt(conn, a, "clicks", +5),
            await corrupt(conn, a, "bot_hits", -1),
            await corrupt(conn, a, "orders", +1),
        ]
        latest = max(d.hour for d in damage)
        # Retention may have dropped the raw clicks of hours before the horizon:
        # their click figures cannot be checked, their outcomes still can.
        after_it = await reconcile(conn, [a], horizon=latest + HOUR, fix=False)
        assert by_figure(after_it) == [damage[2]]
        earliest = min(d.hour for d in damage)
        at_it = await reconcile(conn, [a], horizon=earliest, fix=False)
        assert by_figure(at_it) == by_figure(damage)


# Time series ---------------------------------------------------------------------------


async def series(
    stack: Stack, a: int, t: int, since: datetime, until: datetime, bucket: int
) -> Any:
    return await stack.dashboard.GetTemplateTimeSeries(
        dashboard_pb2.GetTemplateTimeSeriesRequest(
            account_id=a, template_id=t, range=time_range(since, until), bucket=bucket
        )
    )


def assert_sums_match(points: list[Any], perf: Any) -> None:
    def total(name: str) -> int:
        return sum(getattr(p, name) for p in points)

    for name in ("messages_sent", "clicks", "unique_clickers", "shares", "signups", "orders"):
        assert total(name) == getattr(perf, name), name
    assert total("conversions") == perf.conversions
    assert total("non_human_hits") == sum(perf.non_human_hits.values())
    summed: dict[str, int] = {}
    for point in points:
        for r in point.revenue:
            summed[r.currency] = summed.get(r.currency, 0) + r.amount_minor
    assert summed == revenue(perf)


def as_performance(point: Any) -> Any:
    """A time-series point in the shape assert_sums_match compares against."""
    return dashboard_pb2.TemplatePerformance(
        messages_sent=point.messages_sent,
        clicks=point.clicks,
        unique_clickers=point.unique_clickers,
        shares=point.shares,
        signups=point.signups,
        orders=point.orders,
        conversions=point.conversions,
        revenue=point.revenue,
        non_human_hits={"all": point.non_human_hits} if point.non_human_hits else {},
    )


async def test_time_series_has_every_bucket_and_adds_up_to_the_totals(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_ORDERS, [REFERRAL, TRACKED])
    t = template.template_id
    recent = await stack.mint(a, t, "m-a", sent_ago=5 * HOUR)
    older = await stack.mint(a, t, "m-b", sent_ago=2 * DAY)
    oldest = await stack.mint(a, t, "m-c", sent_ago=3 * DAY + 5 * HOUR)
    source = await source_of(stack, recent["ref"])
    await stack.click(older["blog"])
    await stack.click(oldest["ref"], user_agent="curl/8.5.0")
    now = datetime.now(UTC)
    thirty_hours_ago = now - 30 * HOUR
    rng = random.Random(5)
    await send_batch(
        stack,
        [
            edge_click(
                uuid7_at(thirty_hours_ago, rng).bytes,
                smart_url_id(older["ref"]),
                thirty_hours_ago,
            )
        ],
    )
    placed = {
        "o-1": (now - HOUR, 1000, "USD"),
        "o-2": (now - 26 * HOUR, 500, "EUR"),
        "o-3": (now - 50 * HOUR, 300, "USD"),
        "o-4": (now - 50 * HOUR, 99, "USD"),
    }
    for order_id, (moment, amount, currency) in placed.items():
        await stack.conversions.RecordOrder(
            order(a, order_id, source, occurred_at=moment, amount=amount, currency=currency)
        )
    await stack.conversions.CancelOrder(R.CancelOrderRequest(account_id=a, order_id="o-4"))
    await stack.wait_for_clicks(4)

    since, until = now - 80 * HOUR, now + timedelta(minutes=10)
    perf = await performance(stack, a, t, since, until)
    assert (perf.messages_sent, perf.clicks, perf.unique_clickers, perf.orders) == (3, 3, 2, 3)
    hourly = await series(stack, a, t, since, until, dashboard_pb2.BUCKET_HOUR)
    assert (hourly.template_id, hourly.goal, hourly.bucket) == (
        t,
        common_pb2.GOAL_ORDERS,
        dashboard_pb2.BUCKET_HOUR,
    )
    starts = [from_ts(p.start) for p in hourly.points]
    first, end = floor_to(since, HOUR), ceil_to(until, HOUR)
    assert starts == [first + i * HOUR for i in range(int((end - first) / HOUR))]
    assert_sums_match(list(hourly.points), perf)
    by_start = {from_ts(p.start): p for p in hourly.points}
    eur = by_start[floor_to(now - 26 * HOUR, HOUR)]
    assert (eur.orders, eur.conversions, [(r.currency, r.amount_minor) for r in eur.revenue]) == (
        1,
        1,
        [("EUR", 500)],
    )
    assert by_start[floor_to(thirty_hours_ago, HOUR)].clicks == 1

    # Days: a range of whole UTC days counts the same facts as the performance.
    today = floor_to(now, DAY)
    day_since, day_until = today - 4 * DAY, today + DAY
    daily = await series(stack, a, t, day_since, day_until, dashboard_pb2.BUCKET_DAY)
    assert [from_ts(p.start) for p in daily.points] == [day_since + i * DAY for i in range(5)]
    assert_sums_match(list(daily.points), await performance(stack, a, t, day_since, day_until))
    # Each day is the sum of its hours.
    hours = await series(stack, a, t, day_since, day_until, dashboard_pb2.BUCKET_HOUR)
    assert len(hours.points) == 5 * 24
    for i, day in enumerate(daily.points):
        assert_sums_match(list(hours.points[24 * i : 24 * (i + 1)]), as_performance(day))

    # An unaligned range is widened to whole days; unspecified means days.
    widened = await series(stack, a, t, since, until, dashboard_pb2.BUCKET_UNSPECIFIED)
    assert widened.bucket == dashboard_pb2.BUCKET_DAY
    day_first, day_end = floor_to(since, DAY), ceil_to(until, DAY)
    assert [from_ts(p.start) for p in widened.points] == [
        day_first + i * DAY for i in range(int((day_end - day_first) / DAY))
    ]

    await expect_error(
        series(stack, a, t, now - 500 * DAY, now, dashboard_pb2.BUCKET_HOUR),
        grpc.StatusCode.INVALID_ARGUMENT,
        "range",
    )
    await expect_error(
        series(stack, a, t + 1000, since, until, dashboard_pb2.BUCKET_HOUR),
        grpc.StatusCode.NOT_FOUND,
        "template_id",
    )


# Lists ----------------------------------------------------------------------------------


async def test_list_sorts_and_filters_by_channel(stack: Stack) -> None:
    account = await stack.account()
    a = account.account_id
    specs = [  # name, channel, human clicks
        ("beta", common_pb2.CHANNEL_EMAIL, 1),
        ("Alpha", common_pb2.CHANNEL_SMS, 3),
        ("gamma", common_pb2.CHANNEL_EMAIL, 3),
        ("delta", common_pb2.CHANNEL_SMS, 0),
    ]
    clicks = 0
    for name, channel, count in specs:
        template = await new_template(
            stack, a, common_pb2.GOAL_UNSPECIFIED, [TRACKED], channel=channel, name=name
        )
        links = await stack.mint(a, template.template_id, f"m-{name}")
        for _ in range(count):
            await stack.click(links["blog"])
            clicks += 1
    await stack.wait_for_clicks(clicks)

    async def listed(
        sort_by: int, descending: bool = False, channel: int = common_pb2.CHANNEL_UNSPECIFIED
    ) -> list[tuple[str, int]]:
        reply = await stack.dashboard.ListTemplatePerformance(
            dashboard_pb2.ListTemplatePerformanceRequest(
                account_id=a, sort_by=sort_by, descending=descending, channel=channel
            )
        )
        return [(t.name, t.clicks) for t in reply.templates]

    by_clicks = [("Alpha", 3), ("gamma", 3), ("beta", 1), ("delta", 0)]
    assert await listed(dashboard_pb2.SORT_BY_CLICKS, descending=True) == by_clicks
    # Ties keep the order templates were created in, either way round.
    assert await listed(dashboard_pb2.SORT_BY_CLICKS) == [
        ("delta", 0),
        ("beta", 1),
        ("Alpha", 3),
        ("gamma", 3),
    ]
    by_name = [("Alpha", 3), ("beta", 1), ("delta", 0), ("gamma", 3)]  # case-insensitive
    assert await listed(dashboard_pb2.SORT_BY_NAME) == by_name
    assert await listed(dashboard_pb2.SORT_BY_UNSPECIFIED) == by_name
    assert await listed(dashboard_pb2.SORT_BY_NAME, descending=True) == by_name[::-1]
    assert await listed(dashboard_pb2.SORT_BY_NAME, channel=common_pb2.CHANNEL_SMS) == [
        ("Alpha", 3),
        ("delta", 0),
    ]
    assert await listed(
        dashboard_pb2.SORT_BY_CLICKS, descending=True, channel=common_pb2.CHANNEL_EMAIL
    ) == [("gamma", 3), ("beta", 1)]
    # Another account sees none of them.
    other = await stack.account(domain="share.other.example")
    reply = await stack.dashboard.ListTemplatePerformance(
        dashboard_pb2.ListTemplatePerformanceRequest(account_id=other.account_id)
    )
    assert list(reply.templates) == []


# Rollups, not raw clicks ---------------------------------------------------------------


async def test_dashboards_do_not_read_raw_clicks(stack: Stack) -> None:
    a, t, _ = await small_history(stack)
    now = datetime.now(UTC)
    since, until = now - DAY, now + HOUR
    perf = await performance(stack, a, t, since, until)
    assert (perf.clicks, perf.unique_clickers, perf.shares, perf.orders) == (3, 3, 1, 2)
    assert dict(perf.non_human_hits) == {"bot": 1}
    hourly = await series(stack, a, t, since, until, dashboard_pb2.BUCKET_HOUR)
    listed = await stack.dashboard.ListTemplatePerformance(
        dashboard_pb2.ListTemplatePerformanceRequest(account_id=a, range=time_range(since, until))
    )

    assert await stack.db.execute("DELETE FROM clicks") == "DELETE 4"
    assert await performance(stack, a, t, since, until) == perf
    assert await series(stack, a, t, since, until, dashboard_pb2.BUCKET_HOUR) == hourly
    assert (
        await stack.dashboard.ListTemplatePerformance(
            dashboard_pb2.ListTemplatePerformanceRequest(
                account_id=a, range=time_range(since, until)
            )
        )
        == listed
    )
    # Explaining still works; it says the click is no longer stored.
    explained = await stack.dashboard.ExplainConversion(
        dashboard_pb2.ExplainConversionRequest(
            account_id=a, kind=R.CONVERSION_KIND_ORDER, external_id="o-1"
        )
    )
    assert explained.conversion.counted and not explained.click.stored


def test_uuid7_at_makes_version_7_ids_of_that_millisecond() -> None:
    moment = datetime(2026, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    made = uuid7_at(moment, random.Random(1))
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert made.int >> 80 == int(moment.timestamp() * 1000)
    assert ts(moment).ToDatetime(tzinfo=UTC) == moment


async def test_an_upgraded_account_gets_its_rollups_built_before_retention_runs(
    stack: Stack,
) -> None:
    """Facts stored before rollups existed (migration 0003 marks their accounts
    pending): the maintenance loop builds their rollups, then reconcile agrees."""
    a, t, _ = await small_history(stack)
    now = datetime.now(UTC)
    expected = await performance(stack, a, t, now - DAY, now + HOUR)
    async with stack.db.acquire() as conn:
        # As before the upgrade: no rollups, no first clicks, the account pending.
        for table in (
            "template_hourly",
            "template_daily",
            "template_hourly_revenue",
            "template_daily_revenue",
        ):
            await conn.execute(f"DELETE FROM {table}")
        await conn.execute("UPDATE messages SET first_click_at = NULL")
        await conn.execute("INSERT INTO rollups_pending VALUES ($1)", a)
        assert (await performance(stack, a, t, now - DAY, now + HOUR)).clicks == 0

        assert await rebuild_pending(conn) == [a]
        assert await rebuild_pending(conn) == []  # done once
        assert await reconcile(conn, [a], None, fix=False) == []
    assert await performance(stack, a, t, now - DAY, now + HOUR) == expected


async def waiting_on(stack: Stack, event: str, count: int) -> None:
    """Until `count` sessions wait on a lock of this kind (pg_stat_activity)."""
    for _ in range(500):
        waiting = await stack.db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND wait_event = $1",
            event,
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no session waits on a {event} lock")


async def test_an_earlier_first_click_stored_beside_a_later_one_moves_the_unique_clicker(
    stack: Stack,
) -> None:
    """Two batches with human clicks of one message, stored at once: the later
    click's batch moved the first click while the earlier one's read it. The
    unique clicker ends in the earlier click's hour, counted once."""
    account = await stack.account()
    a = account.account_id
    template = await new_template(stack, a, common_pb2.GOAL_UNSPECIFIED, [TRACKED])
    t = template.template_id
    hour = floor_to(datetime.now(UTC) - 3 * HOUR, HOUR)
    links = await stack.mint(a, t, "m-1", sent_ago=5 * HOUR)
    link_id = smart_url_id(links["blog"])
    early, late = hour + timedelta(minutes=10), hour + timedelta(minutes=70)
    partitions = stack.deps.partitions

    async with message_held(stack, a, "m-1"):
        later = asyncio.create_task(
            ingest_clicks(
                stack.db, partitions, [click_row(uuid_utils.uuid7().bytes, link_id, late, "human")]
            )
        )
        # It has moved the message's first click to its hour and waits for the
        # message lock, holding the row.
        await waiting_on(stack, "advisory", 1)
        earlier = asyncio.create_task(
            ingest_clicks(
                stack.db, partitions, [click_row(uuid_utils.uuid7().bytes, link_id, early, "human")]
            )
        )
        await waiting_on(stack, "transactionid", 1)
    await asyncio.gather(later, earlier)

    assert await stack.db.fetchval("SELECT first_click_at FROM messages") == early
    rows = await stack.db.fetch(
        "SELECT hour, unique_clickers FROM template_hourly WHERE account_id = $1"
        " AND unique_clickers <> 0",
        a,
    )
    assert [(r["hour"], r["unique_clickers"]) for r in rows] == [(hour, 1)]
    async with stack.db.acquire() as conn:
        assert await reconcile(conn, [a], None, fix=False) == []
