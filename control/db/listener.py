"""Fans PostgreSQL NOTIFY invalidations out to the edges watching this replica."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from common.backoff import Backoff
from control.domain.invalidations import CHANNEL, Invalidation

log = logging.getLogger(__name__)

# An edge that falls this far behind is cut off; it reconnects and catches up
# from the lookback snapshot instead of holding memory here.
_QUEUE_LIMIT = 10_000


class InvalidationHub:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._watchers: set[asyncio.Queue[Invalidation | None]] = set()
        self._listening = False
        self._stopping = False
        self._reconnect: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._listen()

    async def _listen(self) -> None:
        self._conn = await asyncpg.connect(self._dsn)
        await self._conn.add_listener(CHANNEL, self._on_notify)
        self._conn.add_termination_listener(self._on_lost)
        self._listening = True

    async def stop(self) -> None:
        self._stopping = True
        if self._reconnect is not None:
            self._reconnect.cancel()
        self._disconnect_all()
        if self._conn is not None and not self._conn.is_closed():
            self._conn.remove_termination_listener(self._on_lost)
            await self._conn.close()

    @property
    def listening(self) -> bool:
        return self._listening

    def watch(self) -> asyncio.Queue[Invalidation | None]:
        """A queue of invalidations; None means "reconnect and catch up"."""
        queue: asyncio.Queue[Invalidation | None] = asyncio.Queue(maxsize=_QUEUE_LIMIT)
        self._watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[Invalidation | None]) -> None:
        self._watchers.discard(queue)

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        invalidation = Invalidation.from_json(payload)
        for queue in list(self._watchers):
            try:
                queue.put_nowait(invalidation)
            except asyncio.QueueFull:
                self._watchers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)

    def _on_lost(self, conn: object) -> None:
        # Notifications sent while we are not listening are lost: make every
        # edge reconnect and catch up from the snapshot, and listen again.
        log.error("lost the LISTEN connection; disconnecting %d watchers", len(self._watchers))
        self._listening = False
        self._disconnect_all()
        if not self._stopping:
            self._reconnect = asyncio.get_running_loop().create_task(self._relisten())

    async def _relisten(self) -> None:
        backoff = Backoff()
        while not self._stopping:
            try:
                await self._listen()
                log.info("listening for invalidations again")
                return
            except Exception as error:
                delay = backoff.next_delay()
                log.warning("LISTEN reconnect failed (%r); retrying in %.1fs", error, delay)
                await asyncio.sleep(delay)

    def _disconnect_all(self) -> None:
        for queue in list(self._watchers):
            queue.put_nowait(None)
        self._watchers.clear()
