"""The control plane's process: database, gRPC server, health, metrics, graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import disable_created_metrics, start_http_server

from control.api.accounts import AccountServicer
from control.api.auth import ApiKeyAuth
from control.api.conversions import ConversionServicer
from control.api.dashboard import DashboardServicer
from control.api.deps import Deps
from control.api.edge import EdgeServicer
from control.api.errors import ErrorFunnel
from control.api.minting import MintingServicer
from control.api.templates import TemplateServicer
from control.db.embedded import EmbeddedPostgres
from control.db.listener import InvalidationHub
from control.db.migrate import apply_migrations
from control.db.pool import create_pool
from control.domain.partitions import ClickPartitions
from control.domain.rollup_repair import rebuild_pending
from control.local_admin import ensure_local_admin_key
from control.settings import ControlSettings
from smarturls.v1 import (
    accounts_pb2_grpc,
    conversions_pb2_grpc,
    dashboard_pb2_grpc,
    edge_pb2_grpc,
    minting_pb2_grpc,
    templates_pb2_grpc,
)

log = logging.getLogger(__name__)

# No `<name>_created` series beside every counter and histogram: it doubles the
# series for a timestamp nothing reads (prometheus_client reads this at scrape time).
disable_created_metrics()  # type: ignore[no-untyped-call]

SERVICES = (
    "smarturls.v1.AccountService",
    "smarturls.v1.TemplateService",
    "smarturls.v1.MintingService",
    "smarturls.v1.EdgeService",
    "smarturls.v1.ConversionService",
    "smarturls.v1.DashboardService",
)


@dataclass
class RunningControl:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer


def server_credentials(cert: Path, key: Path) -> grpc.ServerCredentials:
    """TLS for the gRPC port from PEM files (the certificate may carry its chain)."""
    try:
        return grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    except OSError as error:
        raise SystemExit(f"cannot read the TLS certificate or key: {error}") from None


async def start_grpc(
    deps: Deps, listen: str, credentials: grpc.ServerCredentials | None = None
) -> RunningControl:
    """Starts the gRPC server on `listen` (port 0 picks a free one), with TLS
    when `credentials` are given."""
    server = grpc.aio.server(
        # The funnel first: it maps and counts what the key check refuses too.
        interceptors=[ErrorFunnel(), ApiKeyAuth(deps.db)],
        # Accept the edges' keepalive pings (the default would answer them with GOAWAY).
        options=[
            # A port already taken fails here instead of being shared with the
            # other process (grpc's default), which would answer half the calls.
            ("grpc.so_reuseport", 0),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
            ("grpc.http2.max_ping_strikes", 0),
        ],
    )
    accounts_pb2_grpc.add_AccountServiceServicer_to_server(AccountServicer(deps), server)
    templates_pb2_grpc.add_TemplateServiceServicer_to_server(TemplateServicer(deps), server)
    minting_pb2_grpc.add_MintingServiceServicer_to_server(MintingServicer(deps), server)
    edge_pb2_grpc.add_EdgeServiceServicer_to_server(EdgeServicer(deps), server)
    conversions_pb2_grpc.add_ConversionServiceServicer_to_server(ConversionServicer(deps), server)
    dashboard_pb2_grpc.add_DashboardServiceServicer_to_server(DashboardServicer(deps), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    # grpcurl, Postman and the like discover the API from the server itself.
    reflection.enable_server_reflection(
        (
            *SERVICES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    try:
        if credentials is None:
            port = server.add_insecure_port(listen)
        else:
            port = server.add_secure_port(listen, credentials)
    except RuntimeError as error:  # grpc raises it for an address it cannot bind
        raise SystemExit(
            f"cannot listen on {listen} (in use by another process?): {error}"
        ) from None
    if port == 0:
        raise SystemExit(f"cannot listen on {listen} (in use by another process?)")
    await server.start()
    for name in ("", *SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningControl(server=server, port=port, health=health_servicer)


async def stop_grpc(running: RunningControl, grace: float) -> None:
    # Report NOT_SERVING first so load balancers stop sending new calls.
    await running.health.enter_graceful_shutdown()
    await running.server.stop(grace)


@contextlib.asynccontextmanager
async def database(
    database_url: str | None, data_dir: Path
) -> AsyncIterator[tuple[asyncpg.Pool, str]]:
    """(pool, DSN) on `database_url`, or on the embedded PostgreSQL in `data_dir`
    (started here unless another process runs it; the last process using it stops it)."""
    embedded = None
    dsn = database_url
    if dsn is None:
        embedded = await asyncio.to_thread(EmbeddedPostgres, data_dir / "pgdata")
        dsn = embedded.uri
        log.info("embedded PostgreSQL running in %s", embedded.data_dir)
    try:
        pool = await create_pool(dsn)
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn)
            yield pool, dsn
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def maintain_partitions(pool: asyncpg.Pool, partitions: ClickPartitions) -> None:
    """Keeps click partitions a few weeks ahead and drops those past retention,
    once any rollups still to build from old clicks are built."""
    while True:
        try:
            async with pool.acquire() as conn:
                if rebuilt := await rebuild_pending(conn):
                    log.info("built the rollups of %d account(s) from raw facts", len(rebuilt))
                await partitions.maintain(conn)
        except (OSError, asyncpg.PostgresError):
            log.exception("click partition maintenance failed; retrying in a minute")
            await asyncio.sleep(60)
            continue
        await asyncio.sleep(3600)


async def serve(settings: ControlSettings) -> None:
    async with database(settings.database_url, settings.data_dir) as (pool, dsn):
        if settings.database_url is None:
            # The embedded default is for trying it out: it needs a key to call anything.
            await ensure_local_admin_key(pool, settings.data_dir / "admin.key")
        if settings.metrics_port:
            start_http_server(settings.metrics_port, addr=settings.metrics_addr)
        hub = InvalidationHub(dsn)
        await hub.start()
        partitions = ClickPartitions(settings.click_retention_days)
        deps = Deps(db=pool, keys=settings.signing_keys, hub=hub, partitions=partitions)
        maintenance = asyncio.create_task(maintain_partitions(pool, partitions))
        credentials = None
        if settings.tls_cert is not None and settings.tls_key is not None:
            credentials = server_credentials(settings.tls_cert, settings.tls_key)
        running = await start_grpc(deps, settings.grpc_listen, credentials)
        log.info(
            "control plane serving gRPC on port %d (%s)",
            running.port,
            "TLS" if credentials else "plaintext",
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping: %.1fs grace for calls in flight", settings.shutdown_grace)
        maintenance.cancel()
        await hub.stop()
        await stop_grpc(running, settings.shutdown_grace)
