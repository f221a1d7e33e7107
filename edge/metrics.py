"""What an SRE alerts on at the edge."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "smarturls_edge_requests_total",
    "Token requests by outcome (redirect, preview, not_found, wrong_domain, unavailable)"
    " and hit class (human, scanner, preview, bot; '' when no link was found)",
    ["outcome", "hit_class"],
)
LATENCY = Histogram(
    "smarturls_edge_request_seconds",
    "Time to answer a token request",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5),
)
CACHE = Counter(
    "smarturls_edge_cache_total", "Link cache lookups by tier and result", ["tier", "result"]
)
CACHE_EVICTIONS = Counter(
    "smarturls_edge_cache_evictions_total", "Links evicted from the in-process cache when full"
)
CACHED_LINKS = Gauge("smarturls_edge_cached_links", "Entries in the in-process link cache")
BUFFERED = Gauge("smarturls_edge_clicks_buffered", "Clicks held in memory, not yet acknowledged")
SPOOL_BYTES = Gauge(
    "smarturls_edge_spool_bytes", "Bytes of clicks in the local spool waiting for replay"
)
ACKED = Counter("smarturls_edge_clicks_acked_total", "Clicks acknowledged by the control plane")
FLUSH_SECONDS = Histogram(
    "smarturls_edge_flush_seconds",
    "Send-to-acknowledgement time of one click batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
OLDEST_UNACKED = Gauge(
    "smarturls_edge_oldest_unacked_click_seconds",
    "Age of the oldest click held in memory and not yet acknowledged (0 when none)",
)
FLUSH_ERRORS = Counter("smarturls_edge_flush_errors_total", "Failed click-batch sends")
INVALIDATIONS = Counter(
    "smarturls_edge_invalidations_total", "Invalidations received from the control plane"
)

# Bound once: label lookups cost more than the increments on the hot path.
MEMORY_HIT = CACHE.labels("memory", "hit")
MEMORY_MISS = CACHE.labels("memory", "miss")
