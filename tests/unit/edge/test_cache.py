from __future__ import annotations

from edge.cache import GONE, LinkCache
from edge.links import CachedLink, LinkFactory, LinkShape, PreviewCard
from smarturls.v1 import edge_pb2

CARD = PreviewCard("", "", "")


def link(smart_url_id: int, version: int = 1) -> CachedLink:
    return CachedLink(
        smart_url_id,
        b"https://x.example/",
        LinkShape("d.example", b"", b"", False, 7, version, CARD),
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


def test_links_of_one_template_slot_share_the_start_of_their_destination() -> None:
    factory = LinkFactory()

    def resolved(i: int, head: str) -> edge_pb2.ResolvedLink:
        return edge_pb2.ResolvedLink(
            smart_url_id=i,
            share_domain="share.example",
            destination_head=head,
            destination_tail="#top",
            append_source=True,
            template_id=7,
            template_version=1,
        )

    landing = "https://shop.example/welcome?campaignid=7&mbsy="
    links = [
        factory.from_proto(resolved(1, landing + "ANNA&mbsy_source=")),
        factory.from_proto(resolved(2, landing + "BOB&mbsy_source=")),
        factory.from_proto(resolved(3, landing + "CARL&mbsy_source=")),
        factory.from_proto(resolved(4, "https://elsewhere.example/?mbsy_source=")),
    ]
    # Every link still answers its own whole destination.
    assert [link.destination_for(b"SRC") for link in links] == [
        (landing + "ANNA&mbsy_source=SRC#top").encode(),
        (landing + "BOB&mbsy_source=SRC#top").encode(),
        (landing + "CARL&mbsy_source=SRC#top").encode(),
        b"https://elsewhere.example/?mbsy_source=SRC#top",
    ]
    # From the second on, the shared start is stored once, in the shape.
    assert links[1].shape is links[2].shape
    assert links[2].destination_head == b"CARL&mbsy_source="
    assert links[3].destination_head.startswith(b"https://elsewhere")
