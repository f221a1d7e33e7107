"""Storing click batches from the edge: exactly once per click id.

COPY into a per-connection staging table, then one INSERT ... SELECT ... ON
CONFLICT (click_id) DO NOTHING, so a batch the edge resends after a lost
acknowledgement is stored once. A human click on a share button is a share
conversion, written in the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from control.domain.model import Click

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS click_staging (
    click_id uuid, smart_url_id bigint, clicked_at timestamptz, method text,
    user_agent text, ip_prefix cidr, referer text
) ON COMMIT DELETE ROWS
"""

_MOVE = """
WITH new AS (
    INSERT INTO clicks (click_id, account_id, smart_url_id, message_id, template_id, kind,
                        clicked_at, method, user_agent, ip_prefix, referer)
    SELECT c.click_id, u.account_id, c.smart_url_id, u.message_id, u.template_id, u.kind,
           c.clicked_at, c.method, c.user_agent, c.ip_prefix, c.referer
    FROM click_staging c JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
    ON CONFLICT (click_id) DO NOTHING
    RETURNING click_id, account_id, smart_url_id, message_id, template_id, kind, method,
              clicked_at
), shares AS (
    INSERT INTO conversions (account_id, kind, external_id, click_id, smart_url_id,
                             message_id, template_id, occurred_at)
    SELECT account_id, 'SHARE', click_id::text, click_id, smart_url_id, message_id,
           template_id, clicked_at
    FROM new WHERE kind = 'SHARE' AND method <> 'HEAD'
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM new
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
                )
                for c in clicks
            ],
        )
        stored = await conn.fetchval(_MOVE)
    return IngestResult(stored=stored, duplicates=len(clicks) - stored)
