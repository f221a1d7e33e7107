"""python -m console: the Performance Center on uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from console.app import create_app
from console.settings import ConsoleSettings


def main() -> None:
    settings = ConsoleSettings.from_env()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
