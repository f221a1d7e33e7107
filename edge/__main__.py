"""python -m edge: one uvicorn worker on uvloop + httptools."""

from __future__ import annotations

import logging

import uvicorn

from edge.app import create_app
from edge.settings import EdgeSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s edge %(levelname)s %(message)s")
    settings = EdgeSettings.from_env()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        # uvicorn's own SIGTERM handling stops accepting, then runs the lifespan
        # shutdown, which flushes the click buffer.
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
