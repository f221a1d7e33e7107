"""Every call presents an API key (metadata `authorization: Bearer su_...`) and
stays inside its role and account (control/domain/permissions.py).

Installed after the ErrorFunnel, so its checks run inside the funnel's
wrapper: refusals are domain errors the funnel maps to UNAUTHENTICATED or
PERMISSION_DENIED and counts like any other call. The key is looked up once
per call (one primary-key query, no cache), so a revoked key fails its next
call; a stream that is already open keeps the key it started with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import grpc

from control.domain import permissions
from control.domain.api_keys import ApiKey, verify_api_key
from control.domain.errors import Unauthenticated
from smarturls.v1 import minting_pb2

_BEARER = "bearer "


def presented_key(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """The key of the first `authorization` entry; None when there is none."""
    for name, value in metadata or ():
        if name == "authorization":
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            if not text.lower().startswith(_BEARER):
                raise Unauthenticated.malformed("expected 'Bearer su_...'")
            return text[len(_BEARER) :].strip()
    return None


class ApiKeyAuth(grpc.aio.ServerInterceptor):
    def __init__(self, db: asyncpg.Pool) -> None:
        self._db = db

    async def intercept_service(
        self,
        continuation: Callable[[Any], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None or permissions.is_public(details.method):
            return handler
        method = details.method
        metadata = details.invocation_metadata

        async def caller() -> tuple[ApiKey, permissions.Rule]:
            key = await verify_api_key(self._db, presented_key(metadata))
            return key, permissions.authorize(key, method)

        serializers = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(caller, handler.unary_unary), **serializers
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _unary_stream(caller, handler.unary_stream), **serializers
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _stream_unary(caller, handler.stream_unary), **serializers
            )
        return grpc.stream_stream_rpc_method_handler(
            _stream_stream(caller, handler.stream_stream), **serializers
        )


Caller = Callable[[], Awaitable[tuple[ApiKey, permissions.Rule]]]


def _check_accounts(key: ApiKey, rule: permissions.Rule, request: Any) -> None:
    """Every account-scoped request has account_id (tests/integration/test_auth.py
    checks); a MintBatch carries requests that each have one."""
    if not rule.account_scoped:
        return
    if isinstance(request, minting_pb2.MintBatch):
        for account_id in sorted({r.account_id for r in request.requests}):
            permissions.check_account(key, rule, account_id)
    else:
        permissions.check_account(key, rule, int(request.account_id))


async def _checked(
    key: ApiKey, rule: permissions.Rule, requests: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """A client stream checked request by request as each arrives: the first of
    another account ends the call with PERMISSION_DENIED."""
    async for request in requests:
        _check_accounts(key, rule, request)
        yield request


def _unary(caller: Caller, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        key, rule = await caller()
        _check_accounts(key, rule, request)
        return await behavior(request, context)

    return call


def _unary_stream(
    caller: Caller, behavior: Callable[..., AsyncIterator[Any]]
) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        key, rule = await caller()
        _check_accounts(key, rule, request)
        async for response in behavior(request, context):
            yield response

    return call


def _stream_unary(caller: Caller, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    async def call(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        key, rule = await caller()
        return await behavior(_checked(key, rule, requests), context)

    return call


def _stream_stream(
    caller: Caller, behavior: Callable[..., AsyncIterator[Any]]
) -> Callable[..., Any]:
    async def call(
        requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[Any]:
        key, rule = await caller()
        async for response in behavior(_checked(key, rule, requests), context):
            yield response

    return call
