"""A resolved link as the edge caches it."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from smarturls.v1 import edge_pb2


@dataclass(frozen=True, slots=True)
class PreviewCard:
    """Open Graph tags for link previewers; shared by every link of a template link."""

    title: str
    description: str
    image_url: str


@dataclass(slots=True)
class CachedLink:
    """Mutable only in `expires`, which the cache sets: one object per entry, no
    (expiry, link) tuple around it, which is ~80 bytes a link at 500k links."""

    smart_url_id: int
    share_domain: str
    # bytes: the Location header is bytes, and bytes cost 16 bytes a link less.
    destination_head: bytes
    destination_tail: bytes
    append_source: bool
    template_id: int
    template_version: int
    card: PreviewCard
    expires: float = 0.0

    def destination_for(self, source: bytes) -> bytes:
        if self.append_source:
            return self.destination_head + source + self.destination_tail
        return self.destination_head + self.destination_tail


class LinkFactory:
    """Builds CachedLinks, sharing the strings and cards that repeat across links
    (domains, tails, preview cards), which is most of their memory at 500k links."""

    def __init__(self) -> None:
        self._cards: dict[tuple[str, str, str], PreviewCard] = {}
        self._tails: dict[str, bytes] = {}

    def from_proto(self, link: edge_pb2.ResolvedLink) -> CachedLink:
        key = (link.og_title, link.og_description, link.og_image_url)
        card = self._cards.get(key)
        if card is None:
            if len(self._cards) > 100_000:
                self._cards.clear()
                self._tails.clear()
            card = self._cards.setdefault(key, PreviewCard(*key))
        return CachedLink(
            smart_url_id=link.smart_url_id,
            share_domain=sys.intern(link.share_domain),
            # ASCII: the control plane percent-encodes every destination.
            destination_head=link.destination_head.encode("latin-1"),
            destination_tail=self._tails.setdefault(
                link.destination_tail, link.destination_tail.encode("latin-1")
            ),
            append_source=link.append_source,
            template_id=link.template_id,
            template_version=link.template_version,
            card=card,
        )
