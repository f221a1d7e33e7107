"""Stored hits classified again, after the classifier's data or rules changed.

Each hit's class is recomputed from its raw facts exactly as ingest made it:
the classifier (classifier/) on the stored method, user agent and address
prefix, then the control plane's rules (control/domain/hit_rules.py): too soon
after sending, and a burst (whose membership does not depend on class, so the
stored `burst` reason stands). What depended on a hit that changed sides follows
through the attribution rules: an outcome carried by a hit that is no longer a
person's is withdrawn (NON_HUMAN_CLICK), one carried by a hit that now is a
person's is restored (counted, or WINDOW_EXPIRED), and a share button tapped by
a person now is a share. Messages' first clicks and the rollups of the accounts
touched are then rebuilt from the raw facts, so they equal what reconcile
computes.

One transaction, with the rollup tables locked against writers first: ingest
and conversions wait for it, so nothing lands between reading and writing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from classifier import HUMAN, SCANNER, classify, stored_prefix_network
from control.domain.attribution import WINDOW_SQL
from control.domain.click_ingest import share_taps, withdraw_outcomes
from control.domain.hit_rules import SOON_AFTER_SEND_SECONDS
from control.domain.rollup_repair import LOCK_ROLLUPS, rebuild

_HITS = """
SELECT c.click_id, c.clicked_at, c.account_id, c.kind, c.method, c.user_agent,
       c.ip_prefix::text AS ip_prefix, c.hit_class, c.reasons, u.sent_at, u.channel
FROM clicks c JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
WHERE c.clicked_at >= $1 AND ($2::bigint IS NULL OR c.account_id = $2)
"""

_UPDATE = """
UPDATE clicks c SET hit_class = n.hit_class, reasons = n.reasons
FROM (SELECT click_id, clicked_at, hit_class,
             CASE WHEN reasons = '' THEN '{}'::text[]
                  ELSE string_to_array(reasons, E'\\n') END AS reasons
      FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[])
           AS u(click_id, clicked_at, hit_class, reasons)) n
WHERE c.click_id = n.click_id AND c.clicked_at = n.clicked_at
"""

# Outcomes carried by hits that are no longer a person's.
_WITHDRAW = withdraw_outcomes("SELECT unnest($1::uuid[])")

# NON_HUMAN_CLICK is judged after the source and shortcode rules and before the
# window: an outcome withdrawn for it passed the first ones, so the window decides.
_RESTORE = f"""
UPDATE conversions v
SET unattributed_reason = CASE WHEN {
    WINDOW_SQL.format(
        occurred="v.occurred_at",
        sent="m.sent_at",
        window="coalesce(v.window_seconds, t.attribution_window_seconds)",
    )
} THEN NULL ELSE 'WINDOW_EXPIRED' END
FROM messages m, templates t
WHERE v.click_id = ANY ($1::uuid[]) AND v.unattributed_reason = 'NON_HUMAN_CLICK'
  AND m.account_id = v.account_id AND m.message_id = v.message_id
  AND t.account_id = v.account_id AND t.template_id = v.template_id
"""

# Share taps that are a person's now.
_SHARES = share_taps("clicks", "i.click_id = ANY ($1::uuid[])")


@dataclass
class Reclassified:
    hits_read: int = 0
    # (class before, class now) -> hits
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    withdrawn: int = 0
    restored: int = 0
    shares_added: int = 0
    accounts: list[int] = field(default_factory=list)


def reclassify_hit(hit: asyncpg.Record) -> tuple[str, list[str]]:
    """The class and reasons ingest would store for this hit today."""
    verdict = classify(hit["method"], hit["user_agent"], stored_prefix_network(hit["ip_prefix"]))
    hit_class, reasons = verdict.hit_class, list(verdict.reasons)
    since_send = (hit["clicked_at"] - hit["sent_at"]).total_seconds()
    soon = SOON_AFTER_SEND_SECONDS.get(hit["channel"], SOON_AFTER_SEND_SECONDS["EMAIL"])
    if hit_class == HUMAN and hit["kind"] != "SHARED_REFERRAL" and since_send < soon:
        hit_class = SCANNER
        reasons.append(f"soon_after_send:{int(since_send // 1)}s")
    if "burst" in hit["reasons"]:
        reasons.append("burst")
        if hit_class == HUMAN:
            hit_class = SCANNER
    return hit_class, reasons


async def reclassify(
    conn: asyncpg.Connection, since: datetime, account_id: int | None = None
) -> Reclassified:
    """Reclassifies the hits stored since `since` (of one account, or all)."""
    result = Reclassified()
    async with conn.transaction():
        await conn.execute(LOCK_ROLLUPS)
        ids, times, classes, reasons = [], [], [], []
        now_human, now_other = [], []
        touched: set[int] = set()
        async for hit in conn.cursor(_HITS, since, account_id, prefetch=5000):
            result.hits_read += 1
            hit_class, why = reclassify_hit(hit)
            if hit_class == hit["hit_class"] and why == list(hit["reasons"]):
                continue
            ids.append(hit["click_id"])
            times.append(hit["clicked_at"])
            classes.append(hit_class)
            reasons.append("\n".join(why))
            touched.add(hit["account_id"])
            if hit_class != hit["hit_class"]:
                result.moves[hit["hit_class"], hit_class] += 1
                if hit_class == HUMAN:
                    now_human.append(hit["click_id"])
                elif hit["hit_class"] == HUMAN:
                    now_other.append(hit["click_id"])
        if not ids:
            return result
        await conn.execute(_UPDATE, ids, times, classes, reasons)
        result.withdrawn = _count(await conn.execute(_WITHDRAW, now_other))
        result.restored = _count(await conn.execute(_RESTORE, now_human))
        result.shares_added = _count(await conn.execute(_SHARES, now_human))
        result.accounts = sorted(touched)
        await rebuild(conn, result.accounts)
    return result


def _count(status: str) -> int:
    """Rows from a command tag such as 'UPDATE 3' or 'INSERT 0 3'."""
    return int(status.rsplit(" ", 1)[1])
