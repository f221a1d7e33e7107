"""A resolved link as the edge caches it."""

from __future__ import annotations

from dataclasses import dataclass

from smarturls.v1 import edge_pb2


@dataclass(frozen=True, slots=True)
class CachedLink:
    smart_url_id: int
    share_domain: str
    destination_head: str
    destination_tail: str
    append_source: bool

    @classmethod
    def from_proto(cls, link: edge_pb2.ResolvedLink) -> CachedLink:
        return cls(
            smart_url_id=link.smart_url_id,
            share_domain=link.share_domain,
            destination_head=link.destination_head,
            destination_tail=link.destination_tail,
            append_source=link.append_source,
        )

    def destination_for(self, source: str) -> str:
        if self.append_source:
            return self.destination_head + source + self.destination_tail
        return self.destination_head + self.destination_tail
