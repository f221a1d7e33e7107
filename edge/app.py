"""The edge application: routes, lifespan (control-plane channel, click flusher)."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import AsyncIterator

import grpc
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from edge import pages
from edge.redirect import redirect, request_host
from edge.resolver import Resolver
from edge.settings import EdgeSettings
from edge.tracking import ClickBuffer
from smarturls.v1 import edge_pb2_grpc

# Keepalive pings find a half-open connection to the control plane in seconds.
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


def is_internal_host(host: str) -> bool:
    """Probes and Prometheus address the pod (an IP) or a one-label service name;
    share domains always have a dot. Public hosts never see /metrics."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return "." not in host


async def healthz(request: Request) -> Response:
    if not is_internal_host(request_host(request)):
        return pages.not_found()
    return PlainTextResponse("ok")


async def prometheus_metrics(request: Request) -> Response:
    if not is_internal_host(request_host(request)):
        return pages.not_found()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: EdgeSettings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with grpc.aio.insecure_channel(
            settings.control_address, options=CHANNEL_OPTIONS
        ) as channel:
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
