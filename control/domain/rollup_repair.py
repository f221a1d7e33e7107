"""Rollup repair: every figure recomputed from raw facts and compared per hour
(reconcile), and rollups rebuilt from raw facts (after a bulk load, or for
accounts whose facts predate the rollups). The live upkeep is control/domain/rollups.py;
both use the same SQL for what counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from control.domain.rollups import (
    COLUMNS,
    COUNTS,
    FIRST,
    HIT_FIGURES,
    OUTCOME_COLUMNS,
    OUTCOME_FIGURES,
    SUMMED,
    TRAFFIC_COLUMNS,
    Hour,
)

# Unique clickers from the clicks themselves (not messages.first_click_at, the
# column the live path maintains), so a slip in that path shows up. A message
# whose first click is before the retention horizon ($2) is left out: its first
# click may be gone, and the rollup counted it in an hour no longer compared.
_RAW_TRAFFIC = f"""
WITH sent AS (
    SELECT account_id, template_id, date_trunc('hour', sent_at, 'UTC') AS hour,
           count(*) AS messages_sent
    FROM messages WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3
), hits AS (
    SELECT account_id, template_id, date_trunc('hour', clicked_at, 'UTC') AS hour,
           {HIT_FIGURES}
    FROM clicks WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3
), firsts AS (
    SELECT c.account_id, c.template_id, date_trunc('hour', min(c.clicked_at), 'UTC') AS hour
    FROM clicks c
    JOIN messages m ON m.account_id = c.account_id AND m.message_id = c.message_id
    WHERE c.account_id = ANY($1::bigint[]) AND c.hit_class = 'human'
      AND c.kind <> 'SHARED_REFERRAL'
      AND (m.first_click_at IS NULL OR m.first_click_at >= $2)
    GROUP BY c.account_id, c.template_id, c.message_id
), clickers AS (
    SELECT account_id, template_id, hour, count(*) AS unique_clickers FROM firsts GROUP BY 1, 2, 3
)
SELECT account_id, template_id, hour,
       coalesce(s.messages_sent, 0) AS messages_sent, coalesce(h.clicks, 0) AS clicks,
       coalesce(u.unique_clickers, 0) AS unique_clickers,
       coalesce(h.friend_clicks, 0) AS friend_clicks,
       coalesce(h.scanner_hits, 0) AS scanner_hits, coalesce(h.preview_hits, 0) AS preview_hits,
       coalesce(h.bot_hits, 0) AS bot_hits
FROM sent s FULL JOIN hits h USING (account_id, template_id, hour)
FULL JOIN clickers u USING (account_id, template_id, hour)
"""

_RAW_OUTCOMES = f"""
WITH counted AS (
    SELECT c.account_id, c.template_id, date_trunc('hour', c.occurred_at, 'UTC') AS hour,
           c.kind, c.currency, c.amount_minor - c.refunded_minor AS net, {FIRST} AS first
    FROM conversions c
    WHERE c.account_id = ANY($1::bigint[]) AND c.template_id IS NOT NULL AND {COUNTS}
)
SELECT c.account_id, c.template_id, c.hour, {OUTCOME_FIGURES}
FROM counted c GROUP BY 1, 2, 3
"""

_RAW_REVENUE = f"""
SELECT c.account_id, c.template_id, date_trunc('hour', c.occurred_at, 'UTC') AS hour,
       c.currency, sum(c.amount_minor - c.refunded_minor) AS revenue_minor
