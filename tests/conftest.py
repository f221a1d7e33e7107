"""Fixtures: one real PostgreSQL per test session (embedded by default,
TEST_DATABASE_URL to use another), a fresh database per test cloned from a
migrated template, and the whole stack on loopback sockets."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from control.db.embedded import EmbeddedPostgres
from control.db.migrate import apply_migrations
from edge import protocol
from tests.support import (
    SPOOL_ROOT,
    TEMPLATE_DB,
    Stack,
    dsn_with_database,
    fresh_database,
    running_stack,
)


async def _build_template(admin_dsn: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn_with_database(admin_dsn, TEMPLATE_DB))
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
def _remove_spools() -> Iterator[None]:
    yield
    shutil.rmtree(SPOOL_ROOT, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("TEST_DATABASE_URL")
    server = None
    if external:
        dsn = external
    else:
        server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")) / "data")
        dsn = server.uri
    asyncio.run(_build_template(dsn))
    yield dsn
    if server is not None:
        server.stop()


@pytest.fixture
async def dsn(admin_dsn: str) -> AsyncIterator[str]:
    async with fresh_database(admin_dsn) as database_dsn:
        yield database_dsn


@pytest.fixture
async def stack(dsn: str) -> AsyncIterator[Stack]:
    async with running_stack(dsn) as running:
        yield running


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each token request an edge in this process parses, in order: answered
    by its own protocol (True) or left to ASGI (False)."""
    answered_here: list[bool] = []
    answer_here = protocol.EdgeProtocol._answer_here

    def spy(self: protocol.EdgeProtocol) -> bool:
        answered_here.append(answer_here(self))
        return answered_here[-1]

    monkeypatch.setattr(protocol.EdgeProtocol, "_answer_here", spy)
    return answered_here
