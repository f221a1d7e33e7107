"""The click buffer when the disk fails: nothing answered is dropped silently.

The failing disk is the true outside here, so the spool's write is made to
raise ENOSPC; everything else is real (a control plane that is not there)."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

import grpc
import pytest

from edge.clicks import EdgeClick
from edge.group_commit import SpoolUnavailable
from edge.spool import Cursor, Spool
from edge.tracking import ClickBuffer
from smarturls.v1 import edge_pb2, edge_pb2_grpc
from tests.support import eventually


def click(n: int) -> EdgeClick:
    return EdgeClick(n.to_bytes(16, "big"), 1, 1, "GET", "Mozilla/5.0", "", "", "human", ())


def durable_buffer(channel: grpc.aio.Channel, spool: Path) -> ClickBuffer:
    return ClickBuffer(
        edge_pb2_grpc.EdgeServiceStub(channel),
        spool,
        flush_interval=0.01,
        max_batch=100,
        durable=True,
    )


def disk_full(*args: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_failed_spill_keeps_the_clicks_and_the_sender(tmp_path: Path) -> None:
    # Nothing listens on port 1: every send fails and the buffer spills.
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
        buffer = ClickBuffer(
            edge_pb2_grpc.EdgeServiceStub(channel), tmp_path, flush_interval=0.01, max_batch=100
        )
        buffer._spool.append = disk_full  # type: ignore[method-assign]
        buffer.start()
        for n in range(10):
            buffer.record(click(n))
        await asyncio.sleep(0.5)
        assert buffer.depth == 10  # still in memory, in order
        assert not any(t.done() for t in buffer._tasks)  # the sender is alive
        buffer._spool.append = Spool.append.__get__(buffer._spool)  # type: ignore[method-assign]

        async def spooled() -> bool:  # the disk took them, at the sender's next try
            return buffer.depth == 0 and buffer.spooled_bytes > 0

        await eventually(spooled, timeout=10)
        for task in buffer._tasks:
            task.cancel()


async def test_durable_mode_refuses_one_group_and_serves_the_next(tmp_path: Path) -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
        buffer = durable_buffer(channel, tmp_path)
        buffer.start()
        buffer._spool.append = disk_full  # type: ignore[method-assign]
        with pytest.raises(SpoolUnavailable):
            await asyncio.wait_for(buffer.record_durably(click(1)), 2)
        buffer._spool.append = Spool.append.__get__(buffer._spool)  # type: ignore[method-assign]
        await asyncio.wait_for(buffer.record_durably(click(2)), 2)
        assert buffer.spooled_bytes > 0
        for task in buffer._tasks:
            task.cancel()


async def test_durable_clicks_read_in_one_pass_share_one_fsync(tmp_path: Path) -> None:
    async with grpc.aio.insecure_channel("127.0.0.1:1") as channel:
        buffer = durable_buffer(channel, tmp_path)
        buffer.start()
        answered: list[tuple[int, SpoolUnavailable | None]] = []

        def record(n: int) -> None:
            buffer.record_in_next_group(click(n), lambda failure: answered.append((n, failure)))

        for n in range(20):  # as one pass of the event loop reads them
            record(n)
        assert answered == []  # nothing is answered before its group is on disk

        async def first_group_answered() -> bool:
            return len(answered) == 20

        await eventually(first_group_answered, timeout=5)
        for n in range(20, 25):
            record(n)

        async def second_group_answered() -> bool:
            return len(answered) == 25

        await eventually(second_group_answered, timeout=5)
        assert answered == [(n, None) for n in range(25)]  # in order, none refused
        records = buffer._spool.read(Cursor(buffer._spool.segments()[0]))
        # One append per group: the first 20 clicks shared one write and one fsync.
        sizes = [len(edge_pb2.ClickBatch.FromString(r).columns.smart_url_ids) for r in records]
        assert sizes == [20, 5]
        for task in buffer._tasks:
            task.cancel()


def test_a_torn_write_is_cut_off_before_the_next_append(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append([b"first"])
    segment = spool.segments()[0]
    with open(segment, "ab") as f:
        f.write(b"\x00\x00\x00\x09par")  # a record header and half its body
    spool.seal()
    spool.append([b"second"])
    cursor = Cursor(segment)
    assert spool.read(cursor) == [b"first"]  # the torn record never becomes one
    assert spool.read(Cursor(spool.segments()[1])) == [b"second"]