FROM conversions c
WHERE c.account_id = ANY($1::bigint[]) AND c.kind = 'ORDER' AND {COUNTS}
GROUP BY 1, 2, 3, 4
"""


@dataclass(frozen=True, slots=True)
class Difference:
    account_id: int
    template_id: int
    hour: datetime
    figure: str
    stored: int
    recomputed: int


async def reconcile(
    conn: asyncpg.Connection, account_ids: Sequence[int], horizon: datetime | None, *, fix: bool
) -> list[Difference]:
    """Recomputes every rollup of these accounts from raw facts and returns each
    difference; with fix=True the rollups are replaced by the recomputed values.

    A check reads one snapshot (facts and rollups change in the same
    transactions, so any snapshot is consistent) and blocks nobody. A fix locks
    the rollup tables against writers first, so no delta lands between the
    reading and the writing; ingest and conversions wait for it."""
    async with conn.transaction(isolation="repeatable_read"):
        if fix:
            await conn.execute(LOCK_ROLLUPS)
        expected: dict[tuple[Hour, str], int] = {}
        traffic = await conn.fetch(_RAW_TRAFFIC, list(account_ids), horizon or _FOREVER)
        outcomes = await conn.fetch(_RAW_OUTCOMES, list(account_ids))
        for rows, columns in ((traffic, TRAFFIC_COLUMNS), (outcomes, OUTCOME_COLUMNS)):
            for row in rows:
                hour = (row["account_id"], row["template_id"], row["hour"])
                for column in columns:
                    if row[column]:
                        expected[hour, column] = int(row[column])
        for row in await conn.fetch(_RAW_REVENUE, list(account_ids)):
            hour = (row["account_id"], row["template_id"], row["hour"])
            expected[hour, "revenue:" + row["currency"]] = int(row["revenue_minor"])

        stored = await _stored(conn, account_ids, "template_hourly", "hour")
        # The daily table must equal its hours, whatever they hold.
        summed = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
        for row in await conn.fetch(
            f"SELECT account_id, template_id, date_trunc('day', hour, 'UTC') AS day, {summed}"
            " FROM template_hourly WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3",
            list(account_ids),
        ):
            day = (row["account_id"], row["template_id"], row["day"])
            for column in COLUMNS:
                if row[column]:
                    expected[day, "daily:" + column] = int(row[column])
        for row in await conn.fetch(
            "SELECT account_id, template_id, date_trunc('day', hour, 'UTC') AS day, currency,"
            " sum(revenue_minor) AS revenue_minor FROM template_hourly_revenue"
            " WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3, 4",
            list(account_ids),
        ):
            day = (row["account_id"], row["template_id"], row["day"])
            if row["revenue_minor"]:
                expected[day, "daily:revenue:" + row["currency"]] = int(row["revenue_minor"])
        daily = await _stored(conn, account_ids, "template_daily", "day")
        stored.update({(key, "daily:" + figure): v for (key, figure), v in daily.items()})

        differences = []
        for key in sorted(expected.keys() | stored.keys(), key=lambda k: (k[0], k[1])):
            (account_id, template_id, moment), figure = key
            if horizon is not None and moment < horizon and figure.split(":")[-1] in _CLICK_FIGURES:
                continue  # raw clicks of this hour may have been dropped by retention
            if expected.get(key, 0) != stored.get(key, 0):
                differences.append(
                    Difference(
                        account_id,
                        template_id,
                        moment,
                        figure,
                        stored.get(key, 0),
                        expected.get(key, 0),
                    )
                )
        if fix and differences:
            await _replace(conn, [d for d in differences if not d.figure.startswith("daily:")])
            await _rebuild_daily(conn, account_ids)
    return differences


async def _stored(
    conn: asyncpg.Connection, account_ids: Sequence[int], table: str, period: str
) -> dict[tuple[Hour, str], int]:
    stored: dict[tuple[Hour, str], int] = {}
    for row in await conn.fetch(
        f"SELECT * FROM {table} WHERE account_id = ANY($1::bigint[])", list(account_ids)
    ):
        key = (row["account_id"], row["template_id"], row[period])
        for column in COLUMNS:
            if row[column]:
                stored[key, column] = int(row[column])
    for row in await conn.fetch(
        f"SELECT * FROM {table}_revenue WHERE account_id = ANY($1::bigint[])", list(account_ids)
    ):
        if row["revenue_minor"]:
            key = (row["account_id"], row["template_id"], row[period])
            stored[key, "revenue:" + row["currency"]] = int(row["revenue_minor"])
    return stored


async def _rebuild_daily(conn: asyncpg.Connection, account_ids: Sequence[int]) -> None:
    ids = list(account_ids)
    columns = ", ".join(COLUMNS)
    await conn.execute("DELETE FROM template_daily WHERE account_id = ANY($1::bigint[])", ids)
    await conn.execute(
        "DELETE FROM template_daily_revenue WHERE account_id = ANY($1::bigint[])", ids
    )
    await conn.execute(
        f"INSERT INTO template_daily (account_id, template_id, day, {columns})"
        f" SELECT account_id, template_id, date_trunc('day', hour, 'UTC'), {SUMMED}"
        " FROM template_hourly WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3",
        ids,
    )
    await conn.execute(
        "INSERT INTO template_daily_revenue (account_id, template_id, day, currency,"
        " revenue_minor) SELECT account_id, template_id, date_trunc('day', hour, 'UTC'),"
        " currency, sum(revenue_minor) FROM template_hourly_revenue"
        " WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3, 4",
        ids,
    )


_FOREVER = datetime(1970, 1, 1, tzinfo=UTC)

# Writers (row-exclusive) wait; readers (the dashboards) do not.
LOCK_ROLLUPS = (
    "LOCK TABLE template_hourly, template_daily, template_hourly_revenue,"
    " template_daily_revenue IN SHARE ROW EXCLUSIVE MODE"
)

# Raw clicks are the facts behind these (messages_sent is from messages).
_CLICK_FIGURES = set(TRAFFIC_COLUMNS) - {"messages_sent"}


async def _replace(conn: asyncpg.Connection, differences: Sequence[Difference]) -> None:
    for d in differences:
        if d.figure.startswith("revenue:"):
            await conn.execute(
                "INSERT INTO template_hourly_revenue"
                " (account_id, template_id, hour, currency, revenue_minor)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, template_id, hour,"
                " currency) DO UPDATE SET revenue_minor = excluded.revenue_minor",
                d.account_id,
                d.template_id,
                d.hour,
                d.figure.split(":", 1)[1],
                d.recomputed,
            )
        else:
            # The column name comes from COLUMNS, never from a caller.
            await conn.execute(
                f"INSERT INTO template_hourly (account_id, template_id, hour, {d.figure})"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, template_id, hour)"
                f" DO UPDATE SET {d.figure} = excluded.{d.figure}",
                d.account_id,
                d.template_id,
                d.hour,
                d.recomputed,
            )


async def rebuild(conn: asyncpg.Connection, account_ids: Sequence[int]) -> None:
    """Replaces these accounts' rollups (and messages.first_click_at) with values
    computed from raw facts: after a bulk load, or an upgrade from before rollups.
    Hours whose raw clicks retention dropped lose their click figures."""
    ids = list(account_ids)
    async with conn.transaction():
        await conn.execute(LOCK_ROLLUPS)
        await conn.execute("DELETE FROM template_hourly WHERE account_id = ANY($1::bigint[])", ids)
        await conn.execute(
            "DELETE FROM template_hourly_revenue WHERE account_id = ANY($1::bigint[])", ids
        )
        await conn.execute(
            "UPDATE messages SET first_click_at = NULL"
            " WHERE account_id = ANY($1::bigint[]) AND first_click_at IS NOT NULL",
            ids,
        )
        await conn.execute(
            "UPDATE messages m SET first_click_at = f.first"
            " FROM (SELECT account_id, message_id, min(clicked_at) AS first FROM clicks"
            "       WHERE account_id = ANY($1::bigint[]) AND hit_class = 'human'"
            "         AND kind <> 'SHARED_REFERRAL' GROUP BY 1, 2) f"
            " WHERE m.account_id = f.account_id AND m.message_id = f.message_id",
            ids,
        )
        traffic = ", ".join(TRAFFIC_COLUMNS)
        await conn.execute(
            f"INSERT INTO template_hourly (account_id, template_id, hour, {traffic})"
            f" SELECT account_id, template_id, hour, {traffic} FROM ({_RAW_TRAFFIC}) t",
            ids,
            _FOREVER,
        )
        outcomes = ", ".join(OUTCOME_COLUMNS)
        await conn.execute(
            f"INSERT INTO template_hourly (account_id, template_id, hour, {outcomes})"
            f" SELECT account_id, template_id, hour, {outcomes} FROM ({_RAW_OUTCOMES}) o"
            " ON CONFLICT (account_id, template_id, hour) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in OUTCOME_COLUMNS),
            ids,
        )
        await conn.execute(
            "INSERT INTO template_hourly_revenue"
            " (account_id, template_id, hour, currency, revenue_minor)"
            f" SELECT * FROM ({_RAW_REVENUE}) r",
            ids,
        )
        await _rebuild_daily(conn, ids)


async def rebuild_pending(conn: asyncpg.Connection) -> list[int]:
    """Builds the rollups of accounts whose facts predate them (migration 0003)."""
    pending = [r[0] for r in await conn.fetch("SELECT account_id FROM rollups_pending")]
    if pending:
        await rebuild(conn, pending)
        await conn.execute(
            "DELETE FROM rollups_pending WHERE account_id = ANY($1::bigint[])", pending
        )
    return pending
