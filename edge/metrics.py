"""What an SRE alerts on at the edge.

The per-request figures (outcomes, cache lookups, latency) are plain Python
counters turned into Prometheus metrics only when scraped: prometheus_client's
own metrics take a lock per update, which on the redirect path cost more than
the rest of the redirect. Everything off the hot path uses prometheus_client.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

# No `<name>_created` series beside every counter and histogram: a timestamp
# per series that no rule or dashboard reads, doubling what Prometheus stores
# for them. Read at scrape time, so it holds for every metric of the process.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5)


class HotPath(Collector):
    """Counters updated by the redirect path without locks (one event loop thread)."""

    def __init__(self) -> None:
        self.requests: Tally[tuple[str, str]] = Tally()
        self.cache: Tally[tuple[str, str]] = Tally()
        # Observed by edge.hot_path.counted: bucket i counts latencies up to
        # LATENCY_BUCKETS[i] (bisect_left), the last one those above them all.
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily(
            "smarturls_edge_requests",
            "Token requests by outcome (redirect, preview, not_found, wrong_domain,"
            " unavailable) and hit class (human, scanner, preview, bot; '' without a link)",
            labels=["outcome", "hit_class"],
        )
        for (outcome, hit_class), count in sorted(self.requests.items()):
            requests.add_metric([outcome, hit_class], count)
        yield requests
        cache = CounterMetricFamily(
            "smarturls_edge_cache",
            "Link cache lookups by tier and result",
            labels=["tier", "result"],
        )
        for (tier, result), count in sorted(self.cache.items()):
            cache.add_metric([tier, result], count)
        yield cache
        cumulative, buckets = 0, []
        for bound, count in zip(
            (*LATENCY_BUCKETS, float("inf")), self.latency_buckets, strict=True
        ):
            cumulative += count
            buckets.append((str(bound) if bound != float("inf") else "+Inf", cumulative))
        yield HistogramMetricFamily(
            "smarturls_edge_request_seconds",
            "Time to answer a token request",
            buckets=buckets,
            sum_value=self.latency_sum,
        )


HOT = HotPath()
REGISTRY.register(HOT)

CACHE_EVICTIONS = Counter(
    "smarturls_edge_cache_evictions_total", "Links evicted from the in-process cache when full"
)
CACHED_LINKS = Gauge("smarturls_edge_cached_links", "Entries in the in-process link cache")
BUFFERED = Gauge(
    "smarturls_edge_clicks_buffered",
    "Clicks held in memory, not yet acknowledged or spooled (the spool has its own gauge)",
)
SPOOL_BYTES = Gauge(
    "smarturls_edge_spool_bytes", "Bytes of clicks in the local spool waiting for replay"
)
ACKED = Counter("smarturls_edge_clicks_acked_total", "Clicks acknowledged by the control plane")
FLUSH_SECONDS = Histogram(
    "smarturls_edge_flush_seconds",
    "Send-to-acknowledgement time of one click batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
ACK_LAG_SECONDS = Histogram(
    "smarturls_edge_click_ack_lag_seconds",
    "Time from a redirect to the control plane's acknowledgement of its click, for the"
    " oldest click of each batch acknowledged on the live stream (its batch's worst)",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OLDEST_UNACKED = Gauge(
    "smarturls_edge_oldest_unacked_click_seconds",
    "Age of the oldest click not yet acknowledged, held in memory or spooled (0 when none)",
)
FLUSH_ERRORS = Counter("smarturls_edge_flush_errors_total", "Failed click-batch sends")
SPOOL_ERRORS = Counter(
    "smarturls_edge_spool_errors_total",
    "Failed spool writes and corrupt spool records (disk full, unwritable volume, torn writes)",
)
INVALIDATIONS = Counter(
    "smarturls_edge_invalidations_total", "Invalidations received from the control plane"
)
