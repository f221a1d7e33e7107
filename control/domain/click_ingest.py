"""Storing click batches from the edge: exactly once per click id, classified.

COPY into a per-connection staging table, then one INSERT ... SELECT ... ON
CONFLICT (click_id) DO NOTHING, so a batch the edge resends after a lost
acknowledgement is stored once. The edge classified each hit by what it could
see (user agent, method, address); here the rules that need the message are
added (see hit_rules), and a human tap on a share button becomes a share.

The same transaction keeps the hourly rollups current (rollups.py): traffic
by increments, unique clickers through messages.first_click_at, and the
outcome hours of any conversion the batch makes or unmakes (a share, or an
order whose click turns out to be a scanner's) by recomputation.

click_ingested is ANALYZEd once filled: autovacuum never looks at temporary
tables, and the statements after _MOVE join it to stored tables by estimates
(without statistics, `hit_class <> 'human'` is taken to match nearly every row).
click_staging is not: its one reader, _MOVE, probes by primary key whatever the
statistics say. The lookups of links (one a click), messages (one a message)
and earlier clicks are such probes, fenced in LATERAL subqueries (OFFSET 0, or
FOR UPDATE where the row is then updated), so that a batch costs about the
same against a thousand messages or a million; what each step costs per click,
and why it is bounded however concentrated the traffic: docs/ingest.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from control.domain.attribution import SHARE_PERSON, WINDOW_SQL
from control.domain.hit_rules import BURST_SECONDS, SOON_AFTER_SEND_SECONDS, bursts_within
from control.domain.model import ClickRow
from control.domain.partitions import ClickPartitions
from control.domain.retry import retry_deadlocks
from control.domain.rollups import (
    HIT_FIGURES,
    add_outcome_deltas,
    apply_deltas,
    contributions,
    prepare,
)

_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS click_staging (
    click_id bytea, smart_url_id bigint, clicked_at_us bigint, method text,
    user_agent text, ip_prefix text, referer text, hit_class text, reasons text,
    burst boolean
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS click_ingested (
    click_id uuid, account_id bigint, message_id bigint, template_id bigint,
    smart_url_id bigint, clicked_at timestamptz, kind text, hit_class text, marked boolean
) ON COMMIT DELETE ROWS;
CREATE INDEX IF NOT EXISTS click_ingested_links
    ON click_ingested (account_id, message_id, smart_url_id, clicked_at);
CREATE TEMP TABLE IF NOT EXISTS click_flipped (
    click_id uuid, account_id bigint, message_id bigint, template_id bigint,
    clicked_at timestamptz, kind text, old_class text
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
           c.hit_class, c.burst,
           CASE WHEN c.reasons = '' THEN '{{}}'::text[]
                ELSE string_to_array(c.reasons, E'\\n') END AS reasons,
           u.sent_at,
           CASE u.channel WHEN 'SMS' THEN {SOON_AFTER_SEND_SECONDS["SMS"]}
                          ELSE {SOON_AFTER_SEND_SECONDS["EMAIL"]} END AS soon
    FROM click_staging c
    -- One primary-key probe per click, whatever the planner makes of the
    -- table's statistics, which lag a million-link send and change under a
    -- running ingest: as a plain join the plan was a hash of all of smart_urls
    -- per batch, and once, mid-run, a plan that kept one batch busy for over 10
    -- seconds. The link carries its message's send time and channel (migration
    -- 0006), so messages and templates are not probed per click.
    CROSS JOIN LATERAL (
        SELECT u.account_id, u.message_id, u.template_id, u.kind, u.sent_at, u.channel
        FROM smart_urls u
        WHERE u.smart_url_id = c.smart_url_id
        OFFSET 0
    ) u
), classified AS (
    SELECT *, hit_class = 'human' AND kind <> 'SHARED_REFERRAL'
              AND clicked_at - sent_at < make_interval(secs => soon) AS too_soon,
           burst AND kind <> 'SHARED_REFERRAL' AS in_burst
    FROM staged
), new AS (
    INSERT INTO clicks (click_id, account_id, smart_url_id, message_id, template_id, kind,
                        clicked_at, method, user_agent, ip_prefix, referer, hit_class, reasons)
    SELECT click_id, account_id, smart_url_id, message_id, template_id, kind, clicked_at,
           method, user_agent, ip_prefix, referer,
           CASE WHEN too_soon OR (in_burst AND hit_class = 'human') THEN 'scanner'
                ELSE hit_class END,
           reasons
           || CASE WHEN too_soon THEN ARRAY['soon_after_send:'
                  || floor(extract(epoch FROM clicked_at - sent_at))::int || 's']
                  ELSE '{{}}'::text[] END
           || CASE WHEN in_burst THEN ARRAY['burst'] ELSE '{{}}'::text[] END
    FROM classified
    ON CONFLICT (click_id, clicked_at) DO NOTHING
    RETURNING click_id, account_id, message_id, template_id, smart_url_id, clicked_at, kind,
              hit_class, 'burst' = ANY (reasons)
)
INSERT INTO click_ingested SELECT * FROM new
"""

