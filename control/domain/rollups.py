"""Hourly rollups per template: what the dashboards read.

Traffic (messages sent, clicks by class, unique clickers) is added as it
arrives, in the transaction that stores it. Outcomes (shares, signups,
orders, their unique people, revenue) depend on each other: a cancelled
order can make a later order of the same buyer the "first" one, in another
hour. But only within one message (people are counted once per message), so
a change adds the difference between the message's figures after and before
it, both read under the message's lock.

Every change is first written as deltas to a per-transaction temp table and
then applied by one statement to the hourly table and to the daily one (the
same figures per UTC day, so a 90-day list reads days, not hours): deltas
commute, so concurrent writers of one row never overwrite each other.

Lock order, everywhere: messages (sorted), then rows (sorted, all in the one
applying statement).

The SQL that decides what counts lives here once and is used both by the
live path and by rollup_repair, which recomputes everything from raw facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

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

# What a set of hits adds to the click figures: only human hits are clicks, a
# friend's (on a shared referral link) apart; the rest count by class. The live
# path (click_ingest) and reconcile() both use it.
HIT_FIGURES = """
    count(*) FILTER (WHERE hit_class = 'human' AND kind <> 'SHARED_REFERRAL') AS clicks,
    count(*) FILTER (WHERE hit_class = 'human' AND kind = 'SHARED_REFERRAL') AS friend_clicks,
    count(*) FILTER (WHERE hit_class = 'scanner') AS scanner_hits,
    count(*) FILTER (WHERE hit_class = 'preview') AS preview_hits,
    count(*) FILTER (WHERE hit_class = 'bot') AS bot_hits
"""

# Whether an attributed conversion counts: orders stop counting when cancelled
# or fully refunded (a zero-amount order counts until cancelled).
COUNTS = """(c.unattributed_reason IS NULL AND (c.kind <> 'ORDER' OR (c.cancelled_at IS NULL
     AND (c.amount_minor = 0 OR c.refunded_minor < c.amount_minor))))"""

# The earliest counted conversion of its message, kind and person: the one that
# counts as a unique sharer, signup or buyer.
FIRST = f"""NOT EXISTS (
    SELECT 1 FROM conversions e
    WHERE e.account_id = c.account_id AND e.message_id = c.message_id
      AND e.kind = c.kind AND e.person_key = c.person_key
      AND (e.occurred_at, e.conversion_id) < (c.occurred_at, c.conversion_id)
      AND {COUNTS.replace("c.", "e.")})"""

OUTCOME_FIGURES = """
    count(*) FILTER (WHERE c.kind = 'SHARE') AS shares,
    count(*) FILTER (WHERE c.kind = 'SHARE' AND c.first) AS unique_sharers,
    count(*) FILTER (WHERE c.kind = 'SIGNUP') AS signups,
    count(*) FILTER (WHERE c.kind = 'SIGNUP' AND c.first) AS unique_signups,
    count(*) FILTER (WHERE c.kind = 'ORDER') AS orders,
    count(*) FILTER (WHERE c.kind = 'ORDER' AND c.first) AS unique_buyers
