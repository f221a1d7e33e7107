"""What every click an edge sends must hold before it is stored. The rules live
here; control/api/convert.py only reads the batch's two wire forms into rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from control.domain.errors import InvalidArgument
from control.domain.model import HIT_CLASSES, ClickRow

_CLASSES = frozenset(HIT_CLASSES)


def latest_click_us() -> int:
    # An edge clock a little ahead is tolerated; a click dated next year would
    # make a partition for every week up to it.
    return int(datetime.now(UTC).timestamp() * 1e6) + 86_400_000_000


def check_click_rows(rows: Sequence[ClickRow]) -> None:
    """InvalidArgument naming the field when any click breaks a rule. Column by
    column (a batch is thousands of clicks, checked in C by min, max and set)."""
    if not rows:
        return
    ids, _, clicked_at_us, *_, classes, _ = zip(*rows, strict=True)
    if set(map(len, ids)) != {16}:
        raise InvalidArgument.field("clicks.click_id", "16 bytes of UUID required")
    if not (0 < min(clicked_at_us) and max(clicked_at_us) < latest_click_us()):
        raise InvalidArgument.field("clicks.clicked_at", "not a time of today or before")
    unknown = set(classes) - _CLASSES
    if unknown:
        raise InvalidArgument.field("clicks.hit_class", f"unknown class {min(unknown)[:20]!r}")