# The burst rule reads the clicks other transactions committed: two batches with
# hits of one message, ingested at once (two edges, two replicas, or batches of
# one stream), would each miss the other's. Batches touching the same messages
# take turns from here on; the sorted order keeps two of them from deadlocking.
# Friends' clicks lock their message too: they may unmake an order attributed
# to it. The key is the one rollups.lock_messages takes.
#
# Taken after the clicks are inserted, not before: the insert needs no lock (a
# click's own class depends only on its message's send time, which never
# changes), and it is most of the work, so batches sharing a message or two
# still insert side by side. Each statement below runs on a fresh snapshot, so
# once a batch holds the lock it sees every click of the one before it.
_LOCK_MESSAGES = """
SELECT pg_advisory_xact_lock(k)
FROM (SELECT DISTINCT hashtextextended(account_id || ':' || message_id, 0) AS k
      FROM click_ingested ORDER BY k) keys
"""

# Several different links of one message opened within a couple of seconds:
# a scanner following every link. A click is in a burst when another link of
# its message (not a friend's shared link) was clicked within the window;
# earlier hits of the burst, stored by previous batches, are marked too, and
# the ones that were human are noted, for the rollups.
#
# Pairs within the batch were judged before it was stored (hit_rules.
# bursts_within), and those clicks were inserted marked. This finds the pairs
# with clicks stored before, bounded per click however the traffic concentrates
# (one hot link, or every link of one message): each new click not yet marked
# probes each other link of its message once (LIMIT 1, clicks_message_link_time),
# and the stored side reads only clicks not yet marked (clicks_unmarked), each
# checked by one probe per other link into this batch's clicks. A message has
# as many links as its template.
# $1 and $2, the batch's own time range widened by the window, let the planner
# keep only the weekly partitions a probe can reach.
_BURST = f"""
WITH messages AS (
    SELECT DISTINCT account_id, message_id FROM click_ingested
    WHERE kind <> 'SHARED_REFERRAL'
), links AS (
    SELECT u.account_id, u.message_id, u.smart_url_id
    FROM messages m
    CROSS JOIN LATERAL (
        SELECT u.account_id, u.message_id, u.smart_url_id FROM smart_urls u
        WHERE u.account_id = m.account_id AND u.message_id = m.message_id
          AND u.kind <> 'SHARED_REFERRAL'
        OFFSET 0
    ) u
), new_side AS (
    SELECT n.click_id, n.clicked_at, n.hit_class
    FROM click_ingested n
    JOIN links l ON l.account_id = n.account_id AND l.message_id = n.message_id
                AND l.smart_url_id <> n.smart_url_id
    CROSS JOIN LATERAL (
        SELECT 1 FROM clicks o
        WHERE o.account_id = n.account_id AND o.message_id = n.message_id
          AND o.smart_url_id = l.smart_url_id
          AND o.clicked_at BETWEEN n.clicked_at - interval '{BURST_SECONDS} seconds'
                               AND n.clicked_at + interval '{BURST_SECONDS} seconds'
          AND o.clicked_at BETWEEN $1 AND $2
        LIMIT 1
    ) partner
    WHERE n.kind <> 'SHARED_REFERRAL' AND NOT n.marked
), spans AS (
    -- Per other link, the time this batch's clicks on the message's other links
    -- span, widened by the window: where that link's partners can be.
    SELECT l.account_id, l.message_id, l.smart_url_id,
           min(n.clicked_at) - interval '{BURST_SECONDS} seconds' AS lo,
           max(n.clicked_at) + interval '{BURST_SECONDS} seconds' AS hi
    FROM links l
    JOIN click_ingested n ON n.account_id = l.account_id AND n.message_id = l.message_id
                         AND n.smart_url_id <> l.smart_url_id
    WHERE n.kind <> 'SHARED_REFERRAL'
    GROUP BY 1, 2, 3
), stored_side AS (
    SELECT o.click_id, o.clicked_at, o.hit_class
    FROM spans s
    CROSS JOIN LATERAL (
        SELECT o.click_id, o.clicked_at, o.hit_class, o.smart_url_id FROM clicks o
        WHERE o.account_id = s.account_id AND o.message_id = s.message_id
          AND o.smart_url_id = s.smart_url_id
          AND o.clicked_at BETWEEN s.lo AND s.hi AND o.clicked_at BETWEEN $1 AND $2
          AND NOT ('burst' = ANY (o.reasons))
        OFFSET 0
    ) o
    -- This batch's own clicks were judged on the new side.
    LEFT JOIN click_ingested i ON i.click_id = o.click_id
    JOIN links l ON l.account_id = s.account_id AND l.message_id = s.message_id
                AND l.smart_url_id <> o.smart_url_id
    CROSS JOIN LATERAL (
        SELECT 1 FROM click_ingested n
        WHERE n.account_id = s.account_id AND n.message_id = s.message_id
          AND n.smart_url_id = l.smart_url_id
          AND n.clicked_at BETWEEN o.clicked_at - interval '{BURST_SECONDS} seconds'
                               AND o.clicked_at + interval '{BURST_SECONDS} seconds'
        LIMIT 1
    ) partner
    WHERE i.click_id IS NULL
)
SELECT click_id, clicked_at, hit_class FROM new_side
UNION SELECT click_id, clicked_at, hit_class FROM stored_side
"""

