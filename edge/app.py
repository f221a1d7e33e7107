"""The edge application: the lean redirect path, Starlette for the rest, and the
lifespan that owns the control-plane channel, caches, click buffer and watchers."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from common.control_channel import KeyedStub, channel_to
from edge import pages
from edge.cache import LinkCache, RedisTier
from edge.hot_path import normalize_host
from edge.invalidation import follow_invalidations
from edge.redirect import RedirectApp
from edge.resolver import Resolver
from edge.runtime import EdgeRuntime
from edge.settings import EdgeSettings
from edge.tracking import ClickBuffer
from signing.sources import SourceMinter
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


def _internal(request: Request) -> bool:
    return is_internal_host(normalize_host(request.headers.get("host", "").encode("latin-1")))


async def healthz(request: Request) -> Response:
    if not _internal(request):
        return HTMLResponse(pages.NOT_FOUND, status_code=404)
    return PlainTextResponse("ok")


async def prometheus_metrics(request: Request) -> Response:
    if not _internal(request):
        return HTMLResponse(pages.NOT_FOUND, status_code=404)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def not_found(request: Request) -> Response:
    return HTMLResponse(pages.NOT_FOUND, status_code=404, headers={"Cache-Control": "no-store"})


def create_app(settings: EdgeSettings) -> RedirectApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with channel_to(
            settings.control_address, settings.control_tls_ca, CHANNEL_OPTIONS
        ) as channel:
            stub = KeyedStub(edge_pb2_grpc.EdgeServiceStub(channel), settings.control_api_key)
            cache = LinkCache(settings.cache_max_entries, settings.cache_ttl, settings.negative_ttl)
            redis = (
                RedisTier(settings.redis_url, settings.cache_ttl, settings.negative_ttl)
                if settings.redis_url
                else None
            )
            resolver = Resolver(
                stub, settings.signing_keys, cache, redis, timeout=settings.resolve_timeout
            )
            clicks = ClickBuffer(
                stub,
                settings.spool_dir,
                flush_interval=settings.flush_interval,
                max_batch=settings.max_batch,
                durable=settings.durable_clicks,
            )
            runtime = EdgeRuntime(cache, resolver, clicks, SourceMinter(settings.signing_keys))
            clicks.start()
            # Everything cached may be up to cache_ttl old: catch up on that much.
            lookback = int(settings.cache_ttl) + 60
            watcher = asyncio.create_task(follow_invalidations(stub, cache, lookback))
            redirect_app.runtime = runtime
            try:
                yield
            finally:
                redirect_app.runtime = None
                watcher.cancel()
                await asyncio.gather(watcher, return_exceptions=True)
                await clicks.close(settings.drain_timeout)
                if redis is not None:
                    await redis.close()

    starlette = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", prometheus_metrics),
            Route("/{path:path}", not_found, methods=["GET", "HEAD"]),
        ],
        lifespan=lifespan,
    )
    redirect_app = RedirectApp(starlette)
    return redirect_app
