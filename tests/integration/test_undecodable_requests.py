"""Bytes that are not the method's request message are the caller's mistake:
INVALID_ARGUMENT on every RPC, unary and streaming, never UNKNOWN or INTERNAL,
never a stream left hanging, and the server keeps serving."""

from __future__ import annotations

import logging
import random
import zlib
from collections import Counter
from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import DecodeError

from smarturls.v1 import (
    accounts_pb2,
    common_pb2,
    conversions_pb2,
    dashboard_pb2,
    edge_pb2,
    minting_pb2,
    templates_pb2,
)
from tests.support import Stack, role_for

MODULES = (accounts_pb2, templates_pb2, minting_pb2, edge_pb2, conversions_pb2, dashboard_pb2)
METHODS: list[MethodDescriptor] = [
    method
    for module in MODULES
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]
# A field tag with wire type 7, which no protobuf message can hold.
NEVER_A_MESSAGE = b"\x0f\x01\x02"
DEADLINE = 10.0


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def payloads(seed: int) -> list[bytes]:
    """The certainly-undecodable payload, then random bytes (which may happen to
    decode: those must still end in a caller's status)."""
    rng = random.Random(seed)
    return [NEVER_A_MESSAGE] + [rng.randbytes(rng.randint(1, 64)) for _ in range(4)]


def decodes(method: MethodDescriptor, payload: bytes) -> bool:
    try:
        message_factory.GetMessageClass(method.input_type).FromString(payload)
    except DecodeError:
        return False
    return True


async def call(
    channel: grpc.aio.Channel,
    method: MethodDescriptor,
    payload: bytes,
    key: str,
    deadline: float = DEADLINE,
) -> grpc.StatusCode:
    metadata = (("authorization", f"Bearer {key}"),)
    name = path(method)
    try:
        if method.client_streaming:

            async def requests() -> AsyncIterator[bytes]:
                yield payload

            stream = channel.stream_stream(name)(requests(), metadata=metadata, timeout=deadline)
            async for _ in stream:
                pass
        elif method.server_streaming:
            stream = channel.unary_stream(name)(payload, metadata=metadata, timeout=deadline)
            async for _ in stream:
                pass
        else:
            await channel.unary_unary(name)(payload, metadata=metadata, timeout=deadline)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
async def test_bytes_that_do_not_parse_are_invalid_argument(
    stack: Stack, method: MethodDescriptor, caplog: pytest.LogCaptureFixture
) -> None:
    account = await stack.account()
    role = role_for(path(method))
    key = await stack.keys.key(role, account.account_id)
    undecodable, decodable = [], []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.control.port}") as channel:
        for payload in payloads(seed=zlib.crc32(method.name.encode())):
            if decodes(method, payload):
                # A valid request after all: any answer but a server fault, and a
                # watch (a stream without end) may run until its deadline.
                decodable.append(await call(channel, method, payload, key, deadline=2))
            else:
                undecodable.append(await call(channel, method, payload, key))
    assert undecodable and set(undecodable) == {grpc.StatusCode.INVALID_ARGUMENT}, undecodable
    faults = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
    assert not faults & set(decodable), Counter(c.name for c in decodable)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    # Still serving, with a well-formed call on the same server.
    again = await stack.accounts.GetAccount(
        accounts_pb2.GetAccountRequest(account_id=account.account_id)
    )
    assert again.account_id == account.account_id


async def test_undecodable_requests_are_counted_by_method(stack: Stack) -> None:
    from prometheus_client import REGISTRY

    def counted() -> float:
        value = REGISTRY.get_sample_value(
            "smarturls_control_undecodable_requests_total", {"method": "GetAccount"}
        )
        return value or 0.0

    before = counted()
    key = await stack.keys.key("admin")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.control.port}") as channel:
        method = accounts_pb2.DESCRIPTOR.services_by_name["AccountService"].methods_by_name[
            "GetAccount"
        ]
        assert await call(channel, method, NEVER_A_MESSAGE, key) is (
            grpc.StatusCode.INVALID_ARGUMENT
        )
    assert counted() == before + 1


async def test_a_bad_message_after_good_ones_ends_the_minting_stream(stack: Stack) -> None:
    """The stream answers what came before the bad message, then ends with
    INVALID_ARGUMENT instead of waiting forever."""
    account = await stack.account()
    link = templates_pb2.TemplateLink(
        name="ref", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
    )
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, [link])
    key = await stack.keys.key("sender", account.account_id)
    good = minting_pb2.MintSmartUrlsRequest(
        account_id=account.account_id,
        template_id=template.template_id,
        message_id="m-1",
        advocate_shortcode="JO",
    ).SerializeToString()

    async def requests() -> AsyncIterator[bytes]:
        yield good
        yield NEVER_A_MESSAGE

    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.control.port}") as channel:
        stream = channel.stream_stream("/smarturls.v1.MintingService/MintSmartUrlsStream")(
            requests(), metadata=(("authorization", f"Bearer {key}"),), timeout=DEADLINE
        )
        replies = []
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            async for reply in stream:
                replies.append(minting_pb2.MintSmartUrlsResponse.FromString(reply))
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "request" in (raised.value.details() or "")
    assert [r.message_id for r in replies] == ["m-1"]
