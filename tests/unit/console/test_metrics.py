from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from console.metrics import PageTimer, page_of


@pytest.mark.parametrize(
    ("path", "page"),
    [
        ("/emails", "emails"),
        ("/sms/", "sms"),
        ("/templates/42", "templates"),
        ("/conversions", "conversions"),
        ("/signin", "signin"),
        ("/signout", "signout"),
        ("/", "other"),
        ("/static/console.css", "other"),
        ("/emailsx", "other"),
        ("/templates-old/1", "other"),
    ],
)
def test_page_of(path: str, page: str) -> None:
    assert page_of(path) == page


def _observed(page: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "smarturls_console_page_seconds_count", {"page": page, "status": status}
    )
    return value or 0.0


async def _receive() -> Message:
    return {"type": "http.disconnect"}


async def _discard(message: Message) -> None:
    pass


async def _respond(status: int, path: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    await PageTimer(app)({"type": "http", "path": path}, _receive, _discard)


async def test_a_page_is_timed_by_page_and_status() -> None:
    before = _observed("sms", "404")
    await _respond(404, "/sms")
    assert _observed("sms", "404") == before + 1


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
async def test_metrics_and_health_checks_are_not_timed(path: str) -> None:
    before = _observed("other", "200")
    await _respond(200, path)
    assert _observed("other", "200") == before


async def test_a_page_that_fails_before_responding_counts_as_500() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("control plane down")

    before = _observed("conversions", "500")
    with pytest.raises(RuntimeError):
        await PageTimer(app)({"type": "http", "path": "/conversions"}, _receive, _discard)
    assert _observed("conversions", "500") == before + 1
