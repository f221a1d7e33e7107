"""The link cache tiers: in-process (always) and Redis (when REDIS_URL is set).

In-process: an insertion-ordered dict bounded by entry count, the oldest tenth
evicted when it is full, each entry with its own expiry. A hit is one dict lookup and a clock
read, far below aiocache's in-memory cache or cachetools' TTLCache
(`python3 tasks.py bench-edge` prints the three).
Invalidations are lazy: revoked link ids and template versions are kept, and
a stale entry is dropped when it is next read.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any, Final

from aiocache import RedisCache
from aiocache.serializers import BaseSerializer
from google.protobuf.message import DecodeError

from edge import metrics
from edge.links import CachedLink
from smarturls.v1 import edge_pb2

log = logging.getLogger(__name__)


class Gone:
    """A token whose MAC is valid but whose link does not exist or was revoked."""

    __slots__ = ("expires",)

    def __init__(self, expires: float) -> None:
        self.expires = expires


GONE: Final = Gone(float("inf"))


class LinkCache:
    def __init__(self, max_entries: int, ttl: float, negative_ttl: float) -> None:
        # A plain dict keeps insertion order too, at ~60 bytes an entry less than
        # an OrderedDict; eviction drops the oldest tenth at once (see _insert).
        self._entries: dict[str, CachedLink | Gone] = {}
        self._max_entries = max_entries
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._revoked: set[int] = set()
        self._template_versions: dict[int, int] = {}
        self._expiries: dict[float, float] = {}
        # Set once the first invalidation message (the catch-up snapshot) is
        # applied: from then on a stale entry, here or in Redis, is recognised.
        self.synced = False

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str) -> CachedLink | Gone | None:
        """The link, GONE, or None when the cache cannot say."""
        link = self._entries.get(token)
        if link is None:
            return None
        if link.expires < time.monotonic():
            del self._entries[token]
            return None
        if isinstance(link, Gone):
            return GONE
        if link.smart_url_id in self._revoked:
            return GONE
        shape = link.shape
        if shape.template_version < self._template_versions.get(shape.template_id, 0):
            del self._entries[token]
            return None
        return link

    def put(self, token: str, link: CachedLink) -> None:
        link.expires = self._expiry(self._ttl)
        self._insert(token, link)

    def _expiry(self, ttl: float) -> float:
        """Expiry to the second, one float object per second shared by every link
        cached in it: 24 bytes a link less."""
        moment = float(int(time.monotonic() + ttl) + 1)
        shared = self._expiries.get(moment)
        if shared is None:
            if len(self._expiries) > 4096:
                self._expiries.clear()
            shared = self._expiries[moment] = moment
        return shared

    def put_gone(self, token: str) -> None:
        self._insert(token, Gone(time.monotonic() + self._negative_ttl))

    def is_stale(self, link: CachedLink) -> bool:
        return link.smart_url_id in self._revoked or link.shape.template_version < (
            self._template_versions.get(link.shape.template_id, 0)
        )

    def invalidate(self, invalidation: edge_pb2.Invalidation) -> None:
        self.synced = True
        self._revoked.update(invalidation.smart_url_ids)
        for template in invalidation.templates:
            known = self._template_versions.get(template.template_id, 0)
            self._template_versions[template.template_id] = max(known, template.version)

    def _insert(self, token: str, entry: CachedLink | Gone) -> None:
        self._entries.pop(token, None)  # re-inserted at the end: it is the newest now
        self._entries[token] = entry
        if len(self._entries) > self._max_entries:
            # In chunks: deleting one key at a time from the front of a dict
            # makes every later front lookup walk the holes left behind.
            oldest = list(itertools.islice(self._entries, max(self._max_entries // 10, 1)))
            for key in oldest:
                del self._entries[key]
            metrics.CACHE_EVICTIONS.inc(len(oldest))


class _ProtoSerializer(BaseSerializer):  # type: ignore[misc]
    DEFAULT_ENCODING = None

    def dumps(self, value: bytes) -> bytes:
        return value

    def loads(self, value: bytes | None) -> bytes | None:
        return value


class RedisTier:
    """Resolved links shared by every edge, so a new or restarted edge starts warm.

    Values are the control plane's ResolvedLink protobuf; b"" marks a gone token.
    Redis trouble is a cache miss, never a failed redirect.
    """

    def __init__(self, url: str, ttl: float, negative_ttl: float, timeout: float = 0.05) -> None:
        self._cache = RedisCache(
            serializer=_ProtoSerializer(),
            namespace="smarturls:link:",
            timeout=timeout,
            **_redis_params(url),
        )
        self._ttl = int(ttl)
        self._negative_ttl = max(int(negative_ttl), 1)

    async def get(self, token: str) -> edge_pb2.ResolvedLink | Gone | None:
        try:
            value = await self._cache.get(token)
        except Exception as error:
            metrics.HOT.cache["redis", "error"] += 1
            log.debug("redis get failed: %r", error)
            return None
        if value is None:
            metrics.HOT.cache["redis", "miss"] += 1
            return None
        metrics.HOT.cache["redis", "hit"] += 1
        if value == b"":
            return GONE
        try:
            return edge_pb2.ResolvedLink.FromString(value)
        except DecodeError:
            self._hot_error()
            return None

    def _hot_error(self) -> None:
        metrics.HOT.cache["redis", "error"] += 1

    async def put(self, token: str, link: edge_pb2.ResolvedLink | None) -> None:
        try:
            if link is None:
                await self._cache.set(token, b"", ttl=self._negative_ttl)
            else:
                await self._cache.set(token, link.SerializeToString(), ttl=self._ttl)
        except Exception as error:
            metrics.HOT.cache["redis", "error"] += 1
            log.debug("redis set failed: %r", error)

    async def close(self) -> None:
        await self._cache.close()


def _redis_params(url: str) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    params: dict[str, Any] = {
        "endpoint": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
    }
    if parts.password:
        params["password"] = parts.password
    return params
