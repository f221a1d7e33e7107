"""Spool replay: what the spool holds goes out oldest first, joined into batches
of up to max_batch clicks, each acknowledged before the next; in durable mode
the spool is the only way clicks leave, so the replay never ends."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
from google.protobuf.message import DecodeError

from edge import metrics
from edge.clicks import EdgeClick, first_click_us, joined_batch
from edge.live_sending import ACK_TIMEOUT
from edge.spool import Cursor, Spool
from smarturls.v1 import edge_pb2

log = logging.getLogger(__name__)


class SpoolReplay:
    """ClickBuffer's replay (a mixin: the state is the buffer's)."""

    _spool: Spool
    _spool_lock: asyncio.Lock
    _cursor: Cursor | None
    _spool_oldest_us: int | None
    _pending: list[EdgeClick]
    _durable: bool
    _closing: bool
    _max_batch: int
    _flush_interval: float
    _seq: int
    _wake: asyncio.Event
    acknowledged: int

    async def _spill(self) -> None:
        raise NotImplementedError  # ClickBuffer's

    async def _send(self, call: grpc.aio.StreamStreamCall, batch: edge_pb2.ClickBatch) -> None:
        if call.done():
            raise ConnectionError("click stream ended")
        self._seq += 1
        batch.batch_seq = self._seq
        started = time.perf_counter()
        await call.write(batch)
        ack = await asyncio.wait_for(call.read(), ACK_TIMEOUT)
        if ack is grpc.aio.EOF or ack.batch_seq != self._seq:
            raise ConnectionError("click stream ended without acknowledgement")
        metrics.FLUSH_SECONDS.observe(time.perf_counter() - started)
        count = len(batch.clicks) + len(batch.columns.smart_url_ids)
        self.acknowledged += count
        metrics.ACKED.inc(count)

    async def _replay(self, call: grpc.aio.StreamStreamCall) -> None:
        """Sends the spool oldest first; back to live once it is empty (not durable)."""
        while True:
            if self._pending:
                # Clicks that came in meanwhile queue up behind the spool, in order.
                await self._spill()
            segments = self._spool.segments()
            if not segments:
                self._spool_oldest_us = None
                if not self._durable or self._closing:
                    return
                await self._wait_for_spool()
                continue
            segment = segments[0]
            if self._cursor is None or self._cursor.segment != segment:
                self._cursor = Cursor(segment)
            peek = Cursor(segment, self._cursor.offset)
            records = self._spool.read(peek)
            # Durable mode spools a record per group commit (a few ms of clicks):
            # sent one by one, each waiting for its acknowledgement, a backlog of
            # them drains at one round trip per group. Joined into batches of up
            # to max_batch clicks, it pays one round trip per batch, as live
            # sending does.
            joined: list[edge_pb2.ClickBatch] = []
            size = 0
            for record in records:
                try:
                    batch = edge_pb2.ClickBatch.FromString(record)
                except DecodeError:
                    # Corrupt (a torn write): keep the file for inspection and
                    # go on with the next segment rather than retry it forever.
                    log.error("corrupt spool record in %s; set aside", segment)
                    metrics.SPOOL_ERRORS.inc()
                    self._spool.set_aside(segment)
                    break
                count = len(batch.columns.smart_url_ids)
                if batch.clicks or (joined and size + count > self._max_batch):
                    await self._send_joined(call, joined)
                    size = 0
                if batch.clicks:  # the row form: sent as it is
                    await self._send_joined(call, [batch])
                    continue
                joined.append(batch)
                size += count
            await self._send_joined(call, joined)
            self._cursor.offset = peek.offset
            if records:
                continue
            # Everything written so far was sent and acknowledged (a group
            # written from now on sets it again).
            self._spool_oldest_us = None
            async with self._spool_lock:
                if not self._spool.is_current(segment) or not self._durable:
                    self._spool.remove(segment)
                    continue
                if segment.stat().st_size >= 1 << 20:
                    self._spool.seal()
                    continue
            if self._closing:
                async with self._spool_lock:
                    # Re-read under the lock: a group may have landed meanwhile.
                    if not self._spool.read(Cursor(segment, self._cursor.offset)):
                        self._spool.remove(segment)
                continue
            await self._wait_for_spool()

    async def _send_joined(
        self, call: grpc.aio.StreamStreamCall, batches: list[edge_pb2.ClickBatch]
    ) -> None:
        """Sends `batches` as one (a lone batch as it is), once acknowledged, and
        empties the list. Records are at most max_batch clicks, so one is never split."""
        if not batches:
            return
        if len(batches) == 1:
            batch = batches[0]
        else:
            batch = joined_batch(batches)
        # The spool is in order: this batch holds its oldest unacknowledged click.
        self._spool_oldest_us = first_click_us(batch) or self._spool_oldest_us
        await self._send(call, batch)
        batches.clear()

    async def _wait_for_spool(self) -> None:
        """Until a group is committed (durable mode) or a flush interval passes."""
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), self._flush_interval)
        except TimeoutError:
            pass
