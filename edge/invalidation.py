"""Follows the control plane's invalidations so cached links never outlive a change."""

from __future__ import annotations

import asyncio
import logging

import grpc

from common.backoff import Backoff
from common.control_channel import failure
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
        request = edge_pb2.WatchInvalidationsRequest(lookback_seconds=lookback_seconds)
        call = stub.WatchInvalidations(request)
        try:
            # read() rather than `async for`: the call's async generator, left
            # unfinished when the stream fails, would be collected later with
            # "aclose(): asynchronous generator is already running".
            while (invalidation := await call.read()) is not grpc.aio.EOF:
                cache.invalidate(invalidation)
                metrics.INVALIDATIONS.inc()
                backoff.reset()
            log.warning("invalidation stream ended; reconnecting")
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("invalidation stream failed (%s); reconnecting", failure(error))
        finally:
            call.cancel()
        await asyncio.sleep(backoff.next_delay())
