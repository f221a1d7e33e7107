"""Minting Smart URLs for messages at send time, in batches.

A batch is validated per message (one bad message never fails the others),
then written in one transaction: messages with ON CONFLICT DO NOTHING (the
sender's message id is the idempotency key), Smart URL ids reserved from a
sequence, rows loaded with COPY. Tokens are derived from the id and key id, so
a retry rebuilds exactly the URLs it returned the first time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from control.domain import validation
from control.domain.destinations import smart_url
from control.domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
)
from control.domain.invalidations import announce_revoked
from control.domain.model import Account, MintedLink, MintedMessage, MintRequest, Template
from control.domain.rollups import apply_deltas
from control.domain.rollups import prepare as prepare_rollups
from control.domain.templates import load_template
from signing.keys import SigningKeys
from signing.tokens import mint_token

MintResult = MintedMessage | DomainError
_NEEDS_SHORTCODE = ("SHARE", "REFERRAL")


async def mint_messages(
    db: asyncpg.Pool, keys: SigningKeys, requests: Sequence[MintRequest]
) -> list[MintResult]:
    """One result per request, in order: the minted links or the request's error."""
    results: list[MintResult | None] = [None] * len(requests)
    checked: list[int] = []
    for i, request in enumerate(requests):
        try:
            _check_fields(request)
        except DomainError as error:
            results[i] = error
            continue
        checked.append(i)
    async with db.acquire() as conn:
        # A retry is answered from what was stored, before any precondition: the
        # URLs were minted and may have been sent even if the switch is off now.
        stored = await _load_minted(conn, keys, [requests[i] for i in checked])
        new = []
        for i in checked:
            if (requests[i].account_id, requests[i].message_id) in stored:
                results[i] = _replay(requests[i], stored)
            else:
                new.append(i)

        accounts = await _load_accounts(conn, {requests[i].account_id for i in new})
        templates: dict[tuple[int, int], Template | DomainError] = {}
        ready: list[tuple[int, MintRequest, Template, str]] = []
        for i in new:
            try:
                template, domain = await _check(conn, requests[i], accounts, templates)
            except DomainError as error:
                results[i] = error
                continue
            ready.append((i, requests[i], template, domain))
        # One lock order for every batch: overlapping batches must not deadlock.
        ready.sort(key=lambda item: (item[1].account_id, item[1].message_id))

        async with conn.transaction():
            inserted = await _insert_messages(conn, ready)
            fresh = _first_of_each(ready, inserted)
            minted = await _insert_smart_urls(conn, keys, fresh, inserted)
            await apply_deltas(conn)
        for (i, _, _, _), message in zip(fresh, minted, strict=True):
            results[i] = message

        # Repeats within the batch, and messages a concurrent call minted first.
        replays = [item[1] for item in ready if results[item[0]] is None]
        if replays:
            stored = await _load_minted(conn, keys, replays)
            for i, request, _, _ in ready:
                if results[i] is None:
                    results[i] = _replay(request, stored)
    return [r for r in results if r is not None]


def _check_fields(request: MintRequest) -> None:
    validation.positive_id("account_id", request.account_id)
    validation.positive_id("template_id", request.template_id)
    validation.external_id("message_id", request.message_id)
    if request.advocate_shortcode:
        validation.shortcode("advocate_shortcode", request.advocate_shortcode)
    validation.moment("sent_at", request.sent_at)


def _first_of_each(
    ready: list[tuple[int, MintRequest, Template, str]],
    inserted: dict[tuple[int, str], tuple[int, datetime]],
) -> list[tuple[int, MintRequest, Template, str]]:
    """The requests whose message row was just inserted; a message id repeated in
    one batch is minted once and its repeats are answered as replays."""
    claimed: set[tuple[int, str]] = set()
    fresh = []
    for item in ready:
        key = (item[1].account_id, item[1].message_id)
        if key in inserted and key not in claimed:
            claimed.add(key)
            fresh.append(item)
    return fresh


