"""Transactions that take several locks can deadlock with one another in rare
interleavings; PostgreSQL then aborts one of them. It is safe to run it again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")
ATTEMPTS = 5


async def retry_deadlocks(
    conn: asyncpg.Connection, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """Runs `work` in a transaction, again after a deadlock or serialization failure."""
    for attempt in range(ATTEMPTS):
        try:
            async with conn.transaction():
                return await work(conn)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
