"""The classification rules only the control plane can apply (it knows the message).

The edge classifies by user agent, method and address (classifier/); these
two rules catch scanners that look like browsers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

# Mail security opens links at delivery, seconds after sending; no person reads
# an email and taps a link that fast. SMS arrives faster and is read faster.
SOON_AFTER_SEND_SECONDS = {"EMAIL": 10, "SMS": 3}

# Different links of one message opened within this many seconds of each other.
BURST_SECONDS = 2


def bursts_within(clicks: Sequence[tuple[Hashable | None, int, int]]) -> list[bool]:
    """For clicks given as (message, link, time in µs): whether another link of
    the same message was clicked within BURST_SECONDS, among these clicks alone;
    a click without a message (None: a friend's shared link) is never in one.
    One pass each way over each message's clicks in time order, keeping the
    latest time per link: O(clicks x links of a message)."""
    window = BURST_SECONDS * 1_000_000
    marked = [False] * len(clicks)
    by_message: dict[Hashable, list[int]] = defaultdict(list)
    for index, (message, _, _) in enumerate(clicks):
        if message is not None:
            by_message[message].append(index)
    for indexes in by_message.values():
        if len(indexes) < 2:
            continue
        indexes.sort(key=lambda i: clicks[i][2])
        for order in (indexes, indexes[::-1]):
            nearest: dict[int, int] = {}  # link -> its click nearest so far
            for i in order:
                _, link, at = clicks[i]
                if any(
                    abs(at - seen) <= window for other, seen in nearest.items() if other != link
                ):
                    marked[i] = True
                nearest[link] = at
    return marked
