"""What every servicer needs, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from control.db.listener import InvalidationHub
from control.domain.click_ingest import LinkMessages
from control.domain.partitions import ClickPartitions
from signing.keys import SigningKeys


@dataclass(frozen=True, slots=True)
class Deps:
    db: asyncpg.Pool
    keys: SigningKeys
    hub: InvalidationHub
    # Which click partitions exist, and the retention period (0 keeps clicks forever).
    partitions: ClickPartitions = field(default_factory=lambda: ClickPartitions(0))
    # The message of each link clicked so far (click ingest's burst rule).
    links: LinkMessages = field(default_factory=LinkMessages)
