"""Follows the control plane's invalidations so cached links never outlive a change."""

from __future__ import annotations

import asyncio
import logging

from common.backoff import Backoff
from edge import metrics
from edge.cache import LinkCache
from smarturls.v1 import edge_pb2, edge_pb2_grpc

log = logging.getLogger(__name__)


async def follow_invalidations(
    stub: edge_pb2_grpc.EdgeServiceStub, cache: LinkCache, lookback_seconds: int
) -> None:
    """Runs until cancelled; each (re)connection starts with the lookback snapshot."""
    backoff = Backoff()
    while True:
        try:
            request = edge_pb2.WatchInvalidationsRequest(lookback_seconds=lookback_seconds)
            async for invalidation in stub.WatchInvalidations(request):
                cache.invalidate(invalidation)
                metrics.INVALIDATIONS.inc()
                backoff.reset()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("invalidation stream failed (%r); reconnecting", error)
        await asyncio.sleep(backoff.next_delay())
