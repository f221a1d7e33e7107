"""Test helpers: a real PostgreSQL, a real control plane and a real edge on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import grpc
import httpx
import uvicorn
from google.protobuf.timestamp_pb2 import Timestamp

from console.app import create_app as create_console
from console.settings import ConsoleSettings
from control.api import permissions
from control.api.deps import Deps
from control.db.listener import InvalidationHub
from control.db.pool import create_pool
from control.domain.api_keys import GLOBAL_ROLES, Role, create_api_key
from control.server import RunningControl, start_grpc, stop_grpc
from edge.app import create_app
from edge.protocol import EdgeProtocol
from edge.settings import EdgeSettings
from signing.keys import SigningKeys, generate_key_spec
from smarturls.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    common_pb2,
    conversions_pb2_grpc,
    dashboard_pb2,
    dashboard_pb2_grpc,
    minting_pb2,
    minting_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
)

TEMPLATE_DB = "smarturls_test_template"
KEY_SPEC = generate_key_spec("B") + "," + generate_key_spec("A")
KEYS = SigningKeys.parse(KEY_SPEC)


def dsn_with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


@contextlib.asynccontextmanager
async def fresh_database(admin_dsn: str) -> AsyncIterator[str]:
    """A new database cloned from the migrated template; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:16]
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        yield dsn_with_database(admin_dsn, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Keyring:
    """Real API keys for the tests, made through the domain module in the test's
    database, one per (role, account)."""

    def __init__(self, db: asyncpg.Pool) -> None:
        self.db = db
        self._made: dict[tuple[Role, int | None], str] = {}

    async def key(self, role: Role, account_id: int | None = None) -> str:
        if role in GLOBAL_ROLES:
            account_id = None
        if (role, account_id) not in self._made:
            key, _ = await create_api_key(self.db, role, account_id, f"test {role}")
            self._made[role, account_id] = key
        return self._made[role, account_id]


def role_for(method: str) -> Role:
    """The role a test call to `method` uses: admin (support) where it may, else
    the one role the method is for (its key bound to the request's account)."""
    roles = permissions.RULES[method].roles
    return next(r for r in ("admin", "edge", "sender", "dashboard", "merchant") if r in roles)


async def _one_then_rest(first: Any, rest: Any) -> AsyncIterator[Any]:
    yield first
    async for request in rest:
        yield request


class _KeyPerCall:
    """Gives each call on the test channel a key of the role its method needs, for
    the account in its request, unless the call brings its own `authorization`.
    A client stream for an account-bound role must come as an async iterator: its
    first request names the account (the write() style would deadlock here)."""

    def __init__(self, keys: Keyring) -> None:
        self.keys = keys

    async def _with_key(self, details: Any, request: Any) -> Any:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if "authorization" in metadata:
            return details
        role = role_for(details.method.decode())
        account_id = None if role in GLOBAL_ROLES else int(request.account_id)
        metadata.add("authorization", f"Bearer {await self.keys.key(role, account_id)}")
        return details._replace(metadata=metadata)

    async def _streamed(self, continuation: Any, details: Any, requests: Any) -> Any:
        if role_for(details.method.decode()) in GLOBAL_ROLES:
            return await continuation(await self._with_key(details, None), requests)
        requests = aiter(requests)
        first = await anext(requests)
        details = await self._with_key(details, first)
        return await continuation(details, _one_then_rest(first, requests))


class _UnaryUnaryKeys(_KeyPerCall, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(await self._with_key(details, request), request)


class _UnaryStreamKeys(_KeyPerCall, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(await self._with_key(details, request), request)


class _StreamUnaryKeys(_KeyPerCall, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self._streamed(continuation, details, requests)


class _StreamStreamKeys(_KeyPerCall, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await self._streamed(continuation, details, requests)


def key_per_call(keys: Keyring) -> list[Any]:
    # One object per call shape: grpc.aio files each under the first shape it implements.
    return [
        shape(keys)
        for shape in (_UnaryUnaryKeys, _UnaryStreamKeys, _StreamUnaryKeys, _StreamStreamKeys)
    ]


# Every test edge's spool, under one directory the session removes at its end
# (conftest): a spool per edge, never shared unless a test passes its own.
SPOOL_ROOT = Path(tempfile.mkdtemp(prefix="smarturls-test-spools-"))


def edge_settings(control_address: str, **overrides: object) -> EdgeSettings:
    values: dict[str, object] = dict(
        control_address=control_address,
        # Overridden with a real edge key by Stack.start_edge.
        control_api_key="",
        control_tls_ca=None,
        signing_keys=KEYS,
        host="127.0.0.1",
        port=0,
        cache_ttl=3600.0,
        cache_max_entries=100_000,
        negative_ttl=60.0,
        redis_url=None,
        flush_interval=0.02,
        max_batch=1000,
        resolve_timeout=2.0,
        drain_timeout=5.0,
        spool_dir=Path(tempfile.mkdtemp(prefix="edge-spool-", dir=SPOOL_ROOT)),
        durable_clicks=False,
        trusted_proxies="127.0.0.1",
    )
    values.update(overrides)
    return EdgeSettings(**values)  # type: ignore[arg-type]


class LoopbackServer:
    """An ASGI app on uvicorn on a loopback port, in this event loop."""

    def __init__(self, app: Any, http: Any = "httptools", **config: Any) -> None:
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=0,
                lifespan="on",
                log_level="warning",
                http=http,
                **config,
            )
        )
        self.task: asyncio.Task[None] | None = None
        self.url = ""

    async def start(self) -> str:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


class RunningEdge(LoopbackServer):
    """The edge as `python -m edge` serves it: its own protocol for the hot route."""

    def __init__(self, settings: EdgeSettings) -> None:
        # As edge/__main__.py configures uvicorn.
        super().__init__(
            create_app(settings),
            http=EdgeProtocol,
            proxy_headers=True,
            forwarded_allow_ips=settings.trusted_proxies,
        )


def console_settings(**overrides: object) -> ConsoleSettings:
    values: dict[str, object] = dict(
        control_tls_ca=None,
        host="127.0.0.1",
        port=0,
        control_timeout=5.0,
        session_idle=3600.0,
        secure_cookies=False,
        trusted_proxies="127.0.0.1",
    )
    values.update(overrides)
    return ConsoleSettings(**values)  # type: ignore[arg-type]


class RunningConsole(LoopbackServer):
    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(create_console(settings))


@dataclass
class Stack:
    db: asyncpg.Pool
    channel: grpc.aio.Channel
    edge_url: str
    http: httpx.AsyncClient
    control: RunningControl
    deps: Deps
    keys: Keyring
    edges: list[RunningEdge] = field(default_factory=list)
    consoles: list[RunningConsole] = field(default_factory=list)

    @property
    def accounts(self) -> accounts_pb2_grpc.AccountServiceStub:
        return accounts_pb2_grpc.AccountServiceStub(self.channel)

    @property
    def templates(self) -> templates_pb2_grpc.TemplateServiceStub:
        return templates_pb2_grpc.TemplateServiceStub(self.channel)

    @property
    def minting(self) -> minting_pb2_grpc.MintingServiceStub:
        return minting_pb2_grpc.MintingServiceStub(self.channel)

    @property
    def conversions(self) -> conversions_pb2_grpc.ConversionServiceStub:
        return conversions_pb2_grpc.ConversionServiceStub(self.channel)

    @property
    def dashboard(self) -> dashboard_pb2_grpc.DashboardServiceStub:
        return dashboard_pb2_grpc.DashboardServiceStub(self.channel)

    async def account(
        self, *, enabled: bool = True, domain: str | None = "share.acme.example"
    ) -> accounts_pb2.Account:
        account = await self.accounts.CreateAccount(accounts_pb2.CreateAccountRequest(name="Acme"))
        if enabled:
            account = await self.accounts.SetSmartUrlsEnabled(
                accounts_pb2.SetSmartUrlsEnabledRequest(account_id=account.account_id, enabled=True)
            )
        if domain:
            account = await self.accounts.SetShareDomain(
                accounts_pb2.SetShareDomainRequest(
                    account_id=account.account_id, share_domain=domain
                )
            )
        return account

    async def template(
        self,
        account_id: int,
        goal: int,
        links: list[templates_pb2.TemplateLink],
        channel: int = common_pb2.CHANNEL_EMAIL,
        name: str = "t",
    ) -> templates_pb2.Template:
        return await self.templates.CreateTemplate(
            templates_pb2.CreateTemplateRequest(
                account_id=account_id, name=name, channel=channel, goal=goal, links=links
            )
        )

    async def mint(
        self,
        account_id: int,
        template_id: int,
        message_id: str,
        shortcode: str = "JANE42",
        sent_ago: timedelta = timedelta(hours=1),
    ) -> dict[str, str]:
        """Mints as if sent `sent_ago` (clicks seconds after sending are a scanner's)."""
        sent_at = Timestamp()
        sent_at.FromDatetime(datetime.now(UTC) - sent_ago)
        reply = await self.minting.MintSmartUrls(
            minting_pb2.MintSmartUrlsRequest(
                account_id=account_id,
                template_id=template_id,
                message_id=message_id,
                advocate_shortcode=shortcode,
                sent_at=sent_at,
            )
        )
        return {link.name: link.url for link in reply.links}

    async def click(
        self,
        smart_url: str,
        *,
        method: str = "GET",
        host: str | None = None,
        edge_url: str | None = None,
        user_agent: str = "Mozilla/5.0 (iPhone) Safari/604.1",
        forwarded_for: str | None = None,
    ) -> httpx.Response:
        """Requests a Smart URL from the edge as a browser would, Host header and all;
        `forwarded_for` as a load balancer in front of the edge would pass the client."""
        parts = urlsplit(smart_url)
        headers = {"Host": host or parts.netloc, "User-Agent": user_agent}
        if forwarded_for is not None:
            headers["X-Forwarded-For"] = forwarded_for
        return await self.http.request(
            method, f"{edge_url or self.edge_url}{parts.path}", headers=headers
        )

    async def performance(
        self, account_id: int, template_id: int
    ) -> dashboard_pb2.TemplatePerformance:
        return await self.dashboard.GetTemplatePerformance(
            dashboard_pb2.GetTemplatePerformanceRequest(
                account_id=account_id, template_id=template_id
            )
        )

    async def stored_clicks(self) -> int:
        return int(await self.db.fetchval("SELECT count(*) FROM clicks"))

    async def wait_for_clicks(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while (stored := await self.stored_clicks()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{stored} clicks stored, expected {count}")
            await asyncio.sleep(0.02)

    async def start_edge(self, **overrides: object) -> RunningEdge:
        values: dict[str, object] = {"control_api_key": await self.keys.key("edge"), **overrides}
        edge = RunningEdge(edge_settings(f"127.0.0.1:{self.control.port}", **values))
        await edge.start()
        self.edges.append(edge)
        return edge

    async def start_console(self, **overrides: object) -> RunningConsole:
        """The Performance Center, reading from this stack's control plane."""
        values: dict[str, object] = {
            "control_address": f"127.0.0.1:{self.control.port}",
            **overrides,
        }
        console = RunningConsole(console_settings(**values))
        await console.start()
        self.consoles.append(console)
        return console


@contextlib.asynccontextmanager
async def running_stack(dsn: str, **edge_overrides: object) -> AsyncIterator[Stack]:
    db = await create_pool(dsn, min_size=1, max_size=8)
    hub = InvalidationHub(dsn)
    await hub.start()
    deps = Deps(db=db, keys=KEYS, hub=hub)
    control = await start_grpc(deps, "127.0.0.1:0")
    keys = Keyring(db)
    channel = grpc.aio.insecure_channel(
        f"127.0.0.1:{control.port}", interceptors=key_per_call(keys)
    )
    http = httpx.AsyncClient(follow_redirects=False, timeout=10)
    stack = Stack(
        db=db, channel=channel, edge_url="", http=http, control=control, deps=deps, keys=keys
    )
    try:
        edge = await stack.start_edge(**edge_overrides)
        stack.edge_url = edge.url
        yield stack
    finally:
        for console in stack.consoles:
            await console.stop()
        for edge in reversed(stack.edges):
            await edge.stop()
        await http.aclose()
        await channel.close()
        await hub.stop()
        await stop_grpc(stack.control, 1)
        await db.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Waits until `check()` holds, failing the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
