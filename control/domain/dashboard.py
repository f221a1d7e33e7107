"""Per-template performance over a time range.

Every figure counts facts inside [since, until): messages by send time, clicks
by click time, conversions by when they occurred. HEAD requests are never
clicks. Shares count once per message (one advocate per message); every
signup and order counts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from control.domain import validation
from control.domain.accounts import get_account
from control.domain.errors import InvalidArgument
from control.domain.model import Channel, TemplatePerformance
from control.domain.templates import load_template

DEFAULT_RANGE = timedelta(days=30)

_PERFORMANCE = """
WITH t AS (
    SELECT t.template_id, t.name, t.channel,
           (SELECT g.goal FROM template_goals g
            WHERE g.account_id = t.account_id AND g.template_id = t.template_id
            ORDER BY g.effective_from DESC LIMIT 1) AS goal
    FROM templates t
    WHERE t.account_id = $1
      AND ($4::bigint IS NULL OR t.template_id = $4)
      AND ($5::text IS NULL OR t.channel = $5)
), sent AS (
    SELECT template_id, count(*) AS messages_sent
    FROM messages
    WHERE account_id = $1 AND sent_at >= $2 AND sent_at < $3
      AND template_id IN (SELECT template_id FROM t)
    GROUP BY template_id
), clk AS (
    SELECT template_id,
           count(*) FILTER (WHERE kind <> 'SHARED_REFERRAL') AS clicks,
           count(DISTINCT message_id) FILTER (WHERE kind <> 'SHARED_REFERRAL') AS unique_clickers,
           count(*) FILTER (WHERE kind = 'SHARED_REFERRAL') AS friend_clicks
    FROM clicks
    WHERE account_id = $1 AND clicked_at >= $2 AND clicked_at < $3 AND method <> 'HEAD'
      AND template_id IN (SELECT template_id FROM t)
    GROUP BY template_id
), conv AS (
    SELECT template_id,
           count(DISTINCT message_id) FILTER (WHERE kind = 'SHARE') AS shares,
           count(*) FILTER (WHERE kind = 'SIGNUP') AS signups,
           count(*) FILTER (WHERE kind = 'ORDER') AS orders
    FROM conversions
    WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3
      AND template_id IN (SELECT template_id FROM t)
    GROUP BY template_id
)
SELECT t.template_id, t.name, t.channel, t.goal,
       coalesce(sent.messages_sent, 0) AS messages_sent,
       coalesce(clk.clicks, 0) AS clicks,
       coalesce(clk.unique_clickers, 0) AS unique_clickers,
       coalesce(clk.friend_clicks, 0) AS friend_clicks,
       coalesce(conv.shares, 0) AS shares,
       coalesce(conv.signups, 0) AS signups,
       coalesce(conv.orders, 0) AS orders
FROM t
LEFT JOIN sent USING (template_id)
LEFT JOIN clk USING (template_id)
LEFT JOIN conv USING (template_id)
ORDER BY t.template_id
"""

# numeric: a sum of bigints may not fit a bigint; the caller clamps it.
_REVENUE = """
SELECT template_id, currency, sum(amount_minor) AS amount_minor
FROM conversions
WHERE account_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND kind = 'ORDER'
  AND template_id = ANY($4::bigint[])
GROUP BY template_id, currency
"""
_INT64_MAX = 2**63 - 1


def time_range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    until = validation.moment("range.to", until) or datetime.now(UTC)
    since = validation.moment("range.from", since) or until - DEFAULT_RANGE
    if since >= until:
        raise InvalidArgument.field("range.from", "must be before range.to")
    return since, until


async def template_performance(
    db: asyncpg.Pool,
    account_id: int,
    since: datetime | None,
    until: datetime | None,
    *,
    template_id: int | None = None,
    channel: Channel | None = None,
) -> list[TemplatePerformance]:
    validation.positive_id("account_id", account_id)
    start, end = time_range(since, until)
    async with db.acquire() as conn:
        await get_account(conn, account_id)
        if template_id is not None:
            await load_template(conn, account_id, template_id)
        rows = await conn.fetch(_PERFORMANCE, account_id, start, end, template_id, channel)
        template_ids = [row["template_id"] for row in rows]
        revenue: dict[int, dict[str, int]] = {}
        for r in await conn.fetch(_REVENUE, account_id, start, end, template_ids):
            amount = min(int(r["amount_minor"]), _INT64_MAX)
            revenue.setdefault(r["template_id"], {})[r["currency"]] = amount
    return [
        TemplatePerformance(**dict(row), revenue=revenue.get(row["template_id"], {}))
        for row in rows
    ]
