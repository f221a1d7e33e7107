"""Durable mode's group commit: clicks gather while the event loop's passes
still read requests (for at most GROUP_INTERVAL), then go to the spool together
in one fsync'd write, made on the event loop; each click's request is answered
once its group is on disk (or refused if the write failed), by its
continuation, called straight from the commit: no future, callback handle or
task per click.

Why on the event loop and not in a worker thread: every click's answer waits
for its group's write either way, and what the loop would read meanwhile only
joins the next group. A thread buys nothing for the clicks and costs the GIL:
the worker has to take it from the busy loop and hand it back twice a group,
with context switches on the edge's one core. The loop stops for one append
a group (~0.2-1 ms on a local disk); a request that is not a click waits that
long at most, and a disk that hangs stops /healthz too, which is what a
liveness probe should see.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from edge.clicks import EdgeClick

log = logging.getLogger(__name__)

# The longest a group's first click waits for others to join it.
GROUP_INTERVAL = 0.002


class SpoolUnavailable(Exception):
    """Durable mode could not write the click to the spool: the request fails."""


# Called once the click's group is on disk (None) or failed to get there.
Then = Callable[[SpoolUnavailable | None], None]


class GroupCommit:
    def __init__(
        self, write: Callable[[list[EdgeClick]], None], committed: Callable[[], None]
    ) -> None:
        # write: appends clicks to the spool, fsync'd, raising on failure (blocking);
        # committed: told after each group is on disk (the replay sends it).
        self._write = write
        self._committed = committed
        self._group: list[EdgeClick] = []
        self._then: list[Then] = []
        # Set by a group's first click: an idle edge does not wake every 2 ms.
        self._started = asyncio.Event()

    def add(self, click: EdgeClick, then: Then) -> None:
        """The click joins the next group; `then` is called once it is fsync'd."""
        if not self._group:
            self._started.set()
        self._group.append(click)
        self._then.append(then)

    @property
    def waiting(self) -> list[EdgeClick]:
        """The clicks of the group being gathered, oldest first."""
        return self._group

    async def run(self, closing: Callable[[], bool]) -> None:
        """Commits groups until closing. A group takes in what the event loop's
        next passes read (requests already in the sockets, or pipelined behind
        an answer) and is committed once a pass adds nothing: under load that
        is every connection whose answer went out with the last group. A fixed
        wait would hold every client that waits for its answer before asking
        again for all of it."""
        loop = asyncio.get_running_loop()
        while not (closing() and not self._group):
            if not self._group:
                # Until a click comes, or wake() at closing. No timeout: a
                # wait_for here made a task and a timer for every group.
                await self._started.wait()
                self._started.clear()
            deadline = loop.time() + GROUP_INTERVAL
            size = 0
            while size < len(self._group) and loop.time() < deadline:
                size = len(self._group)
                await asyncio.sleep(0)
            if self._group:
                self.commit()

    def wake(self) -> None:
        """Has run() look at `closing` again."""
        self._started.set()

    def commit(self) -> None:
        clicks, thens = self._group, self._then
        self._group, self._then = [], []
        failure = None
        try:
            self._write(clicks)
        except Exception as error:
            # These requests fail (they were not answered yet); the next group
            # is tried afresh, so one bad fsync does not hang every later click.
            log.error("spool write failed, %d clicks refused: %r", len(clicks), error)
            failure = SpoolUnavailable(str(error))
        for then in thens:
            try:
                then(failure)
            except Exception:  # one request's answer must not cost the others theirs
                log.exception("answering a durable click failed")
        if failure is None:
            self._committed()
