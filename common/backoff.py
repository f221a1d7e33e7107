"""The wait between reconnection attempts, shared by every reconnect loop."""

from __future__ import annotations

import random


class Backoff:
    """Exponential, capped, with full jitter: replicas that lost the same peer at
    the same moment do not all come back at the same moment (AWS Architecture
    Blog, "Exponential Backoff And Jitter")."""

    def __init__(self, first: float = 0.1, most: float = 5.0) -> None:
        self._first = first
        self._most = most
        self._ceiling = first

    def reset(self) -> None:
        """After a success: the next failure waits little again."""
        self._ceiling = self._first

    def next_delay(self) -> float:
        delay = random.uniform(0, self._ceiling)
        self._ceiling = min(self._ceiling * 2, self._most)
        return delay
