"""The hot route's answer batch over real socket pairs: answers are written at
the end of the loop's pass, in order, and one whose client left costs nobody
else theirs."""

from __future__ import annotations

import asyncio
import socket

import pytest

from edge.answer_batch import AnswerBatch, answer_batch


async def connection() -> tuple[asyncio.WriteTransport, socket.socket]:
    """A transport the batch writes to, and the client's end of it."""
    ours, theirs = socket.socketpair()
    transport, _ = await asyncio.get_running_loop().connect_accepted_socket(asyncio.Protocol, ours)
    theirs.setblocking(False)
    return transport, theirs  # type: ignore[return-value]


async def read_all(sock: socket.socket) -> bytes:
    """Until the other end closes."""
    loop = asyncio.get_running_loop()
    chunks = []
    while chunk := await loop.sock_recv(sock, 1024):
        chunks.append(chunk)
    return b"".join(chunks)


async def test_answers_wait_for_the_end_of_the_pass_then_go_in_order() -> None:
    batch = AnswerBatch(asyncio.get_running_loop())
    first, first_client = await connection()
    gone, gone_client = await connection()
    batch.add(first, b"one;", False)
    batch.add(gone, b"lost", False)
    batch.add(first, b"two", True)
    gone.close()  # the client left before the pass ended
    with pytest.raises(BlockingIOError):
        first_client.recv(1)  # nothing written yet
    assert await asyncio.wait_for(read_all(first_client), 5) == b"one;two"
    assert await asyncio.wait_for(read_all(gone_client), 5) == b""


async def test_writing_early_keeps_the_order_and_a_broken_transport_costs_no_one() -> None:
    batch = AnswerBatch(asyncio.get_running_loop())
    transport, client = await connection()

    class Broken:
        def is_closing(self) -> bool:
            return False

        def write(self, data: bytes) -> None:
            raise RuntimeError("broken")

    batch.add(Broken(), b"x", False)
    batch.add(transport, b"answer;", False)
    batch.write()  # a refusal on this connection is about to be written
    transport.write(b"refusal")
    transport.close()
    assert await asyncio.wait_for(read_all(client), 5) == b"answer;refusal"


async def test_each_loop_has_its_own_batch() -> None:
    loop = asyncio.get_running_loop()
    assert answer_batch(loop) is answer_batch(loop)
    other = asyncio.new_event_loop()
    try:
        assert answer_batch(other).loop is other
    finally:
        other.close()
    assert answer_batch(loop).loop is loop