"""

_DELTAS = f"""
CREATE TEMP TABLE IF NOT EXISTS rollup_deltas (
    account_id bigint, template_id bigint, hour timestamptz,
    {", ".join(f"{c} bigint NOT NULL DEFAULT 0" for c in COLUMNS)}
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS revenue_deltas (
    account_id bigint, template_id bigint, hour timestamptz, currency text,
    revenue_minor numeric
) ON COMMIT DELETE ROWS;
"""

SUMMED = ", ".join(f"sum({c})" for c in COLUMNS)


def _added(table: str) -> str:
    return ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)


_APPLY = f"""
WITH d AS (DELETE FROM rollup_deltas RETURNING *), hourly AS (
    INSERT INTO template_hourly (account_id, template_id, hour, {", ".join(COLUMNS)})
    SELECT account_id, template_id, hour, {SUMMED} FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (account_id, template_id, hour) DO UPDATE SET {_added("template_hourly")}
)
INSERT INTO template_daily (account_id, template_id, day, {", ".join(COLUMNS)})
SELECT account_id, template_id, date_trunc('day', hour, 'UTC'), {SUMMED}
FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
ON CONFLICT (account_id, template_id, day) DO UPDATE SET {_added("template_daily")}
"""

_APPLY_REVENUE = """
WITH d AS (DELETE FROM revenue_deltas RETURNING *), hourly AS (
    INSERT INTO template_hourly_revenue (account_id, template_id, hour, currency, revenue_minor)
    SELECT account_id, template_id, hour, currency, sum(revenue_minor)
    FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (account_id, template_id, hour, currency) DO UPDATE
    SET revenue_minor = template_hourly_revenue.revenue_minor + excluded.revenue_minor
)
INSERT INTO template_daily_revenue (account_id, template_id, day, currency, revenue_minor)
SELECT account_id, template_id, date_trunc('day', hour, 'UTC'), currency, sum(revenue_minor)
FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
ON CONFLICT (account_id, template_id, day, currency) DO UPDATE
SET revenue_minor = template_daily_revenue.revenue_minor + excluded.revenue_minor
"""

# A message's outcome figures: first-ness is per (message, kind, person), so
# what a message adds to any hour depends on its own conversions only.
_CONTRIBUTIONS = f"""
SELECT c.account_id, c.template_id, date_trunc('hour', c.occurred_at, 'UTC') AS hour,
       c.kind, c.currency, c.amount_minor - c.refunded_minor AS net, {FIRST} AS first
FROM conversions c
JOIN unnest($1::bigint[], $2::bigint[]) AS m(account_id, message_id)
  ON c.account_id = m.account_id AND c.message_id = m.message_id
WHERE c.template_id IS NOT NULL AND {COUNTS}
"""

_COUNTED_AS = {"SHARE": "shares", "SIGNUP": "signups", "ORDER": "orders"}
_UNIQUE_AS = {"SHARE": "unique_sharers", "SIGNUP": "unique_signups", "ORDER": "unique_buyers"}

Contributions = Counter[tuple[Hour, str]]

_INSERT_OUTCOME_DELTAS = (
    f"INSERT INTO rollup_deltas (account_id, template_id, hour, {', '.join(OUTCOME_COLUMNS)})"
    " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], "
    + ", ".join(f"${i + 4}::bigint[]" for i in range(len(OUTCOME_COLUMNS)))
    + ")"
)


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


async def prepare(conn: asyncpg.Connection) -> None:
    """Creates this connection's delta tables (once; they empty on commit)."""
    await conn.execute(_DELTAS)


async def apply_deltas(conn: asyncpg.Connection) -> None:
    await conn.execute(_APPLY)
    await conn.execute(_APPLY_REVENUE)


async def contributions(
    conn: asyncpg.Connection, messages: Iterable[tuple[int, int]]
) -> Contributions:
    """What these messages' conversions add to each hour: {(hour, figure): n},
    figure an outcome column or "revenue:<currency>"."""
    accounts, message_ids = _columns(sorted(set(messages)), 2)
    added: Contributions = Counter()
    if not accounts:
        return added
    for row in await conn.fetch(_CONTRIBUTIONS, accounts, message_ids):
        hour = (row["account_id"], row["template_id"], row["hour"])
        kind = row["kind"]
        added[hour, _COUNTED_AS[kind]] += 1
        if row["first"]:
            added[hour, _UNIQUE_AS[kind]] += 1
        if kind == "ORDER":
            added[hour, "revenue:" + row["currency"]] += row["net"]
    return added


async def add_outcome_deltas(
    conn: asyncpg.Connection,
    messages: Iterable[tuple[int, int]],
    before: Contributions,
    *,
    apply: bool = True,
) -> None:
    """After a change to these messages' conversions: the difference between
    their contributions now and `before` (read under the same message locks)
    goes to the rollups. apply=False leaves it for the caller's apply_deltas()."""
    after = await contributions(conn, messages)
    changed = {k: after[k] - before[k] for k in after.keys() | before.keys()}
    figures: dict[Hour, dict[str, int]] = {}
    revenue = []
    for (hour, figure), delta in sorted(changed.items()):
        if not delta:
            continue
        if figure.startswith("revenue:"):
            revenue.append((*hour, figure.split(":", 1)[1], delta))
        else:
            figures.setdefault(hour, {})[figure] = delta
    await prepare(conn)
    if figures:
        hours = sorted(figures)
        await conn.execute(
            _INSERT_OUTCOME_DELTAS,
            *_columns(hours, 3),
            *([figures[h].get(c, 0) for h in hours] for c in OUTCOME_COLUMNS),
        )
    if revenue:
        await conn.execute(
            "INSERT INTO revenue_deltas (account_id, template_id, hour, currency, revenue_minor)"
            " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::text[],"
            " $5::numeric[])",
            *_columns(revenue, 5),
        )
    if apply:
        await apply_deltas(conn)


def _columns(rows: Sequence[tuple[object, ...]], width: int) -> list[list[object]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]
