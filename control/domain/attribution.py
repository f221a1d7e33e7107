"""The attribution rules: whether an outcome counts for a message, and if not, why.

Every outcome (share, signup, order) is recorded whatever the template's goal;
these rules decide whether it is attributed. In order of precedence:

| reason                  | when                                                          |
|-------------------------|---------------------------------------------------------------|
| NO_SOURCE               | no mbsy_source                                                |
| SENT_BEFORE_SMART_URLS  | an mbsy_source that is not a Smart URL source (a legacy value)|
| UNKNOWN_SOURCE          | Smart URL shaped but forged, or of another account            |
| SHORTCODE_MISMATCH      | the order's shortcode is not the message's advocate's         |
| NON_HUMAN_CLICK         | the click that carried the source is a scanner/preview/bot's  |
| WINDOW_EXPIRED          | later than the template's window after the message was sent   |

The window is inclusive: sent_at + window itself still counts. A click that is
not stored yet (its batch is on its way) counts as human until it lands; the
click ingest then applies NON_HUMAN_CLICK (click_ingest.py). Shares are made by
click ingest in SQL from human taps only, with WINDOW_SQL below.

Who the person is, for "once per person per message" (person_key): the
advocate for a share (one advocate per message); otherwise the caller's
customer id, else the click that carried mbsy_source, else the external id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg

from control.domain.model import ConversionKind, HitClass, UnattributedReason
from signing.keys import SigningKeys
from signing.sources import looks_like_source, verify_source

DEFAULT_WINDOW_SECONDS = 30 * 86400
MIN_WINDOW_SECONDS = 3600
MAX_WINDOW_SECONDS = 90 * 86400

# The window rule in SQL, for outcomes judged by a query (shares at ingest).
WINDOW_SQL = "({occurred} <= {sent} + make_interval(secs => {window}))"

SHARE_PERSON = "advocate"

SourceState = Literal["none", "legacy", "ours"]


@dataclass(frozen=True, slots=True)
class Chain:
    """What a verified mbsy_source leads to."""

    smart_url_id: int
    click_id: uuid.UUID
    message_id: int
    template_id: int
    advocate_shortcode: str
    sent_at: datetime
    window_seconds: int


@dataclass(frozen=True, slots=True)
class Evidence:
    source: SourceState
    # None when the source is not ours: forged, or another account's.
    chain: Chain | None
    shortcode: str
    # None while the click is not stored (or was dropped by retention).
    click_class: HitClass | None
    occurred_at: datetime


def within_window(sent_at: datetime, window_seconds: int, occurred_at: datetime) -> bool:
    return occurred_at <= sent_at + timedelta(seconds=window_seconds)


def judge(evidence: Evidence) -> UnattributedReason | None:
    """None when the outcome counts for its message; else the reason it does not."""
    if evidence.source == "none":
        return "NO_SOURCE"
    if evidence.source == "legacy":
        return "SENT_BEFORE_SMART_URLS"
    chain = evidence.chain
    if chain is None:
        return "UNKNOWN_SOURCE"
    if evidence.shortcode and evidence.shortcode != chain.advocate_shortcode:
        return "SHORTCODE_MISMATCH"
    if evidence.click_class not in (None, "human"):
        return "NON_HUMAN_CLICK"
    if not within_window(chain.sent_at, chain.window_seconds, evidence.occurred_at):
        return "WINDOW_EXPIRED"
    return None


def person_key(
    kind: ConversionKind, customer_id: str, click_id: uuid.UUID | None, external_id: str
) -> str:
    if kind == "SHARE":
        return SHARE_PERSON
    if customer_id:
        return "customer:" + customer_id
    if click_id is not None:
        return "click:" + str(click_id)
    return "external:" + external_id


def uuid7_time(click_id: uuid.UUID) -> datetime:
    """The millisecond a UUIDv7 was made: the edge makes the click id and its
    clicked_at together, so this finds the click's partition."""
    return datetime.fromtimestamp((click_id.int >> 80) / 1000, UTC)


# Lookups by click id name a narrow clicked_at range so only one partition is read.
CLICK_BY_ID = """
SELECT c.click_id, c.clicked_at, c.hit_class, c.reasons, c.smart_url_id, c.kind,
       u.link_name, u.parent_smart_url_id
FROM clicks c JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
WHERE c.click_id = $1
  AND c.clicked_at BETWEEN $2::timestamptz - interval '1 minute'
                       AND $2::timestamptz + interval '1 minute'
"""


async def gather(
    conn: asyncpg.Connection,
    keys: SigningKeys,
    account_id: int,
    mbsy_source: str,
    shortcode: str,
    occurred_at: datetime,
) -> Evidence:
    def evidence(
        source: SourceState, chain: Chain | None = None, click_class: HitClass | None = None
    ) -> Evidence:
        return Evidence(source, chain, shortcode, click_class, occurred_at)

    if not mbsy_source:
        return evidence("none")
    if not looks_like_source(mbsy_source):
        return evidence("legacy")
    source = verify_source(keys, mbsy_source)
    if source is None:
        return evidence("ours")
    row = await conn.fetchrow(
        "SELECT s.account_id, s.message_id, s.template_id, m.advocate_shortcode, m.sent_at,"
        "       t.attribution_window_seconds"
        " FROM smart_urls s"
        " JOIN messages m ON m.account_id = s.account_id AND m.message_id = s.message_id"
        " JOIN templates t ON t.account_id = s.account_id AND t.template_id = s.template_id"
        " WHERE s.smart_url_id = $1",
        source.smart_url_id,
    )
    if row is None or row["account_id"] != account_id:
        return evidence("ours")
    chain = Chain(
        smart_url_id=source.smart_url_id,
        click_id=source.click_id,
        message_id=row["message_id"],
        template_id=row["template_id"],
        advocate_shortcode=row["advocate_shortcode"],
        sent_at=row["sent_at"],
        window_seconds=row["attribution_window_seconds"],
    )
    click = await conn.fetchrow(CLICK_BY_ID, source.click_id, uuid7_time(source.click_id))
    return evidence("ours", chain, click["hit_class"] if click else None)
