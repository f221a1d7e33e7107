"""The console's Prometheus figures: how long each page takes, by page and status."""

from __future__ import annotations

import time

from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_SECONDS = Histogram(
    "smarturls_console_page_seconds",
    "Server time of a console page, from request to the response's last byte.",
    ["page", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PAGES = {"emails", "sms", "templates", "conversions", "signin", "signout"}


def page_of(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    return first if first in PAGES else "other"


class PageTimer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in ("/metrics", "/healthz"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            PAGE_SECONDS.labels(page_of(scope["path"]), str(status)).observe(
                time.perf_counter() - started
            )
