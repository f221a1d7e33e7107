"""Per-template performance over a time range.

Every figure counts facts inside [since, until): messages by send time, clicks
by click time, conversions by when they occurred. Only human hits are clicks
(scanners, previews, bots and HEAD requests are counted apart, by class).
Shares count once per message (one advocate per message); every signup and
order counts.
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
           count(*) FILTER (WHERE human AND kind <> 'SHARED_REFERRAL') AS clicks,
           count(DISTINCT message_id) FILTER (WHERE human AND kind <> 'SHARED_REFERRAL')
               AS unique_clickers,
           count(*) FILTER (WHERE human AND kind = 'SHARED_REFERRAL') AS friend_clicks,
           count(*) FILTER (WHERE hit_class = 'scanner') AS scanner_hits,
           count(*) FILTER (WHERE hit_class = 'preview') AS preview_hits,
           count(*) FILTER (WHERE hit_class = 'bot') AS bot_hits
    FROM (SELECT *, hit_class = 'human' AS human FROM clicks
          WHERE account_id = $1 AND clicked_at >= $2 AND clicked_at < $3
            AND template_id IN (SELECT template_id FROM t)) hits
    GROUP BY template_id
), conv AS (
    -- An outcome whose click is known to be a scanner's or a bot's never counts;
    -- one whose click is not stored yet does (mbsy_source proves the click).
    SELECT v.template_id,
           count(DISTINCT v.message_id) FILTER (WHERE v.kind = 'SHARE') AS shares,
           count(*) FILTER (WHERE v.kind = 'SIGNUP') AS signups,
           count(*) FILTER (WHERE v.kind = 'ORDER') AS orders
    FROM conversions v LEFT JOIN clicks c ON c.click_id = v.click_id
    WHERE v.account_id = $1 AND v.occurred_at >= $2 AND v.occurred_at < $3
      AND v.template_id IN (SELECT template_id FROM t)
      AND (c.click_id IS NULL OR c.hit_class = 'human')
    GROUP BY v.template_id
)
SELECT t.template_id, t.name, t.channel, t.goal,
       coalesce(sent.messages_sent, 0) AS messages_sent,
       coalesce(clk.clicks, 0) AS clicks,
       coalesce(clk.unique_clickers, 0) AS unique_clickers,
       coalesce(clk.friend_clicks, 0) AS friend_clicks,
       coalesce(clk.scanner_hits, 0) AS scanner_hits,
       coalesce(clk.preview_hits, 0) AS preview_hits,
       coalesce(clk.bot_hits, 0) AS bot_hits,
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
SELECT v.template_id, v.currency, sum(v.amount_minor) AS amount_minor
FROM conversions v LEFT JOIN clicks c ON c.click_id = v.click_id
WHERE v.account_id = $1 AND v.occurred_at >= $2 AND v.occurred_at < $3 AND v.kind = 'ORDER'
  AND v.template_id = ANY($4::bigint[]) AND (c.click_id IS NULL OR c.hit_class = 'human')
GROUP BY v.template_id, v.currency
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
    performances = []
    for row in rows:
        values = dict(row)
        non_human = {k: values.pop(f"{k}_hits") for k in ("scanner", "preview", "bot")}
        performances.append(
            TemplatePerformance(
                **values,
                revenue=revenue.get(row["template_id"], {}),
                non_human_hits={k: v for k, v in non_human.items() if v},
            )
        )
    return performances
