"""Telling every edge what to drop from its caches.

Changes are announced with PostgreSQL NOTIFY inside the changing transaction,
so they go out exactly when they commit and reach every control-plane replica
(each LISTENs and forwards to the edges connected to it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg

CHANNEL = "smarturls_invalidation"
# NOTIFY payloads must stay under 8000 bytes.
_IDS_PER_NOTIFY = 500


@dataclass(frozen=True, slots=True)
class Invalidation:
    smart_url_ids: tuple[int, ...] = ()
    templates: tuple[tuple[int, int], ...] = field(default=())  # (template_id, version)

    def to_json(self) -> str:
        return json.dumps({"s": list(self.smart_url_ids), "t": [list(t) for t in self.templates]})

    @classmethod
    def from_json(cls, payload: str) -> Invalidation:
        data = json.loads(payload)
        return cls(tuple(data["s"]), tuple((t[0], t[1]) for t in data["t"]))


async def announce_template(conn: asyncpg.Connection, template_id: int, version: int) -> None:
    invalidation = Invalidation(templates=((template_id, version),))
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, invalidation.to_json())


async def announce_revoked(conn: asyncpg.Connection, smart_url_ids: list[int]) -> None:
    for i in range(0, len(smart_url_ids), _IDS_PER_NOTIFY):
        chunk = tuple(smart_url_ids[i : i + _IDS_PER_NOTIFY])
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, Invalidation(chunk).to_json())


async def recent_changes(db: asyncpg.Pool, lookback: timedelta) -> list[Invalidation]:
    """What changed within `lookback`: what a (re)connecting edge may have missed."""
    async with db.acquire() as conn:
        templates = await conn.fetch(
            "SELECT template_id, version FROM templates WHERE updated_at > now() - $1::interval",
            lookback,
        )
        revoked = await conn.fetch(
            "SELECT smart_url_id FROM smart_urls WHERE revoked_at > now() - $1::interval",
            lookback,
        )
    changes = [Invalidation(templates=tuple((r[0], r[1]) for r in templates))]
    ids = [r[0] for r in revoked]
    changes += [Invalidation(tuple(ids[i : i + 10_000])) for i in range(0, len(ids), 10_000)]
    return changes
