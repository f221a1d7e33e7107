"""python -m edge: one uvicorn worker on uvloop, httptools parsing, the hot
route answered by the edge's own protocol (edge/protocol.py)."""

from __future__ import annotations

import gc
import logging

import uvicorn

from edge.app import create_app
from edge.protocol import EdgeProtocol
from edge.settings import EdgeSettings


def main() -> None:
    # Allocation-heavy request handling triggers gen-0 collections every 700
    # objects by default, and each full collection walks every cached link:
    # collect less often, and never the objects that exist at start-up.
    gc.set_threshold(50_000, 20, 100)
    gc.freeze()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s edge %(levelname)s %(message)s")
    settings = EdgeSettings.from_env()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=EdgeProtocol,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        # uvicorn's own SIGTERM handling stops accepting, then runs the lifespan
        # shutdown, which flushes the click buffer.
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
