"""GET/HEAD /{token}: verify, resolve, record the click, 302."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from edge import metrics, pages
from edge.resolver import ControlUnavailable, Resolver
from edge.tracking import ClickBuffer, make_click, new_click_id
from signing.keys import SigningKeys
from signing.sources import mint_source

SOURCE_COOKIE = "mbsy_source"
SOURCE_COOKIE_AGE = 30 * 24 * 3600


def request_host(request: Request) -> str:
    """The Host header without port or trailing dot, lower-cased."""
    host = request.headers.get("host", "").lower()
    if not host.endswith("]"):
        host = host.rsplit(":", 1)[0]
    return host.rstrip(".")


async def redirect(request: Request) -> Response:
    started = time.perf_counter()
    resolver: Resolver = request.app.state.resolver
    buffer: ClickBuffer = request.app.state.clicks
    keys: SigningKeys = request.app.state.keys
    try:
        link = await resolver.resolve(request.path_params["token"])
    except ControlUnavailable:
        metrics.REDIRECTS.labels("unavailable").inc()
        return pages.unavailable()
    if link is None or link.share_domain != request_host(request):
        metrics.REDIRECTS.labels("not_found" if link is None else "wrong_domain").inc()
        return pages.not_found()

    click_id = new_click_id()
    source = mint_source(keys, link.smart_url_id, click_id.int)
    buffer.record(
        make_click(
            click_id,
            link.smart_url_id,
            request.method,
            request.headers.get("user-agent", ""),
            request.client.host if request.client else None,
            request.headers.get("referer", ""),
        )
    )
    # 302 + no-store: a cached redirect would be a click nobody sees.
    response = RedirectResponse(
        link.destination_for(source), status_code=302, headers={"Cache-Control": "no-store"}
    )
    if link.append_source:
        response.set_cookie(
            SOURCE_COOKIE, source, max_age=SOURCE_COOKIE_AGE, secure=True, samesite="lax"
        )
    metrics.REDIRECTS.labels("redirect").inc()
    metrics.LATENCY.observe(time.perf_counter() - started)
    return response
