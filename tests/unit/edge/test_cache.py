from __future__ import annotations

from edge.cache import GONE, LinkCache
from edge.links import CachedLink, LinkShape, PreviewCard
from smarturls.v1 import edge_pb2

CARD = PreviewCard("", "", "")


def link(smart_url_id: int, version: int = 1) -> CachedLink:
    return CachedLink(
        smart_url_id, b"https://x.example/", LinkShape("d.example", b"", False, 7, version, CARD)
    )


def test_bounded_by_entry_count_oldest_first() -> None:
    cache = LinkCache(max_entries=100, ttl=60, negative_ttl=60)
    for i in range(250):
        cache.put(f"t{i}", link(i))
    assert len(cache) <= 100
    assert cache.get("t249") is not None
    assert cache.get("t0") is None


def test_entries_expire() -> None:
    cache = LinkCache(max_entries=10, ttl=-1, negative_ttl=-1)
    cache.put("t", link(1))
    cache.put_gone("g")
    assert cache.get("t") is None and cache.get("g") is None


def test_invalidations_apply_to_entries_already_cached() -> None:
    cache = LinkCache(max_entries=10, ttl=60, negative_ttl=60)
    cache.put("a", link(1))
    cache.put("b", link(2))
    cache.invalidate(
        edge_pb2.Invalidation(
            smart_url_ids=[1], templates=[edge_pb2.TemplateVersion(template_id=7, version=2)]
        )
    )
    assert cache.get("a") is GONE
    assert cache.get("b") is None  # stale template version: resolve again
    cache.put("b", link(2, version=2))
    assert cache.get("b") is not None
