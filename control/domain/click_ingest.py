"""Storing click batches from the edge: exactly once per click id, classified.

COPY into a per-connection staging table, then one INSERT ... SELECT ... ON
CONFLICT (click_id) DO NOTHING, so a batch the edge resends after a lost
acknowledgement is stored once. The edge classified each hit by what it could
see (user agent, method, address); here the rules that need the message are
added (see hit_rules), and a human tap on a share button becomes a share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from control.domain.hit_rules import BURST_SECONDS, SOON_AFTER_SEND_SECONDS
from control.domain.model import Click

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS click_staging (
    click_id uuid, smart_url_id bigint, clicked_at timestamptz, method text,
    user_agent text, ip_prefix cidr, referer text, hit_class text, reasons text[]
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS click_ingested (
    click_id uuid, account_id bigint, message_id bigint
) ON COMMIT DELETE ROWS;
"""

_MOVE = """
WITH new AS (
    INSERT INTO clicks (click_id, account_id, smart_url_id, message_id, template_id, kind,
                        clicked_at, method, user_agent, ip_prefix, referer, hit_class, reasons)
    SELECT c.click_id, u.account_id, c.smart_url_id, u.message_id, u.template_id, u.kind,
           c.clicked_at, c.method, c.user_agent, c.ip_prefix, c.referer, c.hit_class, c.reasons
    FROM click_staging c JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
    ON CONFLICT (click_id) DO NOTHING
    RETURNING click_id, account_id, message_id
)
INSERT INTO click_ingested SELECT * FROM new
"""

# A recipient's own links opened within seconds of sending: a scanner at delivery.
# Friends' clicks on shared links are not the recipient's, so these rules skip them.
_SOON_AFTER_SEND = f"""
UPDATE clicks c
SET hit_class = 'scanner',
    reasons = c.reasons || ('soon_after_send:'
        || floor(extract(epoch FROM c.clicked_at - m.sent_at))::int || 's')
FROM click_ingested i, messages m, templates t
WHERE c.click_id = i.click_id
  AND m.account_id = c.account_id AND m.message_id = c.message_id
  AND t.account_id = c.account_id AND t.template_id = c.template_id
  AND c.kind <> 'SHARED_REFERRAL' AND c.hit_class = 'human'
  AND c.clicked_at - m.sent_at < make_interval(secs => CASE t.channel
      WHEN 'SMS' THEN {SOON_AFTER_SEND_SECONDS["SMS"]}
      ELSE {SOON_AFTER_SEND_SECONDS["EMAIL"]} END)
"""

# Several different links of one message opened within a couple of seconds:
# a scanner following every link. Earlier hits of the burst, stored by previous
# batches, are reclassified too.
_BURST = f"""
UPDATE clicks c
SET hit_class = CASE WHEN c.hit_class = 'human' THEN 'scanner' ELSE c.hit_class END,
    reasons = c.reasons || ARRAY['burst']
WHERE (c.account_id, c.message_id) IN (SELECT DISTINCT account_id, message_id FROM click_ingested)
  AND c.kind <> 'SHARED_REFERRAL'
  AND NOT 'burst' = ANY (c.reasons)
  AND EXISTS (
      SELECT 1 FROM clicks o
      WHERE o.account_id = c.account_id AND o.message_id = c.message_id
        AND o.smart_url_id <> c.smart_url_id AND o.kind <> 'SHARED_REFERRAL'
        AND o.clicked_at BETWEEN c.clicked_at - interval '{BURST_SECONDS} seconds'
                             AND c.clicked_at + interval '{BURST_SECONDS} seconds')
RETURNING c.click_id
"""

# Shares follow the final classification: made for human taps, withdrawn from
# taps a burst just showed to be a scanner's.
_WITHDRAW_SHARES = """
DELETE FROM conversions
WHERE kind = 'SHARE' AND click_id = ANY ($1::uuid[])
"""
_SHARES = """
INSERT INTO conversions (account_id, kind, external_id, click_id, smart_url_id,
                         message_id, template_id, occurred_at)
SELECT c.account_id, 'SHARE', c.click_id::text, c.click_id, c.smart_url_id, c.message_id,
       c.template_id, c.clicked_at
FROM click_ingested i JOIN clicks c ON c.click_id = i.click_id
WHERE c.kind = 'SHARE' AND c.hit_class = 'human'
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    duplicates: int


async def ingest_clicks(db: asyncpg.Pool, clicks: Sequence[Click]) -> IngestResult:
    if not clicks:
        return IngestResult(0, 0)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(_STAGING)
        await conn.copy_records_to_table(
            "click_staging",
            records=[
                (
                    c.click_id,
                    c.smart_url_id,
                    c.clicked_at,
                    c.method,
                    c.user_agent,
                    c.ip_prefix,
                    c.referer,
                    c.hit_class,
                    list(c.reasons),
                )
                for c in clicks
            ],
        )
        status = await conn.execute(_MOVE)
        stored = int(status.rsplit(" ", 1)[1])
        if stored:
            await conn.execute(_SOON_AFTER_SEND)
            flipped = [r[0] for r in await conn.fetch(_BURST)]
            if flipped:
                await conn.execute(_WITHDRAW_SHARES, flipped)
            await conn.execute(_SHARES)
    return IngestResult(stored=stored, duplicates=len(clicks) - stored)
