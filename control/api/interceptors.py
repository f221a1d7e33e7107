"""The one error funnel: domain errors become gRPC statuses, and every call is
counted by method and status for Prometheus."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import grpc
from prometheus_client import Counter, Histogram

from control.domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

STATUS_BY_ERROR: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
}

RPCS = Counter("smarturls_control_rpcs_total", "gRPC calls handled", ["method", "code"])
RPC_SECONDS = Histogram(
    "smarturls_control_rpc_seconds",
    "gRPC call duration (streams: until the stream ends)",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60),
)

log = logging.getLogger(__name__)


# PostgreSQL down, restarting, cutting connections or refusing new ones: the
# caller's retry is the remedy (the edge spools its clicks and sends them
# again), so UNAVAILABLE, which clients retry; INTERNAL would mean a bug.
_DATABASE_AWAY = (
    ConnectionError,  # refused, reset
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, a connection that is gone
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,  # starting up, shutting down
    asyncpg.exceptions.TooManyConnectionsError,
)


def _database_away(error: BaseException) -> bool:
    if isinstance(error, _DATABASE_AWAY):
        return True
    # A database closed to connections (ALLOW_CONNECTIONS false, as in
    # maintenance) has a SQLSTATE (55000) that bugs share: told by its message.
    return isinstance(
        error, asyncpg.ObjectNotInPrerequisiteStateError
    ) and "not currently accepting connections" in str(error)


def status_for(error: BaseException) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    if _database_away(error):
        return grpc.StatusCode.UNAVAILABLE
    return grpc.StatusCode.INTERNAL


class ErrorFunnel(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[Any], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        method = details.method.rsplit("/", 1)[-1]
        serializers = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _unary(method, handler.unary_unary), **serializers
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                _streaming(method, handler.stream_stream), **serializers
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _streaming(method, handler.unary_stream), **serializers
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _unary(method, handler.stream_unary), **serializers
            )
        return handler


async def _abort(method: str, error: Exception, context: grpc.aio.ServicerContext) -> None:
    code = status_for(error)
    RPCS.labels(method, code.name).inc()
    if code is grpc.StatusCode.INTERNAL:
        log.exception("%s failed", method, exc_info=error)
        await context.abort(code, "internal error; see the control-plane log")
    if code is grpc.StatusCode.UNAVAILABLE:
        log.warning("%s: the database is unavailable (%r)", method, error)
        await context.abort(code, "the database is unavailable; retry")
    await context.abort(code, str(error))


def _unary(method: str, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.perf_counter()
        try:
            response = await behavior(request, context)
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(method, error, context)
        finally:
            RPC_SECONDS.labels(method).observe(time.perf_counter() - started)
        RPCS.labels(method, "OK").inc()
        return response

    return call


def _streaming(method: str, behavior: Callable[..., AsyncIterator[Any]]) -> Callable[..., Any]:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        started = time.perf_counter()
        try:
            async for response in behavior(request, context):
                yield response
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(method, error, context)
        finally:
            RPC_SECONDS.labels(method).observe(time.perf_counter() - started)
        RPCS.labels(method, "OK").inc()

    return call
