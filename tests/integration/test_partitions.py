"""Clicks in weekly partitions: where they land, partitions made ahead, whole weeks
dropped past retention while the rollups keep the figures, and batches older than
retention acknowledged without being stored."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from control.domain.click_ingest import IngestResult, ingest_clicks
from control.domain.dashboard import floor_to
from control.domain.partitions import AHEAD, WEEK, ClickPartitions, partition_name, week_start
from control.domain.rollup_repair import reconcile
from smarturls.v1 import common_pb2
from tests.integration.test_attribution_rules import (
    DAY,
    HOUR,
    TRACKED,
    click_row,
    edge_click,
    mint_at,
    new_template,
    performance,
    send_batch,
    smart_url_id,
)
from tests.integration.test_rollups import uuid7_at
from tests.support import Stack

RETENTION_DAYS = 30


async def partitions_of_clicks(stack: Stack) -> set[str]:
    rows = await stack.db.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'clicks'::regclass"
    )
    return {r[0] for r in rows}


async def tracked_link(stack: Stack, *messages: str, sent_ago: timedelta = 90 * DAY) -> Any:
    """An account and template with one tracked link; the link of each message."""
    account = await stack.account()
    template = await new_template(stack, account.account_id, common_pb2.GOAL_UNSPECIFIED, [TRACKED])
    sent_at = datetime.now(UTC) - sent_ago
    links = [
        smart_url_id(
            (await mint_at(stack, account.account_id, template.template_id, m, sent_at))["blog"]
        )
        for m in messages
    ]
    return account.account_id, template.template_id, links


def clicks_at(link_id: int, *moments: datetime) -> list[Any]:
    rng = random.Random(len(moments))
    return [edge_click(uuid7_at(m, rng).bytes, link_id, m) for m in moments]


async def test_clicks_land_in_the_partition_of_their_week(stack: Stack) -> None:
    account = await stack.account()
    template = await new_template(stack, account.account_id, common_pb2.GOAL_UNSPECIFIED, [TRACKED])
    links = await mint_at(
        stack, account.account_id, template.template_id, "m-1", datetime.now(UTC) - 30 * DAY
    )
    assert (await stack.click(links["blog"])).status_code == 302
    await stack.wait_for_clicks(1)
    # Either side of a week's first microsecond (Monday 00:00 UTC), and a week long ago.
    monday = week_start(datetime.now(UTC))
    edges = [monday - timedelta(microseconds=1), monday, monday - 3 * WEEK + HOUR]
    ack = await send_batch(stack, clicks_at(smart_url_id(links["blog"]), *edges))
    assert ack.stored == 3

    rows = await stack.db.fetch("SELECT tableoid::regclass::text AS part, clicked_at FROM clicks")
    assert len(rows) == 4
    for row in rows:
        start = week_start(row["clicked_at"])
        assert row["part"] == partition_name(start), row
        assert start.weekday() == 0 and start.time() == datetime.min.time()
    by_time = {r["clicked_at"]: r["part"] for r in rows}
    assert by_time[monday] == partition_name(monday)
    assert by_time[monday - timedelta(microseconds=1)] == partition_name(monday - WEEK)

    names = await partitions_of_clicks(stack)
    assert {r["part"] for r in rows} <= names
    for name in names:
        match = re.fullmatch(r"clicks_(\d{8})", name)
        assert match, name
        assert datetime.strptime(match.group(1), "%Y%m%d").weekday() == 0, name
    bounds = await stack.db.fetchval(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.relname = $1",
        partition_name(monday),
    )
    assert bounds == (
        f"FOR VALUES FROM ('{monday:%Y-%m-%d} 00:00:00+00')"
        f" TO ('{monday + WEEK:%Y-%m-%d} 00:00:00+00')"
    )


async def test_maintenance_makes_weeks_ahead_and_drops_only_whole_expired_weeks(
    stack: Stack,
) -> None:
    a, t, (old_link, new_link) = await tracked_link(stack, "m-old", "m-new")
    now = datetime.now(UTC)
    horizon = week_start(now - timedelta(days=RETENTION_DAYS))
    long_ago = now - 70 * DAY
    just_before = horizon - HOUR  # in the last week wholly before the horizon
    just_after = horizon + HOUR  # in the week that straddles it: kept
    ack = await send_batch(stack, clicks_at(old_link, long_ago, just_before))
    assert ack.stored == 2
    ack = await send_batch(stack, clicks_at(new_link, just_after, now - 20 * DAY, now), 2)
    assert ack.stored == 3
    since, until = now - 90 * DAY, now + HOUR
    before = await performance(stack, a, t, since, until)
    assert (before.clicks, before.unique_clickers) == (5, 2)

    partitions = ClickPartitions(retention_days=RETENTION_DAYS)
    assert partitions.horizon(now) == horizon
    async with stack.db.acquire() as conn:
        await partitions.maintain(conn, now=now)
        names = await partitions_of_clicks(stack)
        expired = {partition_name(week_start(long_ago)), partition_name(week_start(just_before))}
        assert expired.isdisjoint(names)
        kept = {partition_name(week_start(m)) for m in (just_after, now - 20 * DAY, now)}
        assert kept <= names
        week = week_start(now - WEEK)
        while week <= now + AHEAD:  # made ahead, from the week before
            assert partition_name(week) in names, week
            week += WEEK
        assert all(re.fullmatch(r"clicks_\d{8}", n) for n in names)

        # Another replica (its own view of the weeks) maintaining at once changes nothing.
        again = ClickPartitions(retention_days=RETENTION_DAYS)
        await again.maintain(conn, now=now)
        assert await again.drop_expired(conn, now) == []
        assert await partitions_of_clicks(stack) == names

        # Raw clicks of the dropped weeks are gone; the rollups keep their figures.
        assert await stack.stored_clicks() == 3
        hours = await conn.fetch(
            "SELECT hour, clicks FROM template_hourly WHERE account_id = $1 AND clicks > 0", a
        )
        assert {r["hour"] for r in hours} >= {floor_to(long_ago, HOUR), floor_to(just_before, HOUR)}
        # The hours past retention are not checked for click figures.
        assert await reconcile(conn, [a], horizon=partitions.horizon(now), fix=False) == []
        unchecked = await reconcile(conn, [a], horizon=None, fix=False)
        assert sorted((d.hour, d.figure, d.stored, d.recomputed) for d in unchecked) == [
            (floor_to(long_ago, HOUR), "clicks", 1, 0),
            (floor_to(long_ago, HOUR), "unique_clickers", 1, 0),
            (floor_to(just_before, HOUR), "clicks", 1, 0),
        ]
    assert await performance(stack, a, t, since, until) == before


async def test_retention_drops_nothing_when_clicks_are_kept_forever(stack: Stack) -> None:
    _, _, (link,) = await tracked_link(stack, "m-1")
    now = datetime.now(UTC)
    await send_batch(stack, clicks_at(link, now - 80 * DAY))
    forever = ClickPartitions(retention_days=0)
    assert forever.horizon(now) is None
    async with stack.db.acquire() as conn:
        await forever.maintain(conn, now=now)
        assert await forever.drop_expired(conn, now) == []
    assert await stack.stored_clicks() == 1


async def test_reconcile_after_retention_keeps_each_unique_clicker_in_its_hour(
    stack: Stack,
) -> None:
    """A message whose first click was dropped with its week, and clicked again later."""
    a, t, (link,) = await tracked_link(stack, "m-1")
    now = datetime.now(UTC)
    horizon = week_start(now - timedelta(days=RETENTION_DAYS))
    await send_batch(stack, clicks_at(link, now - 70 * DAY, horizon + HOUR))
    partitions = ClickPartitions(retention_days=RETENTION_DAYS)
    async with stack.db.acquire() as conn:
        await partitions.maintain(conn, now=now)
        assert await stack.stored_clicks() == 1
        differences = await reconcile(conn, [a], horizon=partitions.horizon(now), fix=False)
    perf = await performance(stack, a, t, now - 90 * DAY, now + HOUR)
    assert perf.unique_clickers == 1
    # The rollup counts the message's clicker in the hour of its first click, before
    # the horizon; the raw clicks left start after it. Nothing is wrong with the rollup.
    assert differences == []


async def test_a_batch_older_than_retention_is_acknowledged_not_stored(stack: Stack) -> None:
    a, t, (link,) = await tracked_link(stack, "m-1")
    now = datetime.now(UTC)
    stack.deps.partitions.retention_days = RETENTION_DAYS  # the running control plane's
    try:
        before = await partitions_of_clicks(stack)
        old = now - 70 * DAY
        ack = await send_batch(stack, clicks_at(link, old), 1)
        assert (ack.batch_seq, ack.stored, ack.duplicates) == (1, 0, 0)
        assert await partitions_of_clicks(stack) == before  # no partition made for it
        mixed = clicks_at(link, old - HOUR, now)
        ack = await send_batch(stack, mixed, 2)
        assert (ack.batch_seq, ack.stored, ack.duplicates) == (2, 1, 0)
        ack = await send_batch(stack, mixed, 3)  # resent: the kept click is a duplicate
        assert (ack.stored, ack.duplicates) == (0, 1)
    finally:
        stack.deps.partitions.retention_days = 0
    assert await stack.stored_clicks() == 1
    perf = await performance(stack, a, t, now - 90 * DAY, now + HOUR)
    assert perf.clicks == 1

    # The domain call says how many were past retention.
    partitions = ClickPartitions(retention_days=RETENTION_DAYS)
    rng = random.Random(3)
    rows = [click_row(uuid7_at(m, rng).bytes, link, m, "human") for m in (old, old + DAY, now)]
    assert await ingest_clicks(stack.db, partitions, rows[:2]) == IngestResult(0, 0, expired=2)
    assert await ingest_clicks(stack.db, partitions, rows) == IngestResult(1, 0, expired=2)
    assert await ingest_clicks(stack.db, partitions, rows) == IngestResult(0, 1, expired=2)
    assert await stack.stored_clicks() == 2
