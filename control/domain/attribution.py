"""Signups and orders: recorded always, attributed to a message when they can be.

mbsy_source is signed and names the Smart URL and the click, so an outcome is
attributed at once, even when the click's batch has not reached PostgreSQL yet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from control.domain import validation
from control.domain.accounts import get_account
from control.domain.errors import AlreadyExists
from control.domain.model import Conversion, ConversionKind, UnattributedReason
from signing.keys import SigningKeys
from signing.sources import verify_source


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a merchant or the enrollment system reported."""

    account_id: int
    kind: ConversionKind
    external_id: str
    mbsy_source: str
    shortcode: str
    amount_minor: int
    currency: str
    occurred_at: datetime | None


@dataclass(frozen=True, slots=True)
class Attribution:
    smart_url_id: int | None = None
    click_id: uuid.UUID | None = None
    message_id: int | None = None
    template_id: int | None = None
    reason: UnattributedReason | None = None


def check_outcome(outcome: Outcome) -> None:
    id_field = "order_id" if outcome.kind == "ORDER" else "signup_id"
    validation.positive_id("account_id", outcome.account_id)
    validation.external_id(id_field, outcome.external_id)
    # Longer than any source we mint, but a mangled one is recorded, not refused.
    validation.text("mbsy_source", outcome.mbsy_source, 256)
    if outcome.kind == "ORDER":
        validation.amount_minor(outcome.amount_minor)
        validation.currency(outcome.currency)
    if outcome.shortcode:
        validation.shortcode("shortcode", outcome.shortcode)


async def attribute(conn: asyncpg.Connection, keys: SigningKeys, outcome: Outcome) -> Attribution:
    if not outcome.mbsy_source:
        return Attribution(reason="NO_SOURCE")
    source = verify_source(keys, outcome.mbsy_source)
    if source is None:
        return Attribution(reason="UNKNOWN_SOURCE")
    row = await conn.fetchrow(
        "SELECT s.account_id, s.message_id, s.template_id, m.advocate_shortcode"
        " FROM smart_urls s JOIN messages m"
        "   ON m.account_id = s.account_id AND m.message_id = s.message_id"
        " WHERE s.smart_url_id = $1",
        source.smart_url_id,
    )
    if row is None or row["account_id"] != outcome.account_id:
        return Attribution(reason="UNKNOWN_SOURCE")
    if outcome.shortcode and outcome.shortcode != row["advocate_shortcode"]:
        return Attribution(reason="SHORTCODE_MISMATCH")
    return Attribution(
        smart_url_id=source.smart_url_id,
        click_id=source.click_id,
        message_id=row["message_id"],
        template_id=row["template_id"],
    )


_SELECT = """
SELECT c.conversion_id, c.account_id, c.kind, c.external_id, c.unattributed_reason,
       m.external_message_id AS message_id, c.template_id, c.smart_url_id, c.click_id,
       c.amount_minor, c.currency, c.occurred_at, c.mbsy_source, c.shortcode
FROM conversions c
LEFT JOIN messages m ON m.account_id = c.account_id AND m.message_id = c.message_id
WHERE c.account_id = $1 AND c.kind = $2 AND c.external_id = $3
"""


async def record_outcome(db: asyncpg.Pool, keys: SigningKeys, outcome: Outcome) -> Conversion:
    """Records once per external id; a retry with the same values returns the record."""
    check_outcome(outcome)
    key = (outcome.account_id, outcome.kind, outcome.external_id)
    async with db.acquire() as conn:
        await get_account(conn, outcome.account_id)
        stored = await conn.fetchrow(_SELECT, *key)
        if stored is None:
            where = await attribute(conn, keys, outcome)
            inserted = await conn.fetchval(
                "INSERT INTO conversions (account_id, kind, external_id, mbsy_source, shortcode,"
                " click_id, smart_url_id, message_id, template_id, unattributed_reason,"
                " amount_minor, currency, occurred_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                " ON CONFLICT (account_id, kind, external_id) DO NOTHING RETURNING conversion_id",
                *key,
                outcome.mbsy_source,
                outcome.shortcode,
                where.click_id,
                where.smart_url_id,
                where.message_id,
                where.template_id,
                where.reason,
                outcome.amount_minor,
                outcome.currency,
                outcome.occurred_at or datetime.now(UTC),
            )
            stored = await conn.fetchrow(_SELECT, *key)
            if inserted is not None:
                return _conversion(stored, replayed=False)
    # Stored before, or by a concurrent retry that won the insert.
    _check_same(outcome, stored)
    return _conversion(stored, replayed=True)


def _check_same(outcome: Outcome, stored: asyncpg.Record) -> None:
    id_field = "order_id" if outcome.kind == "ORDER" else "signup_id"
    mine = (outcome.mbsy_source, outcome.shortcode, outcome.amount_minor, outcome.currency)
    theirs = (
        stored["mbsy_source"],
        stored["shortcode"],
        stored["amount_minor"],
        stored["currency"],
    )
    if mine != theirs:
        raise AlreadyExists(
            f"{id_field}: {outcome.external_id!r} was recorded before with other values"
            " (mbsy_source, shortcode, amount or currency)"
        )


def _conversion(row: asyncpg.Record, *, replayed: bool) -> Conversion:
    values = dict(row)
    del values["mbsy_source"], values["shortcode"]
    return Conversion(**values, replayed=replayed)
