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

_SUMMED = ", ".join(f"sum({c})" for c in COLUMNS)


def _added(table: str) -> str:
    return ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)


_APPLY = f"""
WITH d AS (DELETE FROM rollup_deltas RETURNING *), hourly AS (
    INSERT INTO template_hourly (account_id, template_id, hour, {", ".join(COLUMNS)})
    SELECT account_id, template_id, hour, {_SUMMED} FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (account_id, template_id, hour) DO UPDATE SET {_added("template_hourly")}
)
INSERT INTO template_daily (account_id, template_id, day, {", ".join(COLUMNS)})
SELECT account_id, template_id, date_trunc('day', hour, 'UTC'), {_SUMMED}
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
       c.kind, c.currency, c.amount_minor - c.refunded_minor AS net, {_FIRST} AS first
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


# Reconciliation: every figure recomputed from raw facts, compared per hour.

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
    difference; with fix=True the rollups are replaced by the recomputed values.

    A check reads one snapshot (facts and rollups change in the same
    transactions, so any snapshot is consistent) and blocks nobody. A fix locks
    the rollup tables against writers first, so no delta lands between the
    reading and the writing; ingest and conversions wait for it."""
    async with conn.transaction(isolation="repeatable_read"):
        if fix:
            await conn.execute(_LOCK_ROLLUPS)
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
        f" SELECT account_id, template_id, date_trunc('day', hour, 'UTC'), {_SUMMED}"
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
_LOCK_ROLLUPS = (
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
        await conn.execute(_LOCK_ROLLUPS)
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
