"""API keys: `su_<key id>_<secret>`, stored as a SHA-256 of the whole key.

The secret is 32 random bytes, so a fast hash is enough (nobody can guess
through 2^256) and keeps the per-call check to one primary-key lookup. There is
no cache: revoking a key takes effect with the caller's next call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import asyncpg

from control.domain import validation
from control.domain.errors import InvalidArgument, NotFound, Unauthenticated

Role = Literal["admin", "sender", "dashboard", "merchant", "edge"]
ROLES: tuple[Role, ...] = get_args(Role)
# Roles that act on every account; the others are bound to one.
GLOBAL_ROLES: frozenset[Role] = frozenset({"admin", "edge"})

PREFIX = "su_"
_KEY = re.compile(r"su_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_KEY_ID = re.compile(r"[0-9a-f]{12}")
_COLUMNS = "key_id, role, account_id, name, created_at, revoked_at"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key without its hash: who the caller is."""

    key_id: str
    role: Role
    # None for the global roles (admin, edge).
    account_id: int | None
    name: str
    created_at: datetime
    revoked_at: datetime | None


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _api_key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(**dict(row))


def key_id_of(key_or_id: str) -> str:
    """The key id of a whole key or of a bare key id (what `keys revoke` accepts)."""
    match = _KEY.fullmatch(key_or_id)
    if match:
        return match.group(1)
    if _KEY_ID.fullmatch(key_or_id):
        return key_or_id
    raise InvalidArgument.field("key_id", "12 hex characters (or the whole su_... key)")


async def create_api_key(
    db: asyncpg.Pool | asyncpg.Connection, role: str, account_id: int | None, name: str = ""
) -> tuple[str, ApiKey]:
    """A new key: (the key, shown this once, and what is stored of it)."""
    if role not in ROLES:
        raise InvalidArgument.field("role", f"one of {', '.join(ROLES)}")
    if role in GLOBAL_ROLES and account_id is not None:
        raise InvalidArgument.field("account_id", f"{role} keys act on every account: omit it")
    if role not in GLOBAL_ROLES:
        if account_id is None:
            raise InvalidArgument.field("account_id", f"required for a {role} key")
        validation.positive_id("account_id", account_id)
    name = validation.text("name", name, 200).strip()
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    try:
        row = await db.fetchrow(
            "INSERT INTO api_keys (key_id, key_hash, role, account_id, name)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}",
            key_id,
            _digest(key),
            role,
            account_id,
            name,
        )
    except asyncpg.ForeignKeyViolationError:
        raise NotFound.account(account_id or 0) from None
    return key, _api_key(row)


async def verify_api_key(db: asyncpg.Pool | asyncpg.Connection, key: str | None) -> ApiKey:
    """The caller behind `key`, or Unauthenticated saying why (never echoing the secret)."""
    if not key:
        raise Unauthenticated.missing()
    match = _KEY.fullmatch(key)
    if match is None:
        raise Unauthenticated.malformed("expected su_<12 hex characters>_<43 characters>")
    key_id = match.group(1)
    row = await db.fetchrow(f"SELECT key_hash, {_COLUMNS} FROM api_keys WHERE key_id = $1", key_id)
    # Compared in constant time, so timing tells nothing about the stored hash.
    if row is None or not hmac.compare_digest(bytes(row["key_hash"]), _digest(key)):
        raise Unauthenticated.unknown(key_id)
    if row["revoked_at"] is not None:
        raise Unauthenticated.revoked(key_id)
    return ApiKey(**{k: v for k, v in dict(row).items() if k != "key_hash"})


async def revoke_api_key(db: asyncpg.Pool | asyncpg.Connection, key_id: str) -> ApiKey:
    """Revokes a key (again: keeps the first revocation time)."""
    row = await db.fetchrow(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
        f" WHERE key_id = $1 RETURNING {_COLUMNS}",
        key_id_of(key_id),
    )
    if row is None:
        raise NotFound(f"key_id: no API key {key_id_of(key_id)}")
    return _api_key(row)


async def list_api_keys(
    db: asyncpg.Pool | asyncpg.Connection, account_id: int | None = None
) -> list[ApiKey]:
    """Every key (revoked ones too), or those of one account, oldest first."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM api_keys"
        " WHERE $1::bigint IS NULL OR account_id = $1 ORDER BY created_at, key_id",
        account_id,
    )
    return [_api_key(r) for r in rows]


async def has_active_key(db: asyncpg.Pool | asyncpg.Connection, role: Role) -> bool:
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = $1 AND revoked_at IS NULL)", role
        )
    )
