"""The control plane's server: it will not share a port, and it describes itself
(server reflection) to tools such as grpcurl, without a key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from control.server import SERVICES, start_grpc
from tests.support import Stack


async def test_a_port_in_use_is_refused_naming_it(stack: Stack) -> None:
    taken = f"127.0.0.1:{stack.control.port}"
    with pytest.raises(SystemExit, match=f"cannot listen on {taken}"):
        await start_grpc(stack.deps, taken)


async def test_reflection_lists_every_service_without_a_key(stack: Stack) -> None:
    async def one_request() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.control.port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = [r async for r in stub.ServerReflectionInfo(one_request())]
        listed = {s.name for s in replies[0].list_services_response.service}
        assert set(SERVICES) <= listed

        async def describe() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
            yield reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="smarturls.v1.MintingService"
            )

        [described] = [r async for r in stub.ServerReflectionInfo(describe())]
    assert described.file_descriptor_response.file_descriptor_proto
