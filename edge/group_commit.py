"""Durable mode's group commit: clicks gather while the previous group is being
fsync'd (or, after a quiet spell, while the event loop still has requests to
read, for at most GROUP_INTERVAL), then go to the spool together in one
fsync'd write; each click's request is answered once its group is on disk (or
refused if the write failed), by its continuation, called straight from the
commit: no future, callback handle or task per click."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from edge.clicks import EdgeClick

log = logging.getLogger(__name__)

# The longest the first click after a quiet spell waits for others to join its group.
GROUP_INTERVAL = 0.002


class SpoolUnavailable(Exception):
    """Durable mode could not write the click to the spool: the request fails."""


# Called once the click's group is on disk (None) or failed to get there.
Then = Callable[[SpoolUnavailable | None], None]


class GroupCommit:
    def __init__(
        self, write: Callable[[list[EdgeClick]], Awaitable[None]], committed: Callable[[], None]
    ) -> None:
        # write: appends clicks to the spool, fsync'd, raising on failure;
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
        """Commits groups until closing. Under load the next group is what came
        during the last fsync, committed at once, so a click waits about one
        fsync, not two. After a quiet spell the group takes in what the event
        loop's next passes read (requests already in the sockets) and is
        committed once a pass adds nothing: a fixed wait would hold every
        client that waits for its answer before asking again for all of it."""
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
                continue
            await self.commit()

    def wake(self) -> None:
        """Has run() look at `closing` again."""
        self._started.set()

    async def commit(self) -> None:
        clicks, thens = self._group, self._then
        self._group, self._then = [], []
        failure = None
        try:
            await self._write(clicks)
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
