"""What the edge holds while it serves: made by the app's lifespan, read by the
hot route (below ASGI and through it)."""

from __future__ import annotations

from dataclasses import dataclass

from edge.cache import LinkCache
from edge.resolver import Resolver
from edge.tracking import ClickBuffer
from signing.sources import SourceMinter


@dataclass
class EdgeRuntime:
    cache: LinkCache
    resolver: Resolver
    clicks: ClickBuffer
    sources: SourceMinter
