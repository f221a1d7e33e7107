"""Upgrades: a database made by the previous release, then this release's files."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from control.db.migrate import apply_migrations
from tests.support import dsn_with_database


@pytest.fixture
async def empty_db(admin_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    name = "u_" + uuid.uuid4().hex[:16]
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await asyncpg.connect(dsn_with_database(admin_dsn, name))
    try:
        yield conn
    finally:
        await conn.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_links_minted_before_0006_get_their_messages_send_time_and_channel(
    empty_db: asyncpg.Connection,
) -> None:
    conn = empty_db
    await apply_migrations(conn, before="0006")
    account = await conn.fetchval(
        "INSERT INTO accounts (name, share_domain) VALUES ('a', 's.example') RETURNING account_id"
    )
    sent = {
        "EMAIL": datetime(2026, 3, 1, 9, tzinfo=UTC),
        "SMS": datetime(2026, 3, 2, 9, tzinfo=UTC),
    }
    for n, channel in enumerate(("EMAIL", "SMS")):
        template = await conn.fetchval(
            "INSERT INTO templates (account_id, name, channel) VALUES ($1, $2, $3)"
            " RETURNING template_id",
            account,
            f"t{n}",
            channel,
        )
        message = await conn.fetchval(
            "INSERT INTO messages (account_id, external_message_id, template_id, share_domain,"
            " sent_at) VALUES ($1, $2, $3, 's.example', $4) RETURNING message_id",
            account,
            f"m{n}",
            template,
            sent[channel],
        )
        await conn.execute(
            "INSERT INTO smart_urls (smart_url_id, account_id, message_id, template_id,"
            " link_name, kind, key_id) VALUES ($1, $2, $3, $4, 'shop', 'TRACKED', 'A')",
            1000 + n,
            account,
            message,
            template,
        )

    assert await apply_migrations(conn) == [
        "0006_smart_urls_send_facts.sql",
        "0007_burst_probes.sql",
    ]

    rows = await conn.fetch("SELECT smart_url_id, sent_at, channel FROM smart_urls ORDER BY 1")
    assert [(r["smart_url_id"], r["sent_at"], r["channel"]) for r in rows] == [
        (1000, sent["EMAIL"], "EMAIL"),
        (1001, sent["SMS"], "SMS"),
    ]
    # From here on every link must say when and how its message went out.
    with pytest.raises(asyncpg.NotNullViolationError):
        await conn.execute(
            "INSERT INTO smart_urls (smart_url_id, account_id, message_id, template_id,"
            " link_name, kind, key_id) SELECT 2000, account_id, message_id, template_id,"
            " 'x', 'TRACKED', 'A' FROM smart_urls WHERE smart_url_id = 1000"
        )
