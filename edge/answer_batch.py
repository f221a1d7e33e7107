"""The hot route's answers, written together once the event loop's pass has
read every ready connection, instead of one by one as each request is parsed.

A write that finds its reader asleep wakes it, and on loopback or a virtual
machine's network that wake-up (an interrupt to another CPU) is paid inside
the writer's send. Written one by one, nearly every answer paid it: the
profile put a third of the edge's samples on that send. Written back to back after the
reads, most answers find the reader already awake (docs/benchmarks.md has the
figures). uvicorn's ASGI path gets this without trying: its answers are
written by tasks, which run after the reads.

An answer waits a fraction of one loop pass. Anything else a connection
writes itself (a refusal, a parse error) and a graceful shutdown write the
batch first, so a connection's answers keep their order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


class AnswerBatch:
    """The answers of one event loop not yet written, oldest first."""

    __slots__ = ("_answers", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._answers: list[tuple[Any, bytes, bool]] = []

    def add(self, transport: Any, data: bytes, close: bool) -> None:
        """Writes `data` (then closes, with `close`) at the end of this loop pass."""
        if not self._answers:
            self.loop.call_soon(self.write)
        self._answers.append((transport, data, close))

    def write(self) -> None:
        """Writes every answer held, in order; one left by its client is dropped."""
        answers, self._answers = self._answers, []
        for transport, data, close in answers:
            if transport.is_closing():
                continue  # the client left; its click is recorded all the same
            try:
                transport.write(data)
                if close:
                    transport.close()
            except Exception:  # one broken transport must not cost the others their answers
                log.exception("writing an answer failed")


_current: AnswerBatch | None = None


def answer_batch(loop: asyncio.AbstractEventLoop) -> AnswerBatch:
    """The batch of this event loop (a connection keeps the one it was given)."""
    global _current
    if _current is None or _current.loop is not loop:
        _current = AnswerBatch(loop)
    return _current
