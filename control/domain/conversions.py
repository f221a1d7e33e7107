"""Signups and orders, cancellations and refunds: recorded always, once per
external id, attributed by the rules in attribution.py, and folded into the
hourly rollups in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from control.domain import validation
from control.domain.accounts import get_account
from control.domain.attribution import gather, judge, person_key
from control.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from control.domain.model import Conversion, ConversionKind
from control.domain.retry import retry_deadlocks
from control.domain.rollups import add_outcome_deltas, contributions, lock_messages
from signing.keys import SigningKeys


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
    customer_id: str = ""


def _id_field(kind: ConversionKind) -> str:
    return {"ORDER": "order_id", "SIGNUP": "signup_id", "SHARE": "external_id"}[kind]


def check_outcome(outcome: Outcome) -> None:
    validation.positive_id("account_id", outcome.account_id)
    validation.external_id(_id_field(outcome.kind), outcome.external_id)
    # Longer than any source we mint, but a mangled one is recorded, not refused.
    validation.text("mbsy_source", outcome.mbsy_source, 256)
    validation.text("customer_id", outcome.customer_id, 256)
    if outcome.kind == "ORDER":
        validation.amount_minor(outcome.amount_minor)
        validation.currency(outcome.currency)
    if outcome.shortcode:
        validation.shortcode("shortcode", outcome.shortcode)
    validation.moment("occurred_at", outcome.occurred_at)


SELECT_CONVERSION = """
SELECT c.conversion_id, c.account_id, c.kind, c.external_id, c.unattributed_reason,
       m.external_message_id AS message_id, c.template_id, c.smart_url_id, c.click_id,
       c.amount_minor, c.currency, c.occurred_at, c.customer_id, c.cancelled_at,
       c.refunded_minor, c.mbsy_source, c.shortcode, c.message_id AS message_key
