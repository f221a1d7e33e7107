"""The one asyncpg pool of the control plane."""

from __future__ import annotations

import asyncpg


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        # A stuck query must fail the RPC rather than hold a connection forever.
        command_timeout=30,
    )
    assert pool is not None
    return pool