async def _load_accounts(conn: asyncpg.Connection, account_ids: set[int]) -> dict[int, Account]:
    rows = await conn.fetch(
        "SELECT account_id, name, smart_urls_enabled, share_domain, created_at"
        " FROM accounts WHERE account_id = ANY($1::bigint[])",
        list(account_ids),
    )
    return {row["account_id"]: Account(**dict(row)) for row in rows}


async def _check(
    conn: asyncpg.Connection,
    request: MintRequest,
    accounts: dict[int, Account],
    templates: dict[tuple[int, int], Template | DomainError],
) -> tuple[Template, str]:
    account = accounts.get(request.account_id)
    if account is None:
        raise NotFound.account(request.account_id)
    if not account.smart_urls_enabled:
        raise FailedPrecondition.smart_urls_disabled(account.account_id)
    if not account.share_domain:
        raise FailedPrecondition.no_share_domain(account.account_id)
    key = (request.account_id, request.template_id)
    if key not in templates:
        try:
            templates[key] = await load_template(conn, *key)
        except DomainError as error:
            templates[key] = error
    template = templates[key]
    if isinstance(template, DomainError):
        raise template
    needs_shortcode = any(link.kind in _NEEDS_SHORTCODE for link in template.links)
    if needs_shortcode and not request.advocate_shortcode:
        raise InvalidArgument.field(
            "advocate_shortcode", "required: the template has share or referral links"
        )
    return template, account.share_domain


# The new messages are also counted, as rollup deltas that mint_messages
# applies last in its transaction: the rollup rows they lock are the
# template's hot ones.
_INSERT_MESSAGES = """
WITH inserted AS (
    INSERT INTO messages (account_id, external_message_id, template_id,
                          advocate_shortcode, share_domain, sent_at)
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[],
                         $5::text[], $6::timestamptz[])
    ON CONFLICT (account_id, external_message_id) DO NOTHING
    RETURNING account_id, external_message_id, message_id, template_id, sent_at
), counted AS (
    INSERT INTO rollup_deltas (account_id, template_id, hour, messages_sent)
    SELECT account_id, template_id, date_trunc('hour', sent_at, 'UTC'), count(*)
    FROM inserted GROUP BY 1, 2, 3
)
SELECT account_id, external_message_id, message_id, sent_at FROM inserted
"""


async def _insert_messages(
    conn: asyncpg.Connection, ready: list[tuple[int, MintRequest, Template, str]]
) -> dict[tuple[int, str], tuple[int, datetime]]:
    """The messages inserted (not already there): their id and send time, by
    account and external id."""
    now = datetime.now(UTC)
    await prepare_rollups(conn)
    rows = await conn.fetch(
        _INSERT_MESSAGES,
        [r.account_id for _, r, _, _ in ready],
        [r.message_id for _, r, _, _ in ready],
        [r.template_id for _, r, _, _ in ready],
        [r.advocate_shortcode for _, r, _, _ in ready],
        [domain for _, _, _, domain in ready],
        [r.sent_at or now for _, r, _, _ in ready],
    )
    return {
        (row["account_id"], row["external_message_id"]): (row["message_id"], row["sent_at"])
        for row in rows
    }


async def _insert_smart_urls(
    conn: asyncpg.Connection,
    keys: SigningKeys,
    fresh: list[tuple[int, MintRequest, Template, str]],
    messages: dict[tuple[int, str], tuple[int, datetime]],
) -> list[MintedMessage]:
    count = sum(len(template.links) for _, _, template, _ in fresh)
    if not count:
        return []
    ids = [
        row[0]
        for row in await conn.fetch(
            "SELECT nextval('smart_url_ids') FROM generate_series(1, $1)", count
        )
    ]
    records = []
    minted = []
    next_id = iter(ids)
    for _, request, template, domain in fresh:
        message_id, sent_at = messages[(request.account_id, request.message_id)]
        links = []
        for link in template.links:
            smart_url_id = next(next_id)
            records.append(
                (
                    smart_url_id,
                    request.account_id,
                    message_id,
                    template.template_id,
                    link.name,
                    link.kind,
                    keys.current,
                    sent_at,
                    template.channel,
                )
            )
            url = smart_url(domain, mint_token(keys, smart_url_id))
            links.append(MintedLink(name=link.name, kind=link.kind, url=url))
        minted.append(MintedMessage(request.message_id, tuple(links), replayed=False))
    await conn.copy_records_to_table(
        "smart_urls",
        records=records,
        columns=[
            "smart_url_id",
            "account_id",
            "message_id",
            "template_id",
            "link_name",
            "kind",
            "key_id",
            "sent_at",
            "channel",
        ],
    )
    return minted


