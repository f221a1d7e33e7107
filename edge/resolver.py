"""Token -> link on a cache miss: verify the MAC, then Redis, then (once per token,
however many requests wait for it) the control plane.

Misses share control-plane calls: at most MAX_CALLS are out at once, and the
tokens that miss while they are go together in the next one (ResolveTokens).
A lone miss is asked about at once, as before; a campaign's first clicks, cold
together, cost the control plane one call and one query per group of tokens
instead of one each, which is what bounds how fast cold links answer."""

from __future__ import annotations

import asyncio
import itertools
import logging

import grpc

from edge import metrics
from edge.cache import GONE, LinkCache, RedisTier
from edge.links import CachedLink, LinkFactory
from signing.keys import SigningKeys
from signing.tokens import verify_token
from smarturls.v1 import edge_pb2, edge_pb2_grpc

# Control-plane calls out at once: enough to overlap their round trips, few
# enough that the tokens which miss meanwhile gather into the next call.
MAX_CALLS = 4
# Tokens in one call (the control plane takes up to 1,000).
MAX_TOKENS = 500
# How long a control plane without ResolveTokens is asked one token per call
# before the batch is tried again.
ONE_BY_ONE_SECONDS = 60.0

log = logging.getLogger(__name__)


# A token's link as the control plane answers it (None: forged or gone).
Answer = asyncio.Future[edge_pb2.ResolvedLink | None]


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
        # Tokens waiting for a control-plane call, and the calls out.
        self._queued: dict[str, Answer] = {}
        self._calls: set[asyncio.Task[None]] = set()
        self._one_by_one_until = 0.0

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
        resolved = await self._ask_control(token)
        if resolved is None:
            self._cache.put_gone(token)
            if self._redis is not None:
                await self._redis.put(token, None)
            return None
        metrics.HOT.cache["control", "resolved"] += 1
        link = self._factory.from_proto(resolved)
        self._cache.put(token, link)
        metrics.CACHED_LINKS.set(len(self._cache))
        if self._redis is not None:
            await self._redis.put(token, resolved)
        return link

    def _ask_control(self, token: str) -> Answer:
        """Will hold the token's link from the control plane (None: forged or
        gone), or raise ControlUnavailable."""
        answer: Answer = asyncio.get_running_loop().create_future()
        self._queued[token] = answer
        if len(self._calls) < MAX_CALLS:
            self._call()
        return answer

    def _call(self) -> None:
        tokens = dict(itertools.islice(self._queued.items(), MAX_TOKENS))
        for token in tokens:
            del self._queued[token]
        call = asyncio.ensure_future(self._resolve(tokens))
        self._calls.add(call)
        call.add_done_callback(self._called)

    def _called(self, call: asyncio.Task[None]) -> None:
        self._calls.discard(call)
        if self._queued and len(self._calls) < MAX_CALLS:
            self._call()

    async def _resolve(self, tokens: dict[str, Answer]) -> None:
        try:
            if asyncio.get_running_loop().time() < self._one_by_one_until:
                links = await self._each(list(tokens))
            else:
                links = await self._together(list(tokens))
        except BaseException as error:
            if isinstance(error, grpc.aio.AioRpcError):
                failure = ControlUnavailable(error.code().name)
            elif isinstance(error, ControlUnavailable):
                failure = error
            else:
                if isinstance(error, Exception):
                    log.exception("resolving %d tokens failed", len(tokens))
                failure = ControlUnavailable(repr(error))
            for answer in tokens.values():
                if not answer.done():
                    answer.set_exception(failure)
            if not isinstance(error, Exception):
                raise  # cancelled: its requests were told, the task still ends
            return
        for answer, link in zip(tokens.values(), links, strict=True):
            if not answer.done():
                answer.set_result(link)

    async def _together(self, tokens: list[str]) -> list[edge_pb2.ResolvedLink | None]:
        try:
            reply = await self._stub.ResolveTokens(
                edge_pb2.ResolveTokensRequest(tokens=tokens), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            # A control plane older than this edge, as during an upgrade: one
            # call per token, as it understands, and the batch tried again later.
            log.warning("control plane lacks ResolveTokens: resolving one token per call")
            self._one_by_one_until = asyncio.get_running_loop().time() + ONE_BY_ONE_SECONDS
            return await self._each(tokens)
        if len(reply.resolutions) != len(tokens):
            raise ControlUnavailable(f"{len(reply.resolutions)} resolutions for {len(tokens)}")
        return [r.link if r.HasField("link") else None for r in reply.resolutions]

    async def _each(self, tokens: list[str]) -> list[edge_pb2.ResolvedLink | None]:
        return await asyncio.gather(*map(self._one, tokens))

    async def _one(self, token: str) -> edge_pb2.ResolvedLink | None:
        try:
            link: edge_pb2.ResolvedLink = await self._stub.ResolveToken(
                edge_pb2.ResolveTokenRequest(token=token), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return link
