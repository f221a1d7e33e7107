"""RSS of the edge's in-process cache holding N links, measured in a fresh process.

Filling a real edge with 500k links through the control plane takes minutes
(each is a cache miss resolved over gRPC); the objects are the same ones the
edge builds, so this measures them directly: python -m bench.cache_memory 500000
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from edge.cache import LinkCache
from edge.links import LinkFactory
from signing.keys import SigningKeys, generate_key_spec
from signing.tokens import mint_token
from smarturls.v1 import edge_pb2


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(count: int) -> None:
    keys = SigningKeys.parse(generate_key_spec("A"))
    factory = LinkFactory()
    cache = LinkCache(count, 3600, 60)
    gc.collect()
    before = rss_mb()
    for i in range(count):
        # A referral link: the per-advocate destination is the part that cannot be shared.
        resolved = edge_pb2.ResolvedLink(
            smart_url_id=1000 + i,
            account_id=7,
            share_domain="share.acme.example",
            destination_head=f"https://shop.acme.example/welcome?campaignid=7&mbsy=ADV{i}"
            "&mbsy_source=",
            append_source=True,
            template_id=42,
            template_version=1,
            og_title="20% off at Acme",
            og_description="Your friend sent you a gift",
        )
        cache.put(mint_token(keys, 1000 + i), factory.from_proto(resolved))
    gc.collect()
    after = rss_mb()
    print(
        f"{count} cached links: {after - before:.0f} MB ({(after - before) * 2**20 / count:.0f}"
        f" bytes a link) on top of {before:.0f} MB"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500_000)
