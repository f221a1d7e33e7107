"""A resolved link as the edge caches it."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace

from smarturls.v1 import edge_pb2

# Shorter shared starts save less than the bookkeeping costs.
MIN_PREFIX = 16


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
    # What the destinations of these links start with (learned from the first
    # two: the landing page up to the advocate's shortcode, say), or b"".
    destination_prefix: bytes
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
    # What follows shape.destination_prefix up to where mbsy_source goes. bytes:
    # the Location header is bytes, and bytes cost 16 bytes a link less.
    destination_head: bytes
    shape: LinkShape
    expires: float = 0.0

    def destination_for(self, source: bytes) -> bytes:
        shape = self.shape
        if shape.append_source:
            return b"".join(
                (shape.destination_prefix, self.destination_head, source, shape.destination_tail)
            )
        return shape.destination_prefix + self.destination_head + shape.destination_tail


class LinkFactory:
    """Builds CachedLinks, sharing the shapes (domain, tail, template, card, and
    the start of the destination) that repeat across links, which is most of
    their memory at 500k links."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[object, ...], LinkShape] = {}
        # Per shape: the first destination seen, then the shape with the prefix
        # it shares with the second (links that do not start with it keep the
        # plain shape and their whole destination).
        self._first_heads: dict[tuple[object, ...], bytes] = {}
        self._prefixed: dict[tuple[object, ...], LinkShape] = {}

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
        # ASCII: the control plane percent-encodes every destination.
        head = link.destination_head.encode("latin-1")
        shape = self._shapes.get(key)
        if shape is None:
            if len(self._shapes) > 100_000:
                # Old shapes live on in the links that use them.
                self._shapes.clear()
                self._first_heads.clear()
                self._prefixed.clear()
            shape = self._shapes.setdefault(
                key,
                LinkShape(
                    share_domain=sys.intern(link.share_domain),
                    destination_prefix=b"",
                    destination_tail=link.destination_tail.encode("latin-1"),
                    append_source=link.append_source,
                    template_id=link.template_id,
                    template_version=link.template_version,
                    card=PreviewCard(link.og_title, link.og_description, link.og_image_url),
                ),
            )
        prefixed = self._prefixed.get(key)
        if prefixed is None:
            first = self._first_heads.setdefault(key, head)
            common = _common_start(first, head) if first != head else b""
            if len(common) >= MIN_PREFIX:
                prefixed = self._prefixed[key] = replace(shape, destination_prefix=common)
        if prefixed is not None and head.startswith(prefixed.destination_prefix):
            own = head[len(prefixed.destination_prefix) :]
            return CachedLink(link.smart_url_id, own, prefixed)
        return CachedLink(link.smart_url_id, head, shape)


def _common_start(a: bytes, b: bytes) -> bytes:
    end = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        end += 1
    return a[:end]
