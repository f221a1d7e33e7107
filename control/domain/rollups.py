"""Hourly rollups per template: what the dashboards read.

Traffic (messages sent, clicks by class, unique clickers) is added as it
arrives, in the transaction that stores it. Outcomes (shares, signups,
orders, their unique people, revenue) depend on each other: a cancelled
order can make a later order of the same buyer the "first" one, in another
hour. So the hours an outcome touches are recomputed from the conversions of
those hours, under an advisory lock per hour, which also makes concurrent
writers of one hour take turns: each recompute runs after the previous one
committed and sees its rows (READ COMMITTED takes a snapshot per statement).

Lock order, everywhere: messages (sorted), then hours (sorted), then rows.

The SQL that decides what counts lives here once and is used both by the
live path and by reconcile(), which recomputes everything from raw facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

Hour = tuple[int, int, datetime]  # account_id, template_id, hour (UTC)

TRAFFIC_COLUMNS = (
    "messages_sent",
    "clicks",
    "unique_clickers",
    "friend_clicks",
    "scanner_hits",
    "preview_hits",
    "bot_hits",
)
OUTCOME_COLUMNS = (
    "shares",
    "unique_sharers",
    "signups",
    "unique_signups",
    "orders",
    "unique_buyers",
)
COLUMNS = TRAFFIC_COLUMNS + OUTCOME_COLUMNS

# Whether an attributed conversion counts: orders stop counting when cancelled
# or fully refunded (a zero-amount order counts until cancelled).
COUNTS = """(c.unattributed_reason IS NULL AND (c.kind <> 'ORDER' OR (c.cancelled_at IS NULL
     AND (c.amount_minor = 0 OR c.refunded_minor < c.amount_minor))))"""

# The earliest counted conversion of its message, kind and person: the one that
# counts as a unique sharer, signup or buyer.
_FIRST = f"""NOT EXISTS (
    SELECT 1 FROM conversions e
    WHERE e.account_id = c.account_id AND e.message_id = c.message_id
      AND e.kind = c.kind AND e.person_key = c.person_key
      AND (e.occurred_at, e.conversion_id) < (c.occurred_at, c.conversion_id)
      AND {COUNTS.replace("c.", "e.")})"""

_OUTCOME_FIGURES = """
    count(*) FILTER (WHERE c.kind = 'SHARE') AS shares,
    count(*) FILTER (WHERE c.kind = 'SHARE' AND c.first) AS unique_sharers,
    count(*) FILTER (WHERE c.kind = 'SIGNUP') AS signups,
    count(*) FILTER (WHERE c.kind = 'SIGNUP' AND c.first) AS unique_signups,
    count(*) FILTER (WHERE c.kind = 'ORDER') AS orders,
    count(*) FILTER (WHERE c.kind = 'ORDER' AND c.first) AS unique_buyers
"""

# The counted conversions of the hours in $1..$3, each with its `first` flag.
_COUNTED_IN_HOURS = f"""
WITH h AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[])
        AS h(account_id, template_id, hour)
), counted AS (
    SELECT c.account_id, c.template_id, h.hour, c.kind, c.currency,
           c.amount_minor - c.refunded_minor AS net, {_FIRST} AS first
    FROM h JOIN conversions c
      ON c.account_id = h.account_id AND c.template_id = h.template_id
     AND c.occurred_at >= h.hour AND c.occurred_at < h.hour + interval '1 hour'
    WHERE {COUNTS}
)
"""

_REFRESH_OUTCOMES = (
    _COUNTED_IN_HOURS
    + f"""
INSERT INTO template_hourly (account_id, template_id, hour, {", ".join(OUTCOME_COLUMNS)})
SELECT h.account_id, h.template_id, h.hour, {_OUTCOME_FIGURES}
FROM h LEFT JOIN counted c USING (account_id, template_id, hour)
GROUP BY h.account_id, h.template_id, h.hour
ORDER BY h.account_id, h.template_id, h.hour
ON CONFLICT (account_id, template_id, hour) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in OUTCOME_COLUMNS)}
"""
)

_CLEAR_REVENUE = """
DELETE FROM template_hourly_revenue r
USING unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS h(account_id, template_id, hour)
WHERE r.account_id = h.account_id AND r.template_id = h.template_id AND r.hour = h.hour
"""

_REFRESH_REVENUE = (
    _COUNTED_IN_HOURS
    + """
INSERT INTO template_hourly_revenue (account_id, template_id, hour, currency, revenue_minor)
SELECT account_id, template_id, hour, currency, sum(net)
FROM counted WHERE kind = 'ORDER'
GROUP BY account_id, template_id, hour, currency
ORDER BY account_id, template_id, hour, currency
"""
)

_HOURS_OF_GROUPS = """
SELECT DISTINCT c.account_id, c.template_id, date_trunc('hour', c.occurred_at, 'UTC') AS hour
FROM conversions c
JOIN unnest($1::bigint[], $2::bigint[]) AS g(account_id, message_id)
  ON c.account_id = g.account_id AND c.message_id = g.message_id
WHERE c.template_id IS NOT NULL
"""


def message_lock_key(account_id: int, message_id: int) -> str:
    """The advisory lock text every writer of a message's facts takes (hashed in SQL)."""
    return f"{account_id}:{message_id}"


async def lock_messages(conn: asyncpg.Connection, messages: Iterable[tuple[int, int]]) -> None:
    keys = sorted({message_lock_key(a, m) for a, m in messages})
    if keys:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(k) FROM"
            " (SELECT hashtextextended(t, 0) AS k FROM unnest($1::text[]) t ORDER BY 1) keys",
            keys,
        )