_StoredMessage = tuple[int, str, tuple[MintedLink, ...]]


async def _load_minted(
    conn: asyncpg.Connection, keys: SigningKeys, requests: list[MintRequest]
) -> dict[tuple[int, str], _StoredMessage]:
    """What was minted before for these requests' message ids."""
    by_account: dict[int, set[str]] = {}
    for request in requests:
        by_account.setdefault(request.account_id, set()).add(request.message_id)
    stored: dict[tuple[int, str], _StoredMessage] = {}
    for account_id, message_ids in by_account.items():
        # Per account and with = ANY: both columns are index conditions on the
        # unique key, a plan that stays right however stale the statistics are.
        messages = {
            row["message_id"]: row
            for row in await conn.fetch(
                "SELECT message_id, external_message_id, template_id, advocate_shortcode,"
                " share_domain FROM messages"
                " WHERE account_id = $1 AND external_message_id = ANY($2::text[])",
                account_id,
                list(message_ids),
            )
        }
        if not messages:
            continue
        links: dict[int, list[MintedLink]] = {message_id: [] for message_id in messages}
        for row in await conn.fetch(
            "SELECT message_id, smart_url_id, link_name, kind, key_id FROM smart_urls"
            " WHERE account_id = $1 AND message_id = ANY($2::bigint[])"
            " AND parent_smart_url_id IS NULL ORDER BY smart_url_id",
            account_id,
            list(messages),
        ):
            message = messages[row["message_id"]]
            token = mint_token(keys, row["smart_url_id"], row["key_id"])
            url = smart_url(message["share_domain"], token)
            links[row["message_id"]].append(MintedLink(row["link_name"], row["kind"], url))
        for message_id, message in messages.items():
            stored[(account_id, message["external_message_id"])] = (
                message["template_id"],
                message["advocate_shortcode"],
                tuple(links[message_id]),
            )
    return stored


def _replay(request: MintRequest, stored: dict[tuple[int, str], _StoredMessage]) -> MintResult:
    template_id, shortcode, links = stored[(request.account_id, request.message_id)]
    if template_id != request.template_id or shortcode != request.advocate_shortcode:
        return AlreadyExists(
            f"message_id: {request.message_id!r} was minted before for template {template_id}"
            f" and shortcode {shortcode!r}; a retry must send the same values"
        )
    return MintedMessage(request.message_id, links, replayed=True)


async def revoke_message(db: asyncpg.Pool, account_id: int, message_id: str) -> int:
    """Stops every link of a message from redirecting; returns how many were live."""
    validation.positive_id("account_id", account_id)
    validation.external_id("message_id", message_id)
    async with db.acquire() as conn, conn.transaction():
        internal_id = await conn.fetchval(
            "UPDATE messages SET revoked_at = coalesce(revoked_at, now())"
            " WHERE account_id = $1 AND external_message_id = $2 RETURNING message_id",
            account_id,
            message_id,
        )
        if internal_id is None:
            raise NotFound(f"message_id: no message {message_id[:60]!r} in account {account_id}")
        revoked = [
            row[0]
            for row in await conn.fetch(
                "UPDATE smart_urls SET revoked_at = now()"
                " WHERE account_id = $1 AND message_id = $2 AND revoked_at IS NULL"
                " RETURNING smart_url_id",
                account_id,
                internal_id,
            )
        ]
        await announce_revoked(conn, revoked)
    return len(revoked)