# The burst's clicks, found above, by primary key (with their class before,
# for the rollups): as a join with the burst, the plan hashed every partition
# of clicks whenever a batch held a burst, a cost that grew with everything
# retained. The message locks keep those classes as read.
_FLIP = """
WITH flipped AS (
    UPDATE clicks c
    SET hit_class = CASE WHEN c.hit_class = 'human' THEN 'scanner' ELSE c.hit_class END,
        reasons = c.reasons || ARRAY['burst']
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS b(click_id, clicked_at, old_class)
    WHERE c.click_id = b.click_id AND c.clicked_at = b.clicked_at
      AND NOT 'burst' = ANY (c.reasons)
    RETURNING c.click_id, c.account_id, c.message_id, c.template_id, c.clicked_at, c.kind,
              b.old_class
)
INSERT INTO click_flipped SELECT * FROM flipped
"""

_NON_HUMAN_NOW = """
SELECT click_id FROM click_ingested WHERE hit_class <> 'human'
UNION SELECT click_id FROM click_flipped
"""

_OUTCOME_MESSAGES = f"""
SELECT v.account_id, v.message_id FROM conversions v
JOIN ({_NON_HUMAN_NOW}) x ON v.click_id = x.click_id
WHERE v.message_id IS NOT NULL
UNION
SELECT account_id, message_id FROM click_ingested WHERE kind = 'SHARE' AND hit_class = 'human'
"""


# Outcomes carried by a click now known not to be human stop counting.
def withdraw_outcomes(clicks: str) -> str:
    """The statement that withdraws the outcomes carried by `clicks` (a query of
    click ids), now known not to be a person's: NON_HUMAN_CLICK, which is judged
    before the window, so it also replaces WINDOW_EXPIRED."""
    return f"""
UPDATE conversions v SET unattributed_reason = 'NON_HUMAN_CLICK'
FROM ({clicks}) x(click_id)
WHERE v.click_id = x.click_id
  AND (v.unattributed_reason IS NULL OR v.unattributed_reason = 'WINDOW_EXPIRED')
"""


_UNMAKE = withdraw_outcomes(_NON_HUMAN_NOW)


def share_taps(hits: str, which: str) -> str:
    """The statement that makes each human tap on a share button among `hits`
    (a table of clicks, as `i`) that `which` selects a share, judged by the
    window like any outcome; a tap already a share is left as it is."""
    window = WINDOW_SQL.format(
        occurred="i.clicked_at", sent="m.sent_at", window="t.attribution_window_seconds"
    )
    return f"""
INSERT INTO conversions (account_id, kind, external_id, click_id, smart_url_id,
                         message_id, template_id, occurred_at, person_key, window_seconds,
                         unattributed_reason)
SELECT i.account_id, 'SHARE', i.click_id::text, i.click_id, i.smart_url_id, i.message_id,
       i.template_id, i.clicked_at, '{SHARE_PERSON}', t.attribution_window_seconds,
       CASE WHEN {window} THEN NULL ELSE 'WINDOW_EXPIRED' END
FROM {hits} i
JOIN messages m ON m.account_id = i.account_id AND m.message_id = i.message_id
JOIN templates t ON t.account_id = i.account_id AND t.template_id = i.template_id
WHERE i.kind = 'SHARE' AND i.hit_class = 'human' AND {which}
ON CONFLICT DO NOTHING
"""


