"""Accounts and the two Smart URL preconditions: the switch and the share domain."""

from __future__ import annotations

import asyncpg

from control.domain import validation
from control.domain.errors import AlreadyExists, NotFound
from control.domain.model import Account

_COLUMNS = "account_id, name, smart_urls_enabled, share_domain, created_at"


def _account(row: asyncpg.Record) -> Account:
    return Account(**dict(row))


async def create_account(db: asyncpg.Pool, name: str) -> Account:
    name = validation.display_name("name", name)
    row = await db.fetchrow(f"INSERT INTO accounts (name) VALUES ($1) RETURNING {_COLUMNS}", name)
    return _account(row)


async def get_account(db: asyncpg.Pool | asyncpg.Connection, account_id: int) -> Account:
    validation.positive_id("account_id", account_id)
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE account_id = $1", account_id)
    if row is None:
        raise NotFound.account(account_id)
    return _account(row)


async def set_smart_urls_enabled(db: asyncpg.Pool, account_id: int, enabled: bool) -> Account:
    validation.positive_id("account_id", account_id)
    row = await db.fetchrow(
        f"UPDATE accounts SET smart_urls_enabled = $2 WHERE account_id = $1 RETURNING {_COLUMNS}",
        account_id,
        enabled,
    )
    if row is None:
        raise NotFound.account(account_id)
    return _account(row)


async def set_share_domain(db: asyncpg.Pool, account_id: int, domain: str) -> Account:
    validation.positive_id("account_id", account_id)
    domain = validation.share_domain(domain)
    try:
        row = await db.fetchrow(
            f"UPDATE accounts SET share_domain = $2 WHERE account_id = $1 RETURNING {_COLUMNS}",
            account_id,
            domain,
        )
    except asyncpg.UniqueViolationError:
        raise AlreadyExists(
            f"share_domain: {domain} is already the share domain of another account"
        ) from None
    if row is None:
        raise NotFound.account(account_id)
    return _account(row)
