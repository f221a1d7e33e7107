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


@dataclass(frozen=True, slots=True)
class LinkShape:
    """What every link of one template link slot (and version) has in common:
    one object shared by all of them, so a cached link holds only what is its own."""

    share_domain: str
    destination_tail: bytes
    append_source: bool
    template_id: int
    template_version: int
    card: PreviewCard


@dataclass(slots=True)
class CachedLink:
    """Four slots (48 bytes) a link: its id, the part of its destination that is
    its own (an advocate's shortcode, say), the shared shape, and the expiry the
    cache sets. Mutable only in `expires`."""

    smart_url_id: int
    # bytes: the Location header is bytes, and bytes cost 16 bytes a link less.
    destination_head: bytes
    shape: LinkShape
    expires: float = 0.0

    @property
    def share_domain(self) -> str:
        return self.shape.share_domain

    @property
    def card(self) -> PreviewCard:
        return self.shape.card

    def destination_for(self, source: bytes) -> bytes:
        shape = self.shape
        if shape.append_source:
            return self.destination_head + source + shape.destination_tail
        return self.destination_head + shape.destination_tail


class LinkFactory:
    """Builds CachedLinks, sharing the shapes (domain, tail, template, card) that
    repeat across links, which is most of their memory at 500k links."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[object, ...], LinkShape] = {}

    def from_proto(self, link: edge_pb2.ResolvedLink) -> CachedLink:
        key = (
            link.share_domain,
            link.destination_tail,
            link.append_source,
            link.template_id,
            link.template_version,
            link.og_title,
            link.og_description,
            link.og_image_url,
        )
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) > 100_000:
                self._shapes.clear()  # old shapes live on in the links that use them
            shape = self._shapes.setdefault(
                key,
                LinkShape(
                    share_domain=sys.intern(link.share_domain),
                    # ASCII: the control plane percent-encodes every destination.
                    destination_tail=link.destination_tail.encode("latin-1"),
                    append_source=link.append_source,
                    template_id=link.template_id,
                    template_version=link.template_version,
                    card=PreviewCard(link.og_title, link.og_description, link.og_image_url),
                ),
            )
        return CachedLink(
            smart_url_id=link.smart_url_id,
            destination_head=link.destination_head.encode("latin-1"),
            shape=shape,
        )
