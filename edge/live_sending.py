"""Live sending: the clicks in memory go out in batches over one IngestClicks
stream, up to BATCHES_IN_FLIGHT on the wire, and each batch leaves memory only
when its acknowledgement comes back (in order)."""

from __future__ import annotations

import asyncio
import time
from collections import deque

import grpc

from edge import metrics
from edge.clicks import EdgeClick, click_batch

# A batch not acknowledged by then is resent on a new stream (stored once).
ACK_TIMEOUT = 10.0
# Batches sent and not yet acknowledged: the control plane stores one while it
# decodes the next, instead of each side waiting on the other in turn.
BATCHES_IN_FLIGHT = 3


class LiveSending:
    """ClickBuffer's live sender (a mixin: the state is the buffer's)."""

    _pending: list[EdgeClick]
    _sent: int
    _in_flight: deque[tuple[int, int, float]]
    _seq: int
    _wake: asyncio.Event
    _closing: bool
    _max_batch: int
    _flush_interval: float
    acknowledged: int

    async def _wait_for_wake(self, timeout: float) -> None:
        """Until a click fills a batch, an acknowledgement arrives, close, or timeout."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

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
