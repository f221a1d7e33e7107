"""Token -> link: verify the MAC, then the cache, then (once per token) the control plane."""

from __future__ import annotations

import asyncio

import grpc
from aiocache import SimpleMemoryCache

from edge import metrics
from edge.links import CachedLink
from signing.keys import SigningKeys
from signing.tokens import verify_token
from smarturls.v1 import edge_pb2, edge_pb2_grpc

# Cached for tokens whose MAC is valid but whose link does not exist.
_GONE = "gone"


class ControlUnavailable(Exception):
    """The link is not cached and the control plane did not answer in time."""


class Resolver:
    def __init__(
        self,
        stub: edge_pb2_grpc.EdgeServiceStub,
        keys: SigningKeys,
        *,
        ttl: float,
        negative_ttl: float,
        timeout: float,
    ) -> None:
        self._stub = stub
        self._keys = keys
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._timeout = timeout
        self._cache = SimpleMemoryCache()
        self._inflight: dict[int, asyncio.Future[CachedLink | None]] = {}

    async def resolve(self, token: str) -> CachedLink | None:
        """None for forged, mistyped or unknown tokens."""
        link_id = verify_token(self._keys, token)
        if link_id is None:
            return None
        cached = await self._cache.get(link_id)
        if cached is not None:
            metrics.CACHE.labels("hit").inc()
            return None if cached == _GONE else cached
        metrics.CACHE.labels("miss").inc()
        pending = self._inflight.get(link_id)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(link_id, token))
            self._inflight[link_id] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(link_id, None))
        # shield: one impatient client disconnecting must not cancel the others' lookup.
        return await asyncio.shield(pending)

    async def _fetch(self, link_id: int, token: str) -> CachedLink | None:
        try:
            resolved = await self._stub.ResolveToken(
                edge_pb2.ResolveTokenRequest(token=token), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                await self._cache.set(link_id, _GONE, ttl=self._negative_ttl)
                return None
            raise ControlUnavailable(error.code().name) from error
        link = CachedLink.from_proto(resolved)
        await self._cache.set(link_id, link, ttl=self._ttl)
        return link
