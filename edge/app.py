"""The edge application: routes, lifespan (control-plane channel, click flusher)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from smarturls.v1 import edge_pb2_grpc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from edge.redirect import redirect
from edge.resolver import Resolver
from edge.settings import EdgeSettings
from edge.tracking import ClickBuffer


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def prometheus_metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: EdgeSettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with grpc.aio.insecure_channel(settings.control_address) as channel:
            stub = edge_pb2_grpc.EdgeServiceStub(channel)
            app.state.keys = settings.signing_keys
            app.state.resolver = Resolver(
                stub,
                settings.signing_keys,
                ttl=settings.cache_ttl,
                negative_ttl=settings.negative_ttl,
                timeout=settings.resolve_timeout,
            )
            app.state.clicks = ClickBuffer(
                stub, flush_interval=settings.flush_interval, max_batch=settings.max_batch
            )
            app.state.clicks.start()
            try:
                yield
            finally:
                await app.state.clicks.close(settings.drain_timeout)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", prometheus_metrics),
            Route("/{token}", redirect, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )
