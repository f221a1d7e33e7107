"""Storing click batches from the edge: exactly once per click id, classified.

COPY into a per-connection staging table, then one INSERT ... SELECT ... ON
CONFLICT (click_id) DO NOTHING, so a batch the edge resends after a lost
acknowledgement is stored once. The edge classified each hit by what it could
see (user agent, method, address); here the rules that need the message are
added (see hit_rules), and a human tap on a share button becomes a share.

The staging tables are ANALYZEd after they are filled: autovacuum never looks
at temporary tables, and without statistics the planner joins a batch of a few
thousand rows to clicks and smart_urls with full scans instead of index probes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from control.domain.hit_rules import BURST_SECONDS, SOON_AFTER_SEND_SECONDS
from control.domain.model import ClickRow

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS click_staging (
    click_id bytea, smart_url_id bigint, clicked_at_us bigint, method text,
    user_agent text, ip_prefix text, referer text, hit_class text, reasons text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS click_ingested (
    click_id uuid, account_id bigint, message_id bigint, smart_url_id bigint,
    clicked_at timestamptz, kind text, hit_class text
) ON COMMIT DELETE ROWS;
"""

# A recipient's own links opened within seconds of sending are a scanner at
# delivery; friends' clicks on shared links are not the recipient's, so that
# rule (and the burst rule) skips them.
_MOVE = f"""
WITH staged AS (
    SELECT encode(c.click_id, 'hex')::uuid AS click_id, u.account_id, c.smart_url_id,
           u.message_id, u.template_id, u.kind,
           timestamptz 'epoch' + c.clicked_at_us * interval '1 microsecond' AS clicked_at,
           c.method, c.user_agent, NULLIF(c.ip_prefix, '')::cidr AS ip_prefix, c.referer,
           c.hit_class,
           CASE WHEN c.reasons = '' THEN '{{}}'::text[]
                ELSE string_to_array(c.reasons, E'\\n') END AS reasons,
           m.sent_at,
           CASE t.channel WHEN 'SMS' THEN {SOON_AFTER_SEND_SECONDS["SMS"]}
                          ELSE {SOON_AFTER_SEND_SECONDS["EMAIL"]} END AS soon
    FROM click_staging c
    JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
    JOIN messages m ON m.account_id = u.account_id AND m.message_id = u.message_id
    JOIN templates t ON t.account_id = u.account_id AND t.template_id = u.template_id
), classified AS (
    SELECT *, hit_class = 'human' AND kind <> 'SHARED_REFERRAL'
              AND clicked_at - sent_at < make_interval(secs => soon) AS too_soon
    FROM staged
), new AS (
    INSERT INTO clicks (click_id, account_id, smart_url_id, message_id, template_id, kind,
                        clicked_at, method, user_agent, ip_prefix, referer, hit_class, reasons)
    SELECT click_id, account_id, smart_url_id, message_id, template_id, kind, clicked_at,
           method, user_agent, ip_prefix, referer,
           CASE WHEN too_soon THEN 'scanner' ELSE hit_class END,
           CASE WHEN too_soon THEN reasons || ('soon_after_send:'
               || floor(extract(epoch FROM clicked_at - sent_at))::int || 's')
               ELSE reasons END
    FROM classified
    ON CONFLICT (click_id) DO NOTHING
    RETURNING click_id, account_id, message_id, smart_url_id, clicked_at, kind, hit_class
)
INSERT INTO click_ingested SELECT * FROM new
"""

# The burst rule reads the clicks other transactions committed: two batches with
# hits of one message, ingested at once (two edges, two replicas), would each
# miss the other's. Batches touching the same messages take turns instead; the
# sorted order keeps two of them from deadlocking.
_LOCK_MESSAGES = """
SELECT pg_advisory_xact_lock(k)
FROM (SELECT DISTINCT hashtextextended(u.account_id || ':' || u.message_id, 0) AS k
      FROM click_staging c JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
      WHERE u.kind <> 'SHARED_REFERRAL'
      ORDER BY k) keys
"""

# Several different links of one message opened within a couple of seconds:
# a scanner following every link. Earlier hits of the burst, stored by previous
# batches, are reclassified too.
_BURST = f"""
WITH pairs AS (
    SELECT n.click_id AS a, o.click_id AS b
    FROM click_ingested n JOIN clicks o
      ON o.account_id = n.account_id AND o.message_id = n.message_id
     AND o.clicked_at BETWEEN n.clicked_at - interval '{BURST_SECONDS} seconds'
                          AND n.clicked_at + interval '{BURST_SECONDS} seconds'
     AND o.smart_url_id <> n.smart_url_id AND o.kind <> 'SHARED_REFERRAL'
    WHERE n.kind <> 'SHARED_REFERRAL'
), burst AS (
    SELECT a AS click_id FROM pairs UNION SELECT b FROM pairs
)
UPDATE clicks c
SET hit_class = CASE WHEN c.hit_class = 'human' THEN 'scanner' ELSE c.hit_class END,
    reasons = c.reasons || ARRAY['burst']
FROM burst
WHERE c.click_id = burst.click_id AND NOT 'burst' = ANY (c.reasons)
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
SELECT i.account_id, 'SHARE', i.click_id::text, i.click_id, i.smart_url_id, i.message_id,
       c.template_id, i.clicked_at
FROM click_ingested i JOIN clicks c ON c.click_id = i.click_id
WHERE i.kind = 'SHARE' AND c.hit_class = 'human'
ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    duplicates: int


async def ingest_clicks(db: asyncpg.Pool, clicks: Sequence[ClickRow]) -> IngestResult:
    if not clicks:
        return IngestResult(0, 0)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(_STAGING)
        await conn.copy_records_to_table("click_staging", records=clicks)
        await conn.execute("ANALYZE click_staging")
        await conn.execute(_LOCK_MESSAGES)
        status = await conn.execute(_MOVE)
        stored = int(status.rsplit(" ", 1)[1])
        if stored:
            await conn.execute("ANALYZE click_ingested")
            flipped = [r[0] for r in await conn.fetch(_BURST)]
            if flipped:
                await conn.execute(_WITHDRAW_SHARES, flipped)
            await conn.execute(_SHARES)
    return IngestResult(stored=stored, duplicates=len(clicks) - stored)
