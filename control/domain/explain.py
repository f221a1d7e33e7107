"""ExplainConversion: the chain behind an outcome, read from stored references.

order/signup -> the click that carried mbsy_source -> (for a friend's click)
the shared referral link -> the share button and the advocate's tap on it ->
the message -> the template, or the reason the chain does not count.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, timedelta

import asyncpg

from control.domain import validation
from control.domain.accounts import get_account
from control.domain.attribution import CLICK_BY_ID, uuid7_time
from control.domain.conversions import SELECT_CONVERSION, conversion_of
from control.domain.errors import InvalidArgument, NotFound
from control.domain.model import ClickFacts, ConversionExplanation, ConversionKind

_SUMMARIES = {
    None: "Counts for message {message}: a human click, within the {window} window.",
    "NO_SOURCE": "Not attributed: it came without mbsy_source, so no message can be named.",
    "SENT_BEFORE_SMART_URLS": "Not attributed: its mbsy_source is not a Smart URL source;"
    " the message was sent before the account used Smart URLs.",
    "UNKNOWN_SOURCE": "Not attributed: its mbsy_source was not minted for this account"
    " (forged, mangled or another account's).",
    "SHORTCODE_MISMATCH": "Not attributed: the order's shortcode is not the shortcode of"
    " message {message}'s advocate.",
    "NON_HUMAN_CLICK": "Not attributed: the click that carried it was classified {hit_class}.",
    "WINDOW_EXPIRED": "Not attributed: it occurred after the {window} window of message"
    " {message} closed at {window_ends}.",
}

# The advocate's tap that made a shared referral link: the earliest human tap on
# the share button before the friend's click (any tap, if none was human).
_SHARE_TAP = """
SELECT c.click_id, c.clicked_at, c.hit_class, c.reasons, c.smart_url_id, c.kind,
       u.link_name
FROM clicks c JOIN smart_urls u ON u.smart_url_id = c.smart_url_id
WHERE c.account_id = $1 AND c.message_id = $2 AND c.smart_url_id = $3 AND c.clicked_at <= $4
ORDER BY c.hit_class <> 'human', c.clicked_at
LIMIT 1
"""


def _click(row: asyncpg.Record | None, click_id: uuid.UUID) -> ClickFacts:
    if row is None:
        return ClickFacts(click_id=click_id, stored=False)
    return ClickFacts(
        click_id=row["click_id"],
        stored=True,
        clicked_at=row["clicked_at"],
        hit_class=row["hit_class"],
        reasons=tuple(row["reasons"]),
        smart_url_id=row["smart_url_id"],
        link_kind=row["kind"],
        link_name=row["link_name"],
    )


def _duration(seconds: int) -> str:
    if seconds % 86400 == 0:
        return f"{seconds // 86400}-day"
    return f"{seconds / 3600:g}-hour"


async def explain_conversion(
    db: asyncpg.Pool, account_id: int, kind: ConversionKind | None, external_id: str
) -> ConversionExplanation:
    validation.positive_id("account_id", account_id)
    if kind is None:
        raise InvalidArgument.field("kind", "required: SHARE, SIGNUP or ORDER")
    validation.external_id("external_id", external_id)
    if kind == "SHARE":
        # A share's id is its click id; take it in any spelling uuid reads (hex, hyphens).
        with contextlib.suppress(ValueError):
            external_id = str(uuid.UUID(external_id))
    async with db.acquire() as conn:
        await get_account(conn, account_id)
        row = await conn.fetchrow(SELECT_CONVERSION, account_id, kind, external_id)
        if row is None:
            raise NotFound(
                f"external_id: no {kind.lower()} {external_id!r} in account {account_id}"
            )
        conversion = conversion_of(row, replayed=False)
        facts = await conn.fetchrow(
            "SELECT m.external_message_id, m.sent_at, m.advocate_shortcode, t.template_id,"
            " t.name, coalesce(v.window_seconds, t.attribution_window_seconds) AS window,"
            " (SELECT g.goal FROM template_goals g WHERE g.account_id = t.account_id"
            "   AND g.template_id = t.template_id AND g.effective_from <= v.occurred_at"
            "   ORDER BY g.effective_from DESC LIMIT 1) AS goal,"
            " u.kind AS link_kind, u.parent_smart_url_id"
            " FROM conversions v"
            " JOIN messages m ON m.account_id = v.account_id AND m.message_id = v.message_id"
            " JOIN templates t ON t.account_id = v.account_id AND t.template_id = v.template_id"
            " JOIN smart_urls u ON u.smart_url_id = v.smart_url_id"
            " WHERE v.account_id = $1 AND v.conversion_id = $2",
            account_id,
            row["conversion_id"],
        )
        click = share_click = None
        if conversion.click_id is not None:
            click = _click(
                await conn.fetchrow(
                    CLICK_BY_ID, conversion.click_id, uuid7_time(conversion.click_id)
                ),
                conversion.click_id,
            )
        if facts is not None and facts["link_kind"] == "SHARED_REFERRAL":
            before = click.clicked_at if click and click.clicked_at else conversion.occurred_at
            tap = await conn.fetchrow(
                _SHARE_TAP,
                account_id,
                row["message_key"],
                facts["parent_smart_url_id"],
                before,
            )
            if tap is not None:
                share_click = _click(tap, tap["click_id"])
    if facts is None:
        summary = _SUMMARIES[conversion.unattributed_reason]
        return ConversionExplanation(conversion=conversion, summary=summary, click=click)
    window_ends: datetime = facts["sent_at"] + timedelta(seconds=facts["window"])
    summary = _SUMMARIES[conversion.unattributed_reason].format(
        message=repr(facts["external_message_id"]),
        window=_duration(facts["window"]),
        window_ends=window_ends.isoformat(),
        hit_class=click.hit_class if click else "not human",
    )
    if conversion.attributed and not conversion.counted:
        why = "cancelled" if conversion.cancelled_at else "fully refunded"
        summary = f"Attributed to message {facts['external_message_id']!r}, but {why}."
    return ConversionExplanation(
        conversion=conversion,
        summary=summary,
        click=click,
        share_click=share_click,
        message_id=facts["external_message_id"],
        sent_at=facts["sent_at"],
        advocate_shortcode=facts["advocate_shortcode"],
        template_id=facts["template_id"],
        template_name=facts["name"],
        goal_at_occurrence=facts["goal"],
        window_seconds=facts["window"],
        window_ends_at=window_ends,
    )
