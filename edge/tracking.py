"""Recording clicks: held in memory, flushed in batches, never lost.

A click leaves the edge only once the control plane acknowledged its batch.
When a send fails, everything held in memory goes to the local spool, which is
replayed in order when the control plane answers again; click ids are UUIDv7,
so whatever is sent twice is stored once. With `durable`, every click is in the
spool (fsync'd, in groups of a few milliseconds) before its redirect is sent.

By concept: the click and its wire form (edge/clicks.py), live sending
(edge/live_sending.py), spool replay (edge/spool_replay.py), durable group
commit (edge/group_commit.py); here, the buffer that ties them together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from pathlib import Path

from google.protobuf.message import DecodeError

from common.backoff import Backoff
from common.control_channel import failure
from edge import metrics
from edge.clicks import EdgeClick, batch_bytes, first_click_us
from edge.group_commit import GroupCommit, SpoolUnavailable, Then
from edge.live_sending import LiveSending
from edge.spool import Cursor, Spool
from edge.spool_replay import SpoolReplay
from smarturls.v1 import edge_pb2, edge_pb2_grpc

log = logging.getLogger(__name__)


class ClickBuffer(LiveSending, SpoolReplay):
    """The clicks the edge answered and the control plane has not acknowledged:
    in memory (sent live), in the spool (replayed), or waiting for their group's
    fsync (durable mode)."""

    def __init__(
        self,
        stub: edge_pb2_grpc.EdgeServiceStub,
        spool_dir: Path,
        *,
        flush_interval: float,
        max_batch: int,
        durable: bool = False,
    ) -> None:
        self._stub = stub
        self._spool = Spool(spool_dir)
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._durable = durable
        self._pending: list[EdgeClick] = []
        self._wake = asyncio.Event()
        self._seq = 0
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self._groups = GroupCommit(self._write_now, self._wake.set)
        self._spool_lock = asyncio.Lock()
        self._cursor: Cursor | None = None
        # Live sending: the first `_sent` clicks of `_pending` are on the wire,
        # as the batches (seq, size, sent at) of `_in_flight`, oldest first.
        self._sent = 0
        self._in_flight: deque[tuple[int, int, float]] = deque()
        self.acknowledged = 0
        # When the oldest click in the spool was made (µs), None with the spool
        # empty: spooled clicks are unacknowledged too, and an outage is exactly
        # when they are the oldest.
        self._spool_oldest_us: int | None = None

    # -- the hot path -------------------------------------------------------

    def record(self, click: EdgeClick) -> None:
        self._pending.append(click)
        # On crossing only: while every batch slot is taken, waking the sender
        # on each click would only spin it.
        if len(self._pending) - self._sent == self._max_batch:
            self._wake.set()

    async def record_durably(self, click: EdgeClick) -> None:
        """Returns once the click is fsync'd in the spool (raises SpoolUnavailable
        if that failed)."""
        done = asyncio.get_running_loop().create_future()

        def then(failure: SpoolUnavailable | None) -> None:
            if failure is None:
                done.set_result(None)
            else:
                done.set_exception(failure)
                done.exception()  # retrieved here: a waiter that went away must not warn

        self._groups.add(click, then)
        # Shielded: a request cancelled meanwhile leaves its click in the group.
        await asyncio.shield(done)

    def record_in_next_group(self, click: EdgeClick, then: Then) -> None:
        """Durable mode: the click joins the next group commit, and `then` is
        called once it is fsync'd (with SpoolUnavailable if that failed)."""
        self._groups.add(click, then)

    @property
    def durable(self) -> bool:
        return self._durable

    @property
    def depth(self) -> int:
        """Clicks in memory, not yet acknowledged or spooled."""
        return len(self._pending) + len(self._groups.waiting)

    @property
    def spooled_bytes(self) -> int:
        return self._spool.size_bytes()

    # -- lifecycle ------------------------------------------------------------

    def oldest_unacked_seconds(self) -> float:
        """Age of the oldest click not yet acknowledged, in memory or spooled (0 if none)."""
        made = [c[0].clicked_at_us for c in (self._pending, self._groups.waiting) if c]
        if self._spool_oldest_us is not None:
            made.append(self._spool_oldest_us)
        return max(time.time() - min(made) / 1e6, 0.0) if made else 0.0

    def start(self) -> None:
        segments = self._spool.segments()
        records = self._spool.read(Cursor(segments[0])) if segments else []
        if records:  # left by an earlier run
            try:
                self._spool_oldest_us = first_click_us(edge_pb2.ClickBatch.FromString(records[0]))
            except DecodeError:
                pass  # replay sets it aside; the age starts with the next record
        self._tasks.append(asyncio.create_task(self._send_forever()))
        if self._durable:
            self._tasks.append(asyncio.create_task(self._groups.run(lambda: self._closing)))
        # Read when scraped: the spool changes with every group commit in
        # durable mode, and measuring it there would list the directory each time.
        metrics.SPOOL_BYTES.set_function(self._spool.size_bytes)
        # Read when scraped: a value set by the sender would stand still while
        # it waits out a backoff, which is when the age grows.
        metrics.OLDEST_UNACKED.set_function(self.oldest_unacked_seconds)
        metrics.BUFFERED.set_function(lambda: self.depth)

    async def close(self, timeout: float) -> None:
        """Flushes for at most `timeout`; what is left goes to the spool, not lost."""
        self._closing = True
        self._wake.set()
        self._groups.wake()
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._groups.waiting:
            self._groups.commit()
        if self._pending:
            log.warning(
                "control plane unreachable at shutdown: %d clicks spooled", len(self._pending)
            )
            await self._spill()
        self._spool.close()

    # -- sending --------------------------------------------------------------

    async def _send_forever(self) -> None:
        backoff = Backoff()
        while not (self._closing and not self._pending and not self._spool.segments()):
            try:
                call = self._stub.IngestClicks()
                try:
                    if self._durable or self._spool.segments():
                        await self._replay(call)
                    else:
                        await self._live(call)
                    backoff.reset()
                finally:
                    call.cancel()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Anything, not only RPC errors: a stream the server ended raises
                # InvalidStateError on write, and the sender must outlive it.
                metrics.FLUSH_ERRORS.inc()
                delay = backoff.next_delay()
                log.warning("click stream failed (%s); retrying in %.1fs", failure(error), delay)
                await self._spill()  # never raises: on failure the clicks stay in memory
                if self._closing:
                    return
                await asyncio.sleep(delay)

    def _records(self, clicks: list[EdgeClick]) -> list[bytes]:
        """The spool's records for `clicks`: batches of at most max_batch."""
        return [
            batch_bytes(clicks[i : i + self._max_batch])
            for i in range(0, len(clicks), self._max_batch)
        ]

    def _write_now(self, clicks: list[EdgeClick]) -> None:
        """A durable group: appended and fsync'd on the event loop (see
        edge/group_commit.py for why); raises on failure."""
        try:
            self._spool.append(self._records(clicks))
        except Exception:
            metrics.SPOOL_ERRORS.inc()
            raise
        self._spooled(clicks)

    async def _write(self, clicks: list[EdgeClick]) -> None:
        """Appends clicks to the spool, fsync'd, in a worker thread: a spill can
        hold everything an outage left in memory. Raises on failure."""
        records = self._records(clicks)
        try:
            async with self._spool_lock:
                await asyncio.to_thread(self._spool.append, records)
        except Exception:
            metrics.SPOOL_ERRORS.inc()
            raise
        self._spooled(clicks)

    def _spooled(self, clicks: list[EdgeClick]) -> None:
        if self._spool_oldest_us is None:
            self._spool_oldest_us = clicks[0].clicked_at_us

    async def _spill(self) -> None:
        """Moves what memory holds to the spool. Never raises."""
        if not self._pending:
            return
        clicks, self._pending = self._pending, []
        try:
            await self._write(clicks)
        except Exception as error:
            # Back in front of what came in meanwhile: memory holds them until
            # the control plane or the disk takes them.
            self._pending[:0] = clicks
            log.error("spool write failed, %d clicks kept in memory: %r", len(clicks), error)
