"""What an SRE alerts on at the edge."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REDIRECTS = Counter(
    "smarturls_edge_requests_total",
    "Token requests by outcome: redirect, not_found, wrong_domain, unavailable",
    ["outcome"],
)
LATENCY = Histogram(
    "smarturls_edge_request_seconds",
    "Time to answer a token request",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5),
)
CACHE = Counter("smarturls_edge_cache_total", "Link cache lookups", ["result"])
BUFFERED = Gauge("smarturls_edge_clicks_buffered", "Clicks held in memory, not yet acknowledged")
ACKED = Counter("smarturls_edge_clicks_acked_total", "Clicks acknowledged by the control plane")
FLUSH_SECONDS = Histogram(
    "smarturls_edge_flush_seconds",
    "Send-to-acknowledgement time of one click batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
OLDEST_UNACKED = Gauge(
    "smarturls_edge_oldest_unacked_click_seconds",
    "Age of the oldest click not yet acknowledged (0 when none)",
)
FLUSH_ERRORS = Counter("smarturls_edge_flush_errors_total", "Failed click-batch sends")
