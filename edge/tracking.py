"""Recording clicks: built from the request, held in memory, flushed in batches.

A click leaves the edge only once the control plane acknowledged its batch.
When a send fails, everything held in memory goes to the local spool, which is
replayed in order when the control plane answers again; click ids are UUIDv7,
so whatever is sent twice is stored once. With `durable`, every click is in the
spool (fsync'd, in groups of a few milliseconds) before its redirect is sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import grpc
from google.protobuf.message import DecodeError

from common.backoff import Backoff
from common.control_channel import failure
from edge import metrics
from edge.spool import Cursor, Spool
from smarturls.v1 import edge_pb2, edge_pb2_grpc

log = logging.getLogger(__name__)

MAX_UA = 512
MAX_REFERER = 512
# A batch not acknowledged by then is resent on a new stream (stored once).
ACK_TIMEOUT = 10.0
# Durable mode: how long a click may wait for its group's fsync.
GROUP_INTERVAL = 0.002
# Batches sent and not yet acknowledged: the control plane stores one while it
# decodes the next, instead of each side waiting on the other in turn.
BATCHES_IN_FLIGHT = 3


class SpoolUnavailable(Exception):
    """Durable mode could not write the click to the spool: the request fails."""


class EdgeClick(NamedTuple):
    """A tuple: the cheapest record to build once per request."""

    click_id: bytes
    smart_url_id: int
    clicked_at_us: int
    method: str
    user_agent: str
    ip_prefix: str
    referer: str
    hit_class: str
    reasons: tuple[str, ...]


def click_batch(clicks: list[EdgeClick]) -> edge_pb2.ClickBatch:
    """The column form: the clicks transposed in C by zip(*), strings dictionary-encoded,
    instead of a message per click (this runs once per click on the edge)."""
    if not clicks:
        return edge_pb2.ClickBatch()
    strings: dict[str, int] = {}

    def indexes(values: Iterable[str]) -> list[int]:
        return [strings.setdefault(v, len(strings)) for v in values]

    ids, links, times, methods, agents, prefixes, referers, classes, reasons = zip(
        *clicks, strict=True
    )
    columns = edge_pb2.ClickColumns(
        click_ids=b"".join(ids),
        smart_url_ids=links,
        clicked_at_us=times,
        method=indexes(methods),
        user_agent=indexes(agents),
        ip_prefix=indexes(prefixes),
        referer=indexes(referers),
        hit_class=indexes(classes),
        reasons=indexes(map("\n".join, reasons)),
    )
    columns.strings.extend(strings)
    return edge_pb2.ClickBatch(columns=columns)


def clicks_of(batch: edge_pb2.ClickBatch) -> list[EdgeClick]:
    """The clicks of a batch in column form: click_batch() undone."""
    columns = batch.columns
    strings = list(columns.strings)
    ids = columns.click_ids
    return [
        EdgeClick(
            click_id=ids[16 * i : 16 * i + 16],
            smart_url_id=columns.smart_url_ids[i],
            clicked_at_us=columns.clicked_at_us[i],
            method=strings[columns.method[i]],
            user_agent=strings[columns.user_agent[i]],
            ip_prefix=strings[columns.ip_prefix[i]],
            referer=strings[columns.referer[i]],
            hit_class=strings[columns.hit_class[i]],
            reasons=tuple(r for r in strings[columns.reasons[i]].split("\n") if r),
        )
        for i in range(len(columns.smart_url_ids))
    ]


def _batch_bytes(clicks: list[EdgeClick]) -> bytes:
    return bytes(click_batch(clicks).SerializeToString())


class ClickBuffer:
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
        self._group: list[EdgeClick] = []
        self._group_done: asyncio.Future[None] | None = None
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
        """Returns once the click is fsync'd in the spool."""
        await asyncio.shield(self.record_in_next_group(click))

    def record_in_next_group(self, click: EdgeClick) -> asyncio.Future[None]:
        """Durable mode: the click joins the next group commit; the future is done
        once it is fsync'd (SpoolUnavailable if that failed)."""
        self._group.append(click)
        if self._group_done is None:
            self._group_done = asyncio.get_running_loop().create_future()
        return self._group_done

    @property
    def durable(self) -> bool:
        return self._durable

    @property
    def depth(self) -> int:
        """Clicks in memory, not yet acknowledged or spooled."""
        return len(self._pending) + len(self._group)

    @property
    def spooled_bytes(self) -> int:
        return self._spool.size_bytes()

    # -- lifecycle ------------------------------------------------------------

    def oldest_unacked_seconds(self) -> float:
        """Age of the oldest click not yet acknowledged, in memory or spooled (0 if none)."""
        made = [c[0].clicked_at_us for c in (self._pending, self._group) if c]
        if self._spool_oldest_us is not None:
            made.append(self._spool_oldest_us)
        return max(time.time() - min(made) / 1e6, 0.0) if made else 0.0

    def start(self) -> None:
        segments = self._spool.segments()
        records = self._spool.read(Cursor(segments[0])) if segments else []
        if records:  # left by an earlier run
            try:
                self._spool_oldest_us = _first_click_us(edge_pb2.ClickBatch.FromString(records[0]))
            except DecodeError:
                pass  # replay sets it aside; the age starts with the next record
        self._tasks.append(asyncio.create_task(self._send_forever()))
        if self._durable:
            self._tasks.append(asyncio.create_task(self._commit_groups()))
        metrics.SPOOL_BYTES.set(self._spool.size_bytes())
        # Read when scraped: a value set by the sender would stand still while
        # it waits out a backoff, which is when the age grows.
        metrics.OLDEST_UNACKED.set_function(self.oldest_unacked_seconds)
        metrics.BUFFERED.set_function(lambda: self.depth)

    async def close(self, timeout: float) -> None:
        """Flushes for at most `timeout`; what is left goes to the spool, not lost."""
        self._closing = True
        self._wake.set()
        _, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._group:
            await self._commit_group()
        if self._pending:
            log.warning(
                "control plane unreachable at shutdown: %d clicks spooled", len(self._pending)
            )
            await self._spill()

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

    async def _live(self, call: grpc.aio.StreamStreamCall) -> None:
        """Up to BATCHES_IN_FLIGHT batches on the wire; each leaves memory when
        its acknowledgement arrives (they come back in order)."""
        self._sent = 0
        self._in_flight.clear()
        reader = asyncio.create_task(self._read_acks(call))
        last_send = time.monotonic()
        try:
            while not (self._closing and not self._pending):
                # Cleared before looking, so a wake-up that comes meanwhile is kept.
                self._wake.clear()
                if reader.done():
                    reader.result()  # raises what ended the stream
                    raise ConnectionError("click stream ended")
                now = time.monotonic()
                if self._in_flight and now - self._in_flight[0][2] > ACK_TIMEOUT:
                    raise ConnectionError("click batch not acknowledged in time")
                unsent = len(self._pending) - self._sent
                due = unsent >= self._max_batch or self._closing
                due = due or (unsent > 0 and now - last_send >= self._flush_interval)
                if due and len(self._in_flight) < BATCHES_IN_FLIGHT:
                    clicks = self._pending[self._sent : self._sent + self._max_batch]
                    self._seq += 1
                    batch = click_batch(clicks)
                    batch.batch_seq = self._seq
                    self._in_flight.append((self._seq, len(clicks), now))
                    self._sent += len(clicks)
                    last_send = now
                    await call.write(batch)
                    continue
                if unsent and not due:
                    wait = self._flush_interval - (now - last_send)
                else:
                    # Nothing to send, or every slot waits for its acknowledgement,
                    # which wakes the sender: a deadline past due would make this
                    # a poll every millisecond for as long as the control plane
                    # is slow, on the event loop that serves the redirects.
                    wait = self._flush_interval
                await self._wait_for_wake(max(wait, 0.001))
            await call.done_writing()
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            # Whatever was not acknowledged is unsent again: a new stream (or the
            # spool) takes it from the start; what the server did store is kept once.
            self._sent = 0
            self._in_flight.clear()

    async def _read_acks(self, call: grpc.aio.StreamStreamCall) -> None:
        while True:
            ack = await call.read()
            if ack is grpc.aio.EOF:
                return
            if not self._in_flight or ack.batch_seq != self._in_flight[0][0]:
                raise ConnectionError(f"unexpected acknowledgement {ack.batch_seq}")
            _, count, sent_at = self._in_flight.popleft()
            metrics.ACK_LAG_SECONDS.observe(time.time() - self._pending[0].clicked_at_us / 1e6)
            # Only now may the batch leave memory: it is committed.
            del self._pending[:count]
            self._sent -= count
            metrics.FLUSH_SECONDS.observe(time.monotonic() - sent_at)
            self.acknowledged += count
            metrics.ACKED.inc(count)
            self._wake.set()

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
            # them drains at one round trip per group. Sent as batches of up to
            # max_batch clicks, a backlog drains as fast as live sending does.
            merged: list[EdgeClick] = []
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
                if batch.clicks:  # the row form: sent as it is
                    await self._send_merged(call, merged)
                    self._spool_oldest_us = _first_click_us(batch) or self._spool_oldest_us
                    await self._send(call, batch)
                    continue
                merged += clicks_of(batch)
                while len(merged) >= self._max_batch:
                    await self._send_merged(call, merged[: self._max_batch])
                    del merged[: self._max_batch]
            await self._send_merged(call, merged)
            self._cursor.offset = peek.offset
            if records:
                continue
            # Everything written so far was sent and acknowledged (a group
            # written from now on sets it again).
            self._spool_oldest_us = None
            async with self._spool_lock:
                if not self._spool.is_current(segment) or not self._durable:
                    self._spool.remove(segment)
                    metrics.SPOOL_BYTES.set(self._spool.size_bytes())
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

    async def _send_merged(self, call: grpc.aio.StreamStreamCall, clicks: list[EdgeClick]) -> None:
        """Sends `clicks` as one batch (once acknowledged) and empties the list."""
        if clicks:
            # The spool is in order: this batch holds its oldest unacknowledged click.
            self._spool_oldest_us = clicks[0].clicked_at_us
            await self._send(call, click_batch(clicks))
            clicks.clear()

    async def _wait_for_spool(self) -> None:
        """Until a group is committed (durable mode) or a flush interval passes."""
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), self._flush_interval)
        except TimeoutError:
            pass

    async def _write(self, clicks: list[EdgeClick]) -> None:
        """Appends clicks to the spool in batch-sized records, fsync'd; raises on failure."""
        records = [
            _batch_bytes(clicks[i : i + self._max_batch])
            for i in range(0, len(clicks), self._max_batch)
        ]
        try:
            async with self._spool_lock:
                await asyncio.to_thread(self._spool.append, records)
        except Exception:
            metrics.SPOOL_ERRORS.inc()
            raise
        if self._spool_oldest_us is None:
            self._spool_oldest_us = clicks[0].clicked_at_us
        metrics.SPOOL_BYTES.set(self._spool.size_bytes())

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

    # -- durable mode ---------------------------------------------------------

    async def _commit_groups(self) -> None:
        while not (self._closing and not self._group):
            await asyncio.sleep(GROUP_INTERVAL)
            if self._group:
                await self._commit_group()

    async def _commit_group(self) -> None:
        clicks, done = self._group, self._group_done
        self._group, self._group_done = [], None
        try:
            await self._write(clicks)
        except Exception as error:
            # These requests fail (they were not answered yet); the next group
            # is tried afresh, so one bad fsync does not hang every later click.
            log.error("spool write failed, %d clicks refused: %r", len(clicks), error)
            if done is not None:
                done.set_exception(SpoolUnavailable(str(error)))
                done.exception()  # retrieved here: waiters that went away must not warn
            return
        if done is not None:
            done.set_result(None)
        self._wake.set()

    # -- helpers --------------------------------------------------------------

    async def _wait_for_wake(self, timeout: float) -> None:
        """Until a click fills a batch, an acknowledgement arrives, close, or timeout."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass


def _first_click_us(batch: edge_pb2.ClickBatch) -> int | None:
    """When the batch's first click was made, if it holds any."""
    if batch.columns.clicked_at_us:
        return int(batch.columns.clicked_at_us[0])
    if batch.clicks:  # the row form: the edge never spools it, but a batch may hold it
        return int(batch.clicks[0].clicked_at.ToMicroseconds())
    return None