FROM conversions c
LEFT JOIN messages m ON m.account_id = c.account_id AND m.message_id = c.message_id
WHERE c.account_id = $1 AND c.kind = $2 AND c.external_id = $3
"""


async def record_outcome(db: asyncpg.Pool, keys: SigningKeys, outcome: Outcome) -> Conversion:
    """Records once per external id; a retry with the same values returns the record."""
    check_outcome(outcome)
    key = (outcome.account_id, outcome.kind, outcome.external_id)
    occurred_at = outcome.occurred_at or datetime.now(UTC)
    async with db.acquire() as conn:
        await get_account(conn, outcome.account_id)
        stored = await conn.fetchrow(SELECT_CONVERSION, *key)
        if stored is None:
            # Outside the lock: which message (if any) the source names.
            evidence = await gather(
                conn, keys, outcome.account_id, outcome.mbsy_source, outcome.shortcode, occurred_at
            )
            chain = evidence.chain

            messages = [(outcome.account_id, chain.message_id)] if chain else []

            async def insert(conn: asyncpg.Connection) -> int | None:
                reason = judge(evidence)
                await lock_messages(conn, messages)
                before = await contributions(conn, messages)
                if chain is not None:
                    # Judged again under the lock: a click batch committed since the
                    # first look may have shown the click to be a bot's, and its
                    # ingest could not un-attribute an outcome that did not exist yet.
                    reason = judge(
                        await gather(
                            conn,
                            keys,
                            outcome.account_id,
                            outcome.mbsy_source,
                            outcome.shortcode,
                            occurred_at,
                        )
                    )
                inserted: int | None = await conn.fetchval(
                    "INSERT INTO conversions (account_id, kind, external_id, mbsy_source,"
                    " shortcode, click_id, smart_url_id, message_id, template_id,"
                    " unattributed_reason, amount_minor, currency, occurred_at, customer_id,"
                    " person_key, window_seconds)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                    " $16) ON CONFLICT (account_id, kind, external_id) DO NOTHING"
                    " RETURNING conversion_id",
                    *key,
                    outcome.mbsy_source,
                    outcome.shortcode,
                    chain and chain.click_id,
                    chain and chain.smart_url_id,
                    chain and chain.message_id,
                    chain and chain.template_id,
                    reason,
                    outcome.amount_minor,
                    outcome.currency,
                    occurred_at,
                    outcome.customer_id,
                    person_key(
                        outcome.kind,
                        outcome.customer_id,
                        chain.click_id if chain else None,
                        outcome.external_id,
                    ),
                    chain and chain.window_seconds,
                )
                if inserted is not None and messages:
                    await add_outcome_deltas(conn, messages, before)
                return inserted

            inserted = await retry_deadlocks(conn, insert)
            stored = await conn.fetchrow(SELECT_CONVERSION, *key)
            if inserted is not None:
                return conversion_of(stored, replayed=False)
    # Stored before, or by a concurrent retry that won the insert.
    _check_same(outcome, stored)
    return conversion_of(stored, replayed=True)


def _check_same(outcome: Outcome, stored: asyncpg.Record) -> None:
    mine = (
        outcome.mbsy_source,
        outcome.shortcode,
        outcome.amount_minor,
        outcome.currency,
        outcome.customer_id,
    )
    theirs = (
        stored["mbsy_source"],
        stored["shortcode"],
        stored["amount_minor"],
        stored["currency"],
        stored["customer_id"],
    )
    if mine != theirs:
        raise AlreadyExists(
            f"{_id_field(outcome.kind)}: {outcome.external_id!r} was recorded before with other"
            " values (mbsy_source, shortcode, amount, currency or customer_id)"
        )


def conversion_of(row: asyncpg.Record, *, replayed: bool) -> Conversion:
    values = dict(row)
    del values["mbsy_source"], values["shortcode"], values["message_key"]
    return Conversion(**values, replayed=replayed)


async def _load_order(conn: asyncpg.Connection, account_id: int, order_id: str) -> asyncpg.Record:
    validation.positive_id("account_id", account_id)
    validation.external_id("order_id", order_id)
    await get_account(conn, account_id)
    row = await conn.fetchrow(SELECT_CONVERSION, account_id, "ORDER", order_id)
    if row is None:
        raise NotFound(f"order_id: no order {order_id!r} in account {account_id}")
    return row


async def _change_order(
    conn: asyncpg.Connection, row: asyncpg.Record, statement: str, *args: object
) -> None:
    messages = [(row["account_id"], row["message_key"])] if row["message_key"] else []

    async def change(conn: asyncpg.Connection) -> None:
        await lock_messages(conn, messages)
        before = await contributions(conn, messages)
        await conn.execute(statement, row["account_id"], row["conversion_id"], *args)
        if messages:
            await add_outcome_deltas(conn, messages, before)

    await retry_deadlocks(conn, change)


async def cancel_order(
    db: asyncpg.Pool, account_id: int, order_id: str, occurred_at: datetime | None
) -> Conversion:
    """The order stops counting; cancelling again changes nothing."""
    validation.moment("occurred_at", occurred_at)
    async with db.acquire() as conn:
        row = await _load_order(conn, account_id, order_id)
        if row["cancelled_at"] is None:
            await _change_order(
                conn,
                row,
                "UPDATE conversions SET cancelled_at = coalesce(cancelled_at, $3)"
                " WHERE account_id = $1 AND conversion_id = $2",
                occurred_at or datetime.now(UTC),
            )
            row = await conn.fetchrow(SELECT_CONVERSION, account_id, "ORDER", order_id)
            return conversion_of(row, replayed=False)
        return conversion_of(row, replayed=True)


async def refund_order(
    db: asyncpg.Pool,
    account_id: int,
    order_id: str,
    refund_id: str,
    amount_minor: int,
    occurred_at: datetime | None,
) -> Conversion:
    """Takes a refund off the order's revenue once per refund id; amount 0
    refunds what is left. A fully refunded order stops counting."""
    validation.external_id("refund_id", refund_id)
    validation.moment("occurred_at", occurred_at)
    if amount_minor < 0:
        raise InvalidArgument.field("amount_minor", "must not be negative")
    async with db.acquire() as conn:
        row = await _load_order(conn, account_id, order_id)
        previous = await conn.fetchval(
            "SELECT amount_minor FROM refunds"
            " WHERE account_id = $1 AND conversion_id = $2 AND refund_id = $3",
            account_id,
            row["conversion_id"],
            refund_id,
        )
        if previous is not None:
            if amount_minor not in (0, previous):
                raise AlreadyExists(
                    f"refund_id: {refund_id!r} was recorded before with amount_minor {previous}"
                )
            return conversion_of(row, replayed=True)
        left = row["amount_minor"] - row["refunded_minor"]
        amount = amount_minor or left
        if row["cancelled_at"] is not None:
            raise FailedPrecondition(f"order_id: order {order_id!r} was cancelled")
        if amount <= 0:
            raise FailedPrecondition(f"order_id: order {order_id!r} has nothing left to refund")
        if amount > left:
            raise InvalidArgument.field(
                "amount_minor", f"{amount} is more than the {left} left to refund"
            )
        try:
            await _refund(conn, row, refund_id, amount, occurred_at or datetime.now(UTC))
            stored_amount = await conn.fetchval(
                "SELECT amount_minor FROM refunds"
                " WHERE account_id = $1 AND conversion_id = $2 AND refund_id = $3",
                account_id,
                row["conversion_id"],
                refund_id,
            )
            if stored_amount != amount:
                # A concurrent retry with the same refund id and another amount won.
                raise AlreadyExists(
                    f"refund_id: {refund_id!r} was recorded before with amount_minor"
                    f" {stored_amount}"
                )
        except asyncpg.CheckViolationError:
            # A concurrent refund of the same order took what was left first.
            raise InvalidArgument.field(
                "amount_minor", f"{amount} is more than is left to refund"
            ) from None
        row = await conn.fetchrow(SELECT_CONVERSION, account_id, "ORDER", order_id)
        return conversion_of(row, replayed=False)


async def _refund(
    conn: asyncpg.Connection, row: asyncpg.Record, refund_id: str, amount: int, at: datetime
) -> None:
    await _change_order(
        conn,
        row,
        "WITH r AS (INSERT INTO refunds (account_id, conversion_id, refund_id,"
        " amount_minor, occurred_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING RETURNING amount_minor)"
        " UPDATE conversions SET refunded_minor = refunded_minor + r.amount_minor"
        " FROM r WHERE account_id = $1 AND conversion_id = $2",
        refund_id,
        amount,
        at,
    )