async def refresh_outcomes(conn: asyncpg.Connection, messages: Iterable[tuple[int, int]]) -> None:
    """Recomputes the outcome figures of every hour in which these messages have
    conversions. The caller holds the messages' locks (lock_messages) and has
    written its change in this transaction."""
    accounts, message_ids = _columns(sorted(set(messages)), 2)
    if not accounts:
        return
    hours = await conn.fetch(_HOURS_OF_GROUPS, accounts, message_ids)
    await refresh_hours(conn, [(r["account_id"], r["template_id"], r["hour"]) for r in hours])


async def refresh_hours(conn: asyncpg.Connection, hours: Sequence[Hour]) -> None:
    hours = sorted(set(hours))
    if not hours:
        return
    await conn.execute(
        "SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended("
        " 'hour:' || a || ':' || t || ':' || extract(epoch FROM h)::bigint, 0) AS k"
        " FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS x(a, t, h)"
        " ORDER BY 1) keys",
        *_columns(hours, 3),
    )
    columns = _columns(hours, 3)
    await conn.execute(_REFRESH_OUTCOMES, *columns)
    await conn.execute(_CLEAR_REVENUE, *columns)
    await conn.execute(_REFRESH_REVENUE, *columns)


async def add_sent(conn: asyncpg.Connection, messages: Iterable[tuple[int, int, datetime]]) -> None:
    """Counts newly stored messages (account_id, template_id, sent_at) in their hours."""
    per_hour = Counter(
        (
            account_id,
            template_id,
            sent_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
        )
        for account_id, template_id, sent_at in messages
    )
    if not per_hour:
        return
    keys = sorted(per_hour)
    await conn.execute(
        "INSERT INTO template_hourly (account_id, template_id, hour, messages_sent)"
        " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[])"
        " ON CONFLICT (account_id, template_id, hour) DO UPDATE"
        " SET messages_sent = template_hourly.messages_sent + excluded.messages_sent",
        *_columns(keys, 3),
        [per_hour[k] for k in keys],
    )


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


# Reconciliation: every figure recomputed from raw facts, compared per hour.

# Unique clickers from the clicks themselves (not messages.first_click_at, the
# column the live path maintains), so a slip in that path shows up. Hours
# before the retention horizon ($2) are skipped: their raw clicks may be gone.
_RAW_TRAFFIC = """
WITH sent AS (
    SELECT account_id, template_id, date_trunc('hour', sent_at, 'UTC') AS hour,
           count(*) AS messages_sent
    FROM messages WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3
), hits AS (
    SELECT account_id, template_id, date_trunc('hour', clicked_at, 'UTC') AS hour,
           count(*) FILTER (WHERE hit_class = 'human' AND kind <> 'SHARED_REFERRAL') AS clicks,
           count(*) FILTER (WHERE hit_class = 'human' AND kind = 'SHARED_REFERRAL')
               AS friend_clicks,
           count(*) FILTER (WHERE hit_class = 'scanner') AS scanner_hits,
           count(*) FILTER (WHERE hit_class = 'preview') AS preview_hits,
           count(*) FILTER (WHERE hit_class = 'bot') AS bot_hits
    FROM clicks WHERE account_id = ANY($1::bigint[]) GROUP BY 1, 2, 3
), firsts AS (
    SELECT account_id, template_id, date_trunc('hour', min(clicked_at), 'UTC') AS hour
    FROM clicks
    WHERE account_id = ANY($1::bigint[]) AND hit_class = 'human' AND kind <> 'SHARED_REFERRAL'
    GROUP BY account_id, template_id, message_id
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
           c.kind, c.currency, c.amount_minor - c.refunded_minor AS net, {_FIRST} AS first
    FROM conversions c
    WHERE c.account_id = ANY($1::bigint[]) AND c.template_id IS NOT NULL AND {COUNTS}
)
SELECT c.account_id, c.template_id, c.hour, {_OUTCOME_FIGURES}
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
    difference; with fix=True the rollups are replaced by the recomputed values."""
    async with conn.transaction(isolation="repeatable_read"):
        expected: dict[tuple[Hour, str], int] = {}
        traffic = await conn.fetch(_RAW_TRAFFIC, list(account_ids))
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

        stored: dict[tuple[Hour, str], int] = {}
        for row in await conn.fetch(
            "SELECT * FROM template_hourly WHERE account_id = ANY($1::bigint[])", list(account_ids)
        ):
            hour = (row["account_id"], row["template_id"], row["hour"])
            for column in COLUMNS:
                if row[column]:
                    stored[hour, column] = int(row[column])
        for row in await conn.fetch(
            "SELECT * FROM template_hourly_revenue WHERE account_id = ANY($1::bigint[])",
            list(account_ids),
        ):
            hour = (row["account_id"], row["template_id"], row["hour"])
            stored[hour, "revenue:" + row["currency"]] = int(row["revenue_minor"])

    differences = []
    for key in sorted(expected.keys() | stored.keys(), key=lambda k: (k[0], k[1])):
        (account_id, template_id, moment), figure = key
        if horizon is not None and moment < horizon and figure in _CLICK_FIGURES:
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
        await _replace(conn, differences)
    return differences


_CLICK_FIGURES = {
    "clicks",
    "unique_clickers",
    "friend_clicks",
    "scanner_hits",
    "preview_hits",
    "bot_hits",
}


async def _replace(conn: asyncpg.Connection, differences: Sequence[Difference]) -> None:
    async with conn.transaction():
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