# A human tap on a share button is a share, unless this batch's burst took it.
_SHARES = share_taps(
    "click_ingested", "NOT EXISTS (SELECT 1 FROM click_flipped f WHERE f.click_id = i.click_id)"
)

_HOUR = "date_trunc('hour', {}, 'UTC')"

# Classes as stored by _MOVE, then the burst's human-to-scanner flips undone.
_TRAFFIC = f"""
WITH deltas AS (
    SELECT account_id, template_id, {_HOUR.format("clicked_at")} AS hour, {HIT_FIGURES}
    FROM click_ingested GROUP BY 1, 2, 3
    UNION ALL
    SELECT account_id, template_id, {_HOUR.format("clicked_at")}, -count(*), 0, count(*), 0, 0
    FROM click_flipped WHERE old_class = 'human' GROUP BY 1, 2, 3
)
INSERT INTO rollup_deltas (account_id, template_id, hour, clicks, friend_clicks,
                           scanner_hits, preview_hits, bot_hits)
SELECT * FROM deltas
"""

_FIRST_CLICK_DELTAS = f"""
deltas AS (
    SELECT account_id, template_id, {_HOUR.format("old")} AS hour, -1 AS d
    FROM changed WHERE old IS NOT NULL
    UNION ALL
    SELECT account_id, template_id, {_HOUR.format("new")}, 1 FROM changed WHERE new IS NOT NULL
)
INSERT INTO rollup_deltas (account_id, template_id, hour, unique_clickers)
SELECT * FROM deltas
"""

# A message's unique clicker is counted in the hour of its first human click
# (messages.first_click_at). New human clicks can only move it earlier, which
# row locks make safe without the message locks: only the messages whose first
# click moves are locked (FOR UPDATE re-reads a row another batch changed
# meanwhile, and re-checks the condition on it), in key order, so batches do not
# deadlock over them. Run before _LOCK_MESSAGES, this work stays out of the
# section batches sharing a message take turns in (one primary-key probe per
# message, as in _MOVE: a join would hash the whole messages table for every
# batch, a cost that grows with every send).
#
# A click this batch's burst rule then withdraws is put right by _LOST_FIRST_CLICKS.
_EARLIER_FIRST_CLICKS = f"""
WITH candidates AS (
    SELECT account_id, message_id, min(clicked_at) AS first
    FROM click_ingested
    WHERE hit_class = 'human' AND kind <> 'SHARED_REFERRAL'
    GROUP BY 1, 2
    ORDER BY 1, 2
), moved AS (
    SELECT k.account_id, k.message_id, m.template_id, m.first_click_at AS old, k.first AS new
    FROM candidates k
    CROSS JOIN LATERAL (
        SELECT m.template_id, m.first_click_at FROM messages m
        WHERE m.account_id = k.account_id AND m.message_id = k.message_id
          AND (m.first_click_at IS NULL OR m.first_click_at > k.first)
        FOR UPDATE
    ) m
), changed AS (
    UPDATE messages m SET first_click_at = v.new
    FROM moved v
    WHERE m.account_id = v.account_id AND m.message_id = v.message_id
    RETURNING v.account_id, v.template_id, v.old, v.new
), {_FIRST_CLICK_DELTAS}"""

# A message that lost a human click to the burst rule has its first click looked
# up again, under its message lock, among the clicks committed so far (a batch
# that stores an earlier human click later moves it earlier again, above). If
# such a batch has moved it already and waits for the message lock, holding
# the row, the two deadlock: PostgreSQL aborts one and retry_deadlocks stores
# that batch again. Only bursts that withdraw a human click get here.
_LOST_FIRST_CLICKS = f"""
WITH lost AS (
    SELECT DISTINCT account_id, message_id FROM click_flipped WHERE old_class = 'human'
), news AS (
    SELECT m.account_id, m.message_id, m.template_id, m.first_click_at AS old,
           (SELECT min(c.clicked_at) FROM clicks c
            WHERE c.account_id = m.account_id AND c.message_id = m.message_id
              AND c.hit_class = 'human' AND c.kind <> 'SHARED_REFERRAL') AS new
    FROM lost l
    JOIN messages m ON m.account_id = l.account_id AND m.message_id = l.message_id
), changed AS (
    UPDATE messages m SET first_click_at = n.new
    FROM news n
    WHERE m.account_id = n.account_id AND m.message_id = n.message_id
      AND n.new IS DISTINCT FROM n.old
    RETURNING n.account_id, n.template_id, n.old, n.new
), {_FIRST_CLICK_DELTAS}"""


