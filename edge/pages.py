"""The short pages a person may see instead of a redirect."""

from __future__ import annotations

from starlette.responses import HTMLResponse

_PAGE = (
    "<!doctype html><html><head><meta charset=utf-8><title>{title}</title>"
    '<meta name="robots" content="noindex"></head>'
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


def not_found() -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(
            title="Link not found", text="This link is not valid. Check it was copied whole."
        ),
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )


def unavailable() -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title="Try again in a moment", text="This link cannot be opened right now."),
        status_code=503,
        headers={"Cache-Control": "no-store", "Retry-After": "5"},
    )
