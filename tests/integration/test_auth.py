"""Every call authenticates and stays inside its role and account.

The table test calls every RPC of every service in the generated code (so a new
RPC without a rule in control/api/permissions.py fails here) with a key of
every role, on the key's own account and on another; then no key, malformed,
unknown and revoked keys, the minting stream's per-request check, the `keys`
command, and TLS on the gRPC port.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

import smarturls.v1
from common.control_channel import control_channel
from control.api.permissions import RULES
from control.domain.api_keys import GLOBAL_ROLES, ROLES, Role, revoke_api_key
from control.server import server_credentials, start_grpc, stop_grpc
from smarturls.v1 import accounts_pb2, accounts_pb2_grpc, common_pb2, minting_pb2, templates_pb2
from tests.support import RunningEdge, Stack, edge_settings

ROOT = Path(__file__).resolve().parents[2]
DENIED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)
# What an allowed call with an empty request may earn: a domain error, never these.
REFUSED_OR_BROKEN = (*DENIED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)
# Rules for RPCs being added on another branch at the same time; once they are
# merged this set is simply unused.
RPCS_NOT_HERE_YET = {
    "/smarturls.v1.ConversionService/CancelOrder",
    "/smarturls.v1.ConversionService/RefundOrder",
    "/smarturls.v1.DashboardService/GetTemplateTimeSeries",
    "/smarturls.v1.DashboardService/ExplainConversion",
}


@dataclass(frozen=True)
class Rpc:
    path: str
    request: Any
    response: Any
    client_streaming: bool
    server_streaming: bool

    @property
    def scoped(self) -> bool:
        """The request names an account, or carries requests that each do (MintBatch)."""
        fields = self.request.DESCRIPTOR.fields_by_name
        inner = fields.get("requests")
        return "account_id" in fields or (
            inner is not None and "account_id" in inner.message_type.fields_by_name
        )

    def request_for(self, account_id: int) -> Any:
        fields = self.request.DESCRIPTOR.fields_by_name
        if "account_id" in fields:
            return self.request(account_id=account_id)
        if self.scoped:
            inner = message_factory.GetMessageClass(fields["requests"].message_type)
            return self.request(requests=[inner(account_id=account_id)])
        return self.request()


def every_rpc() -> list[Rpc]:
    found = []
    for module in pkgutil.iter_modules(smarturls.v1.__path__):
        if not module.name.endswith("_pb2"):
            continue
        descriptor = importlib.import_module(f"smarturls.v1.{module.name}").DESCRIPTOR
        for service in descriptor.services_by_name.values():
            for method in service.methods:
                found.append(
                    Rpc(
                        f"/{service.full_name}/{method.name}",
                        message_factory.GetMessageClass(method.input_type),
                        message_factory.GetMessageClass(method.output_type),
                        method.client_streaming,
                        method.server_streaming,
                    )
                )
    return found


RPCS = every_rpc()


def bearer(key: str | None) -> tuple[tuple[str, str], ...]:
    return () if key is None else (("authorization", f"Bearer {key}"),)


async def call(
    channel: grpc.aio.Channel, rpc: Rpc, request: Any, metadata: Any
) -> tuple[grpc.StatusCode, str]:
    """(code, details) of one call; a response stream still open after a moment
    (WatchInvalidations waiting for news) counts as accepted. The moment is 2 s:
    a refusal that took longer on a loaded machine would pass for acceptance."""
    shape = (
        ("stream" if rpc.client_streaming else "unary")
        + "_"
        + ("stream" if rpc.server_streaming else "unary")
    )
    multicallable = getattr(channel, shape)(
        rpc.path,
        request_serializer=rpc.request.SerializeToString,
        response_deserializer=rpc.response.FromString,
    )
    argument = iter([request]) if rpc.client_streaming else request
    try:
        if rpc.server_streaming:
            stream = multicallable(argument, metadata=metadata)
            try:
                async with asyncio.timeout(2):
                    async for _ in stream:
                        pass
            except TimeoutError:
                stream.cancel()
        else:
            await multicallable(argument, metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code(), error.details() or ""
    return grpc.StatusCode.OK, ""


@pytest.fixture
async def plain(stack: Stack) -> Any:
    """A channel that adds no key: each call brings its own."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.control.port}") as channel:
        yield channel


async def two_accounts(stack: Stack) -> tuple[int, int]:
    mine = await stack.account(domain="mine.acme.example")
    theirs = await stack.account(domain="theirs.acme.example")
    return mine.account_id, theirs.account_id


