"""What every servicer needs, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from control.db.listener import InvalidationHub
from signing.keys import SigningKeys


@dataclass(frozen=True, slots=True)
class Deps:
    db: asyncpg.Pool
    keys: SigningKeys
    hub: InvalidationHub
