"""Clicks live in weekly range partitions (PostgreSQL native partitioning).

Partitions are created ahead of time by the maintenance loop and on demand by
ingest (a spool replayed after a long outage, an edge with a skewed clock),
and dropped whole once they are past the retention period: rollups keep the
figures, and a DROP costs nothing where a DELETE of millions of rows would
bloat the table. Weeks (Monday, UTC) keep the partition count small enough
for plans that cannot prune (lookups by message) over a year of retention.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import asyncpg

WEEK = timedelta(days=7)
# How far ahead the maintenance loop keeps partitions ready.
AHEAD = timedelta(days=28)
# With retention off, clicks older than this are still not stored.
OLDEST_CLICK = timedelta(days=400)
_NAME = re.compile(r"^clicks_(\d{8})$")
_EPOCH_MONDAY = datetime(1970, 1, 5, tzinfo=UTC)

log = logging.getLogger(__name__)


def week_start(moment: datetime) -> datetime:
    weeks = (moment - _EPOCH_MONDAY) // WEEK
    return _EPOCH_MONDAY + weeks * WEEK


def partition_name(start: datetime) -> str:
    return "clicks_" + start.strftime("%Y%m%d")


class ClickPartitions:
    """Knows which weeks have a partition, so ingest checks in memory."""

    def __init__(self, retention_days: int) -> None:
        # 0 keeps raw clicks forever.
        self.retention_days = retention_days
        self._weeks: set[datetime] = set()

    def horizon(self, now: datetime | None = None) -> datetime | None:
        """Clicks older than this are past retention (None: kept forever)."""
        if not self.retention_days:
            return None
        return week_start((now or datetime.now(UTC)) - timedelta(days=self.retention_days))

    def oldest_accepted(self, now: datetime | None = None) -> datetime:
        """Ingest stores no click older than this: past retention, or with retention
        off, older than OLDEST_CLICK (a skewed edge clock would otherwise make a
        partition for every week back to its date)."""
        now = now or datetime.now(UTC)
        return self.horizon(now) or week_start(now - OLDEST_CLICK)

    async def ensure(self, conn: asyncpg.Connection, first: datetime, last: datetime) -> None:
        """Every week from `first` to `last` gets its partition."""
        week = week_start(first)
        missing = []
        while week <= last:
            if week not in self._weeks:
                missing.append(week)
            week += WEEK
        if not missing:
            return
        existing = await self.load(conn)
        for week in missing:
            if week in existing:
                continue
            # Another control-plane replica may create the same week at once.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('click_partitions'))")
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {partition_name(week)} PARTITION OF clicks"
                    f" FOR VALUES FROM ({_literal(week)}) TO ({_literal(week + WEEK)})"
                )
            self._weeks.add(week)

    async def load(self, conn: asyncpg.Connection) -> set[datetime]:
        rows = await conn.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'clicks'::regclass"
        )
        weeks = set()
        for row in rows:
            match = _NAME.match(row["relname"])
            if match:
                weeks.add(datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC))
        self._weeks = weeks
        return weeks

    async def drop_expired(
        self, conn: asyncpg.Connection, now: datetime | None = None
    ) -> list[str]:
        horizon = self.horizon(now)
        if horizon is None:
            return []
        dropped = []
        for week in sorted(await self.load(conn)):
            if week + WEEK <= horizon:
                name = partition_name(week)
                try:
                    # DROP locks all of `clicks`: queued behind a long reader it
                    # would stall every ingest behind it. Give up and retry later.
                    async with conn.transaction():
                        await conn.execute("SET LOCAL lock_timeout = '2s'")
                        await conn.execute(f"DROP TABLE IF EXISTS {name}")
                except asyncpg.LockNotAvailableError:
                    log.warning("%s is busy; dropping it on the next round", name)
                    continue
                self._weeks.discard(week)
                dropped.append(name)
        if dropped:
            log.info("dropped click partitions past %d days: %s", self.retention_days, dropped)
        return dropped

    async def maintain(self, conn: asyncpg.Connection, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        await self.ensure(conn, now - WEEK, now + AHEAD)
        await self.drop_expired(conn, now)


def _literal(moment: datetime) -> str:
    # DDL takes no bind parameters; the value is ours, never a caller's.
    return "'" + moment.isoformat() + "'"
