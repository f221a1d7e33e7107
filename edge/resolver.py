"""Token -> link on a cache miss: verify the MAC, then Redis, then (once per token,
however many requests wait for it) the control plane."""

from __future__ import annotations

import asyncio

import grpc

from edge import metrics
from edge.cache import GONE, LinkCache, RedisTier
from edge.links import CachedLink, LinkFactory
from signing.keys import SigningKeys
from signing.tokens import verify_token
from smarturls.v1 import edge_pb2, edge_pb2_grpc


class ControlUnavailable(Exception):
    """The link is not cached and the control plane did not answer in time."""


class Resolver:
    def __init__(
        self,
        stub: edge_pb2_grpc.EdgeServiceStub,
        keys: SigningKeys,
        cache: LinkCache,
        redis: RedisTier | None,
        *,
        timeout: float,
    ) -> None:
        self._stub = stub
        self._keys = keys
        self._cache = cache
        self._redis = redis
        self._timeout = timeout
        self._factory = LinkFactory()
        self._inflight: dict[str, asyncio.Future[CachedLink | None]] = {}

    async def resolve(self, token: str) -> CachedLink | None:
        """None for forged, mistyped, unknown or revoked tokens."""
        if verify_token(self._keys, token) is None:
            # Never cached: random tokens must not be able to fill the cache.
            return None
        metrics.HOT.cache["memory", "miss"] += 1
        pending = self._inflight.get(token)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(token))
            self._inflight[token] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(token, None))
        # shield: one impatient client disconnecting must not cancel the others' lookup.
        return await asyncio.shield(pending)

    async def _fetch(self, token: str) -> CachedLink | None:
        # Before the first snapshot (control plane away at start) Redis is still
        # used: serving every cached link beats a 503 for all of them, at the
        # risk of a link revoked within the cache TTL redirecting until then.
        if self._redis is not None:
            shared = await self._redis.get(token)
            if shared is GONE:
                self._cache.put_gone(token)
                return None
            if isinstance(shared, edge_pb2.ResolvedLink):
                link = self._factory.from_proto(shared)
                if not self._cache.is_stale(link):
                    self._cache.put(token, link)
                    return link
        try:
            resolved = await self._stub.ResolveToken(
                edge_pb2.ResolveTokenRequest(token=token), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                self._cache.put_gone(token)
                if self._redis is not None:
                    await self._redis.put(token, None)
                return None
            raise ControlUnavailable(error.code().name) from error
        metrics.HOT.cache["control", "resolved"] += 1
        link = self._factory.from_proto(resolved)
        self._cache.put(token, link)
        metrics.CACHED_LINKS.set(len(self._cache))
        if self._redis is not None:
            await self._redis.put(token, resolved)
        return link