def test_every_rpc_has_a_rule_and_every_rule_an_rpc() -> None:
    paths = {rpc.path for rpc in RPCS}
    assert len(paths) >= 18
    missing = paths - set(RULES)
    assert not missing, f"no rule in control/api/permissions.py for {sorted(missing)}"
    assert set(RULES) - paths <= RPCS_NOT_HERE_YET
    for rpc in RPCS:
        # The account check reads the request's account_id: it must be there.
        assert RULES[rpc.path].account_scoped == rpc.scoped, rpc.path


@pytest.mark.parametrize("rpc", RPCS, ids=[rpc.path.split(".")[-1] for rpc in RPCS])
async def test_each_role_reaches_only_its_rpcs_and_its_account(
    stack: Stack, plain: grpc.aio.Channel, rpc: Rpc
) -> None:
    rule = RULES[rpc.path]
    mine, theirs = await two_accounts(stack)
    for role in ROLES:
        key = await stack.keys.key(role, mine)
        code, details = await call(plain, rpc, rpc.request_for(mine), bearer(key))
        if role in rule.roles:
            # Allowed: whatever the empty request earns (NOT_FOUND, INVALID_ARGUMENT...).
            assert code not in REFUSED_OR_BROKEN, (role, code, details)
            if rpc.scoped:
                code, details = await call(plain, rpc, rpc.request_for(theirs), bearer(key))
                if role in GLOBAL_ROLES:
                    assert code not in REFUSED_OR_BROKEN, (role, "other account", code, details)
                else:
                    assert code == grpc.StatusCode.PERMISSION_DENIED, (role, code)
                    assert details.startswith("account_id:"), details
                    assert f"account {theirs}" in details, details
        else:
            assert code == grpc.StatusCode.PERMISSION_DENIED, (role, code, details)
            assert details == f"role {role} may not call {rpc.path}"


async def test_no_key_a_malformed_key_an_unknown_key_and_a_revoked_key_are_unauthenticated(
    stack: Stack, plain: grpc.aio.Channel
) -> None:
    mine, _ = await two_accounts(stack)
    get = next(rpc for rpc in RPCS if rpc.path.endswith("/GetAccount"))
    ingest = next(rpc for rpc in RPCS if rpc.path.endswith("/IngestClicks"))
    request = get.request_for(mine)
    key = await stack.keys.key("dashboard", mine)
    key_id = key.split("_")[1]
    unknown = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    cases = [
        ((), "no API key"),
        ((("authorization", "Basic dXNlcjpwdw=="),), "malformed"),
        (bearer("garbage"), "malformed"),
        (bearer(key + "x"), "malformed"),
        (bearer(unknown), f"unknown API key {key_id}"),
    ]
    for metadata, why in cases:
        for rpc in (get, ingest):
            code, details = await call(plain, rpc, rpc.request_for(mine), metadata)
            assert code == grpc.StatusCode.UNAUTHENTICATED, (metadata, code)
            assert why in details and key[-20:] not in details, details

    assert (await call(plain, get, request, bearer(key)))[0] == grpc.StatusCode.OK
    await revoke_api_key(stack.db, key_id)
    # The very next call: there is no cache to wait for.
    code, details = await call(plain, get, request, bearer(key))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert details == f"authorization: API key {key_id} was revoked"


async def test_every_key_learns_who_it_is_and_only_that(
    stack: Stack, plain: grpc.aio.Channel
) -> None:
    mine, theirs = await two_accounts(stack)
    accounts = accounts_pb2_grpc.AccountServiceStub(plain)
    for role in ROLES:
        key = await stack.keys.key(role, mine)
        caller = await accounts.GetCaller(accounts_pb2.GetCallerRequest(), metadata=bearer(key))
        assert caller.role == role
        assert key.startswith(f"su_{caller.key_id}_")
        if role in GLOBAL_ROLES:
            assert not caller.HasField("account")
        else:
            assert caller.account.account_id == mine != theirs
            assert caller.account.name == "Acme"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await accounts.GetCaller(accounts_pb2.GetCallerRequest())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_health_needs_no_key(plain: grpc.aio.Channel) -> None:
    reply = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_refusals_are_counted_by_the_error_funnel(
    stack: Stack, plain: grpc.aio.Channel
) -> None:
    def counted(code: str) -> float:
        labels = {"method": "GetAccount", "code": code}
        return REGISTRY.get_sample_value("smarturls_control_rpcs_total", labels) or 0.0

    mine, theirs = await two_accounts(stack)
    before = counted("PERMISSION_DENIED"), counted("UNAUTHENTICATED")
    get = accounts_pb2_grpc.AccountServiceStub(plain).GetAccount
    key = await stack.keys.key("sender", mine)
    for metadata in (bearer(key), ()):
        with pytest.raises(grpc.aio.AioRpcError):
            await get(accounts_pb2.GetAccountRequest(account_id=theirs), metadata=metadata)
    assert (counted("PERMISSION_DENIED"), counted("UNAUTHENTICATED")) == (
        before[0] + 1,
        before[1] + 1,
    )


