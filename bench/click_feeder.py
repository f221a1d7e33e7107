"""Clicks at a steady rate into the control plane, as an edge under load sends them.

`python -m bench.click_feeder IDS_FILE RATE SECONDS` (control plane address and
key from SMARTURLS_CONTROL_ADDRESS / SMARTURLS_CONTROL_API_KEY). The edge
benchmark runs it beside the floor, so the floor is also measured with the
edge's clicks being stored on the machine, as they are during the edge's run.
Prints how many clicks it fed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import uuid_utils

from common.control_channel import control_channel
from edge.clicks import EdgeClick
from edge.tracking import ClickBuffer
from smarturls.v1 import edge_pb2_grpc

TICK = 0.005


def human_click(link_id: int) -> EdgeClick:
    """A human's GET of `link_id`, now: the click the benchmarks feed."""
    return EdgeClick(
        uuid_utils.uuid7().bytes,
        link_id,
        time.time_ns() // 1000,
        "GET",
        "Mozilla/5.0",
        "203.0.113.0/24",
        "",
        "human",
        (),
    )


async def feed(ids: list[int], rate: float, seconds: float) -> int:
    order = random.Random(11)
    address = os.environ["SMARTURLS_CONTROL_ADDRESS"]
    async with control_channel(address, os.environ["SMARTURLS_CONTROL_API_KEY"]) as channel:
        with tempfile.TemporaryDirectory() as spool:
            # The edge's own buffer and batch size, so the control plane gets
            # the batches it gets from the edge.
            buffer = ClickBuffer(
                edge_pb2_grpc.EdgeServiceStub(channel),
                Path(spool),
                flush_interval=0.05,
                max_batch=1000,
            )
            buffer.start()
            started, fed = time.perf_counter(), 0
            while (elapsed := time.perf_counter() - started) < seconds:
                for _ in range(int(elapsed * rate) - fed):
                    buffer.record(human_click(order.choice(ids)))
                    fed += 1
                await asyncio.sleep(TICK)
            await buffer.close(60)
    return fed


def main() -> None:
    ids_file, rate, seconds = sys.argv[1:4]
    ids = json.loads(Path(ids_file).read_text())
    print(asyncio.run(feed(ids, float(rate), float(seconds))))


if __name__ == "__main__":
    main()
