"""A viral link: one link takes most of the clicks, and every click, on it and
on the other links, is still acknowledged within a second of its redirect."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from prometheus_client import REGISTRY

from bench.click_feeder import human_click
from common.control_channel import control_channel
from edge import metrics
from edge.tracking import ClickBuffer
from smarturls.v1 import common_pb2, edge_pb2_grpc, templates_pb2
from tests.support import SPOOL_ROOT, Stack

REFERRAL = templates_pb2.TemplateLink(
    name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/in"
)
CLICKS = 20_000
RATE = 8_000  # a second, fed in 5 ms ticks as an edge's redirects come in


def lag_buckets() -> tuple[float, float]:
    """(observations acknowledged within 1 s, all observations) so far."""
    name = "smarturls_edge_click_ack_lag_seconds"
    within = REGISTRY.get_sample_value(f"{name}_bucket", {"le": "1.0"}) or 0.0
    return within, REGISTRY.get_sample_value(f"{name}_count") or 0.0


async def test_a_hot_link_keeps_every_click_acknowledged_within_a_second(stack: Stack) -> None:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, [REFERRAL])
    for n in range(20):
        await stack.mint(account.account_id, template.template_id, f"m-{n}")
    ids = [r[0] for r in await stack.db.fetch("SELECT smart_url_id FROM smart_urls ORDER BY 1")]
    hot, others = ids[0], ids[1:]
    key = await stack.keys.key("edge")
    rng = random.Random(5)
    within_before, count_before = lag_buckets()
    async with control_channel(f"127.0.0.1:{stack.control.port}", key) as channel:
        buffer = ClickBuffer(
            edge_pb2_grpc.EdgeServiceStub(channel),
            Path(tempfile.mkdtemp(dir=SPOOL_ROOT)),
            flush_interval=0.05,
            max_batch=1000,
        )
        buffer.start()
        per_tick = RATE // 200
        for i in range(CLICKS // per_tick):
            for _ in range(per_tick):
                # Nine clicks in ten on the one link, as on a link shared to thousands.
                link = hot if rng.random() < 0.9 else rng.choice(others)
                buffer.record(human_click(link))
            await asyncio.sleep(0.005)
            assert buffer.spooled_bytes == 0, f"a batch was not acknowledged in time ({i})"
        deadline = time.monotonic() + 30
        while buffer.acknowledged < CLICKS:
            assert time.monotonic() < deadline, f"{buffer.acknowledged} of {CLICKS} acknowledged"
            await asyncio.sleep(0.05)
        await buffer.close(5)
    assert await stack.stored_clicks() == CLICKS
    within, count = lag_buckets()
    batches = count - count_before
    assert batches >= CLICKS / 1000, batches
    # Every batch's oldest click was acknowledged within a second of its redirect.
    assert within - within_before == batches, metrics.ACK_LAG_SECONDS.collect()
