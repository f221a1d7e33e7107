"""The console's Starlette app: create_app() and its lifespan (one gRPC
channel to the control plane, shared by every signed-in person)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from common.control_channel import channel_to
from console import pages
from console.control_client import ControlReader
from console.formatting import FILTERS
from console.metrics import PageTimer
from console.security import SecurityHeaders
from console.sessions import SessionStore
from console.settings import ConsoleSettings

STATIC = Path(__file__).parent / "static"


def templates() -> Jinja2Templates:
    env = Environment(loader=PackageLoader("console"), autoescape=select_autoescape())
    env.filters.update(FILTERS)
    env.globals["with_query"] = pages.with_query
    return Jinja2Templates(env=env)


def create_app(settings: ConsoleSettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with channel_to(settings.control_address, settings.control_tls_ca) as channel:
            app.state.reader = ControlReader(channel, settings.control_timeout)
            yield

    app = Starlette(
        routes=[
            Route("/", pages.home),
            Route("/signin", pages.sign_in_form, methods=["GET"]),
            Route("/signin", pages.sign_in, methods=["POST"]),
            Route("/signout", pages.sign_out, methods=["POST"]),
            Route("/emails", pages.dashboard, name="emails"),
            Route("/sms", pages.dashboard, name="sms"),
            Route("/templates/{template_id:int}", pages.template_page, name="template"),
            Route("/conversions", pages.conversion_lookup, name="conversions"),
            Route("/healthz", pages.healthz),
            Route("/metrics", pages.metrics),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(PageTimer), Middleware(SecurityHeaders)],
        exception_handlers=pages.EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessions = SessionStore(settings.session_idle)
    app.state.templates = templates()
    return app
