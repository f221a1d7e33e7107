"""A stand-in for the merchant's shop: the true outside of the system.

Its landing page does what the integration guide asks of a merchant: store
mbsy and mbsy_source server-side (here, in a dict per visitor) so the order
can be reported with both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


@dataclass
class FakeShop:
    landings: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def welcome(request: Request) -> PlainTextResponse:
            self.landings.append(dict(request.query_params))
            return PlainTextResponse("Welcome to Acme")

        return Starlette(routes=[Route("/welcome", welcome)])