async def test_the_minting_stream_checks_each_request_as_it_arrives(stack: Stack) -> None:
    mine, theirs = await two_accounts(stack)
    link = templates_pb2.TemplateLink(
        name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
    )
    template = await stack.template(mine, common_pb2.GOAL_ORDERS, [link])

    def mint(account_id: int, message_id: str) -> minting_pb2.MintSmartUrlsRequest:
        return minting_pb2.MintSmartUrlsRequest(
            account_id=account_id,
            template_id=template.template_id,
            message_id=message_id,
            advocate_shortcode="JO",
        )

    async def requests() -> Any:
        yield mint(mine, "m-1")
        await asyncio.sleep(0.2)  # m-1 is answered before the foreign one arrives
        yield mint(theirs, "m-2")
        yield mint(mine, "m-3")

    replies = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for reply in stack.minting.MintSmartUrlsStream(requests()):
            replies.append(reply)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details().startswith("account_id:")
    assert [r.message_id for r in replies] == ["m-1"] and replies[0].links
    assert await stack.db.fetchval("SELECT array_agg(external_message_id) FROM messages") == ["m-1"]


async def keys_command(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTURLS_")}
    env["DATABASE_URL"] = dsn
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "control", "keys", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_keys_command_creates_lists_and_revokes(
    stack: Stack, plain: grpc.aio.Channel, dsn: str
) -> None:
    mine, _ = await two_accounts(stack)
    made = await keys_command(dsn, "create", "--role", "dashboard", "--account", str(mine))
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    key_id = key.split("_")[1]
    assert key.startswith("su_") and "not shown again" in made.stderr
    stored = await stack.db.fetchrow("SELECT * FROM api_keys WHERE key_id = $1", key_id)
    assert stored["role"] == "dashboard" and stored["account_id"] == mine
    assert key.encode() not in bytes(stored["key_hash"]) and len(stored["key_hash"]) == 32

    get = accounts_pb2_grpc.AccountServiceStub(plain).GetAccount
    request = accounts_pb2.GetAccountRequest(account_id=mine)
    assert (await get(request, metadata=bearer(key))).account_id == mine

    listed = await keys_command(dsn, "list", "--account", str(mine))
    assert key_id in listed.stdout and "active" in listed.stdout and key not in listed.stdout

    revoked = await keys_command(dsn, "revoke", key_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get(request, metadata=bearer(key))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED

    refused = await keys_command(dsn, "create", "--role", "sender")
    assert refused.returncode == 1 and "account_id: required" in refused.stderr


def self_signed(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec"),
            *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_the_grpc_port_serves_tls_to_clients_and_edges(stack: Stack, tmp_path: Path) -> None:
    cert, private_key = self_signed(tmp_path)
    tls = await start_grpc(stack.deps, "127.0.0.1:0", server_credentials(cert, private_key))
    address = f"127.0.0.1:{tls.port}"
    try:
        account = await stack.account()
        request = accounts_pb2.GetAccountRequest(account_id=account.account_id)
        admin = await stack.keys.key("admin")
        async with control_channel(address, admin, tls_ca=cert) as channel:
            reply = await accounts_pb2_grpc.AccountServiceStub(channel).GetAccount(request)
            assert reply.account_id == account.account_id
        async with control_channel(address, admin) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await accounts_pb2_grpc.AccountServiceStub(channel).GetAccount(request, timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

        # An edge that trusts the certificate resolves links over TLS.
        link = templates_pb2.TemplateLink(
            name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
        )
        template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, [link])
        urls = await stack.mint(account.account_id, template.template_id, "m-1")
        settings = edge_settings(
            address, control_api_key=await stack.keys.key("edge"), control_tls_ca=cert
        )
        edge = RunningEdge(settings)
        url = await edge.start()
        try:
            response = await stack.click(urls["ref"], edge_url=url)
            assert response.status_code == 302
        finally:
            await edge.stop()
    finally:
        await stop_grpc(tls, 1)


def test_roles_are_the_ones_the_table_knows() -> None:
    used: set[Role] = set()
    for rule in RULES.values():
        used |= rule.roles
    assert used == set(ROLES)
