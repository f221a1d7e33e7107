"""Recording clicks: built from the request, held in memory, flushed in batches.

A click leaves memory only after the control plane acknowledged its batch;
until then a failed send is retried on a new stream. Click ids are UUIDv7, so
a batch resent after a lost acknowledgement is stored once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from dataclasses import dataclass

import grpc
import uuid_utils
from google.protobuf.timestamp_pb2 import Timestamp

from edge import metrics
from smarturls.v1 import edge_pb2, edge_pb2_grpc

log = logging.getLogger(__name__)

_MAX_UA = 512
# A batch not acknowledged by then is resent on a new stream (stored once).
ACK_TIMEOUT = 10.0
_MAX_REFERER = 512


@dataclass(frozen=True, slots=True)
class EdgeClick:
    click_id: bytes
    smart_url_id: int
    clicked_at: float
    method: str
    user_agent: str
    ip_prefix: str
    referer: str

    def to_proto(self) -> edge_pb2.Click:
        ts = Timestamp()
        ts.FromNanoseconds(int(self.clicked_at * 1e9))
        return edge_pb2.Click(
            click_id=self.click_id,
            smart_url_id=self.smart_url_id,
            clicked_at=ts,
            method=self.method,
            user_agent=self.user_agent,
            ip_prefix=self.ip_prefix,
            referer=self.referer,
        )


def new_click_id() -> uuid_utils.UUID:
    return uuid_utils.uuid7()


def truncate_ip(host: str | None) -> str:
    """/24 for IPv4, /48 for IPv6: enough for abuse patterns, not a person."""
    if not host:
        return ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def make_click(
    click_id: uuid_utils.UUID,
    smart_url_id: int,
    method: str,
    user_agent: str,
    client_host: str | None,
    referer: str,
) -> EdgeClick:
    return EdgeClick(
        click_id=click_id.bytes,
        smart_url_id=smart_url_id,
        clicked_at=time.time(),
        method=method,
        user_agent=user_agent[:_MAX_UA],
        ip_prefix=truncate_ip(client_host),
        referer=referer[:_MAX_REFERER],
    )


class ClickBuffer:
    def __init__(
        self, stub: edge_pb2_grpc.EdgeServiceStub, *, flush_interval: float, max_batch: int
    ) -> None:
        self._stub = stub
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._pending: list[EdgeClick] = []
        self._full = asyncio.Event()
        self._seq = 0
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self.acknowledged = 0

    def record(self, click: EdgeClick) -> None:
        self._pending.append(click)
        metrics.BUFFERED.inc()
        if len(self._pending) >= self._max_batch:
            self._full.set()

    @property
    def depth(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self, timeout: float) -> None:
        """Flushes what is buffered, waiting at most `timeout` seconds."""
        self._closing = True
        self._full.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, timeout)
        except TimeoutError:
            log.error("%d clicks not acknowledged after %.1fs: lost", self.depth, timeout)
        except Exception:
            log.exception("click flusher failed; %d clicks not acknowledged", self.depth)

    async def _run(self) -> None:
        """Flushes until close(); reconnects with backoff when the stream fails."""
        backoff = 0.1
        while not (self._closing and not self._pending):
            try:
                await self._stream()
                backoff = 0.1
            except Exception as error:
                # Anything, not only RPC errors: a stream the server ended raises
                # InvalidStateError on write, and the flusher must outlive it.
                metrics.FLUSH_ERRORS.inc()
                log.warning("click stream failed (%r); retrying in %.1fs", error, backoff)
                self._update_oldest()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _stream(self) -> None:
        call = self._stub.IngestClicks()
        try:
            while not (self._closing and not self._pending):
                await self._wait_for_batch()
                self._update_oldest()
                if not self._pending:
                    continue
                if call.done():
                    raise ConnectionError("click stream ended")
                batch = self._pending[: self._max_batch]
                self._seq += 1
                started = time.perf_counter()
                await call.write(
                    edge_pb2.ClickBatch(batch_seq=self._seq, clicks=[c.to_proto() for c in batch])
                )
                ack = await asyncio.wait_for(call.read(), ACK_TIMEOUT)
                if ack is grpc.aio.EOF or ack.batch_seq != self._seq:
                    raise grpc.aio.UsageError("click stream ended without acknowledgement")
                metrics.FLUSH_SECONDS.observe(time.perf_counter() - started)
                # Only now may the batch leave memory: it is committed.
                del self._pending[: len(batch)]
                self.acknowledged += len(batch)
                metrics.ACKED.inc(len(batch))
                metrics.BUFFERED.dec(len(batch))
            self._update_oldest()
            await call.done_writing()
        finally:
            call.cancel()

    def _update_oldest(self) -> None:
        oldest = self._pending[0].clicked_at if self._pending else None
        metrics.OLDEST_UNACKED.set(time.time() - oldest if oldest else 0)

    async def _wait_for_batch(self) -> None:
        if len(self._pending) >= self._max_batch or self._closing:
            return
        self._full.clear()
        try:
            await asyncio.wait_for(self._full.wait(), self._flush_interval)
        except TimeoutError:
            pass
