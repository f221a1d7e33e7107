"""Every call presents an API key (metadata `authorization: Bearer su_...`) and
stays inside its role and account (control/api/permissions.py).

Installed after the ErrorFunnel, so its checks run inside the funnel's
wrapper: refusals are domain errors the funnel maps to UNAUTHENTICATED or
PERMISSION_DENIED and counts like any other call. The key is looked up once
per call (one primary-key query, no cache), so a revoked key fails its next
call; a stream that is already open keeps the key it started with.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import grpc

from control.api import permissions
from control.api.handlers import Behavior, wrap_handler
from control.domain.api_keys import ApiKey, verify_api_key
from control.domain.errors import Unauthenticated
from smarturls.v1 import minting_pb2

_BEARER = "bearer "

# The key of the call being handled, for the methods that answer about the
# caller (AccountService/GetCaller). Set before the method runs, in its task.
_CALLER: contextvars.ContextVar[ApiKey] = contextvars.ContextVar("caller")


def current_caller() -> ApiKey:
    """The key that made the call being handled (only under ApiKeyAuth)."""
    return _CALLER.get()


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

        return wrap_handler(
            handler,
            unary=functools.partial(_unary, caller),
            streaming=functools.partial(_streaming, caller),
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


async def _allowed(caller: Caller, request: Any, request_streaming: bool) -> Any:
    """The request (or request stream) once the caller may make it."""
    key, rule = await caller()
    _CALLER.set(key)
    if request_streaming:
        return _checked(key, rule, request)
    _check_accounts(key, rule, request)
    return request


def _unary(caller: Caller, behavior: Behavior, request_streaming: bool) -> Behavior:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return await behavior(await _allowed(caller, request, request_streaming), context)

    return call


def _streaming(caller: Caller, behavior: Behavior, request_streaming: bool) -> Behavior:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for response in behavior(await _allowed(caller, request, request_streaming), context):
            yield response

    return call
