"""The reconnect backoff: jittered below a doubling, capped ceiling, reset by a success."""

from __future__ import annotations

import random

from common.backoff import Backoff


def test_delays_are_jittered_under_a_doubling_capped_ceiling() -> None:
    random.seed(7)
    backoff = Backoff(first=0.1, most=1.0)
    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    delays = [backoff.next_delay() for _ in ceilings]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
    # Full jitter: not the ceiling itself, and not the same for two replicas.
    assert len(set(delays)) == len(delays)
    many = [Backoff(first=1.0).next_delay() for _ in range(200)]
    assert min(many) < 0.2 and max(many) > 0.8


def test_a_success_starts_again_from_the_first_delay() -> None:
    backoff = Backoff(first=0.1, most=5.0)
    after_reset = []
    for _ in range(20):
        for _ in range(10):
            backoff.next_delay()
        backoff.reset()
        after_reset.append(backoff.next_delay())
    assert max(after_reset) <= 0.1, after_reset