@dataclass(frozen=True, slots=True)
class IngestResult:
    stored: int
    duplicates: int
    # Older than the retention period (see ClickPartitions.oldest_accepted):
    # acknowledged, not stored.
    expired: int = 0


async def ingest_clicks(
    db: asyncpg.Pool,
    partitions: ClickPartitions,
    clicks: Sequence[ClickRow],
    links: LinkMessages | None = None,
) -> IngestResult:
    if not clicks:
        return IngestResult(0, 0)
    oldest_us = int(partitions.oldest_accepted().timestamp() * 1_000_000)
    expired = 0
    if min(c[2] for c in clicks) < oldest_us:
        kept = [c for c in clicks if c[2] >= oldest_us]
        expired = len(clicks) - len(kept)
        clicks = kept
        if not clicks:
            return IngestResult(0, 0, expired)
    first = datetime.fromtimestamp(min(c[2] for c in clicks) / 1e6, UTC)
    last = datetime.fromtimestamp(max(c[2] for c in clicks) / 1e6, UTC)
    async with db.acquire() as conn:
        await partitions.ensure(conn, first, last)

        known = LinkMessages() if links is None else links

        async def store(conn: asyncpg.Connection) -> int:
            return await _store(conn, await _staged_rows(conn, known, clicks), first, last)

        stored = await retry_deadlocks(conn, store)
    return IngestResult(stored=stored, duplicates=len(clicks) - stored, expired=expired)


class LinkMessages(dict[int, tuple[int, int] | None]):
    """The message of each link seen, (account, message), or None for a friend's
    shared link or an unknown one. A link's message never changes once minted,
    so one control plane keeps them (for its one database): the burst rule
    among a batch's own clicks is judged before they are stored, and they are
    inserted marked rather than inserted and then updated."""

    MAX = 500_000


_LINK_MESSAGES = """
SELECT smart_url_id, account_id, message_id, kind = 'SHARED_REFERRAL'
FROM smart_urls WHERE smart_url_id = ANY ($1::bigint[])
"""


async def _messages_of(
    conn: asyncpg.Connection, known: dict[int, tuple[int, int] | None], links: set[int]
) -> None:
    """Fills `known` for these links: (account, message), or None for a friend's
    shared link (the burst rule skips those) or an unknown one."""
    missing = [link for link in links if link not in known]
    if not missing:
        return
    if len(known) + len(missing) > LinkMessages.MAX:
        known.clear()
    found = {
        r[0]: (None if r[3] else (r[1], r[2])) for r in await conn.fetch(_LINK_MESSAGES, missing)
    }
    for link in missing:
        known[link] = found.get(link)


async def _staged_rows(
    conn: asyncpg.Connection,
    known: dict[int, tuple[int, int] | None],
    clicks: Sequence[ClickRow],
) -> list[tuple[object, ...]]:
    """The rows for click_staging: each click and whether another link of its
    message is clicked within the burst window in this batch."""
    await _messages_of(conn, known, {c[1] for c in clicks})
    in_burst = bursts_within([(known[c[1]], c[1], c[2]) for c in clicks])
    return [(*c, marked) for c, marked in zip(clicks, in_burst, strict=True)]


async def _store(
    conn: asyncpg.Connection, staged: list[tuple[object, ...]], first: datetime, last: datetime
) -> int:
    await conn.execute(_STAGING)
    await conn.copy_records_to_table("click_staging", records=staged)
    status = await conn.execute(_MOVE)
    stored = int(status.rsplit(" ", 1)[1])
    if not stored:
        return 0
    await conn.execute("ANALYZE click_ingested")
    await prepare(conn)
    await conn.execute(_EARLIER_FIRST_CLICKS)
    await conn.execute(_LOCK_MESSAGES)
    window = timedelta(seconds=BURST_SECONDS)
    burst = await conn.fetch(_BURST, first - window, last + window)
    flipped = 0
    if burst:
        ids, times, classes = zip(*burst, strict=True)
        status = await conn.execute(_FLIP, list(ids), list(times), list(classes))
        flipped = int(status.rsplit(" ", 1)[1])
    # Every message whose outcomes this batch can make or unmake (all locked above).
    touched = [(r[0], r[1]) for r in await conn.fetch(_OUTCOME_MESSAGES)]
    before = await contributions(conn, touched)
    await conn.execute(_UNMAKE)
    await conn.execute(_SHARES)
    await add_outcome_deltas(conn, touched, before, apply=False)
    await conn.execute(_TRAFFIC)
    if flipped:
        await conn.execute(_LOST_FIRST_CLICKS)
    await apply_deltas(conn)
    return stored
