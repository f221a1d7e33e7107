"""The one error funnel: domain errors become gRPC statuses, a request that does
not parse is INVALID_ARGUMENT, and every call is counted by method and status
for Prometheus."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
from prometheus_client import Counter, Histogram

from control.api.handlers import Behavior, wrap_handler
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
UNDECODABLE = Counter(
    "smarturls_control_undecodable_requests_total",
    "Request messages that did not parse as the method's request type",
    ["method"],
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
    # asyncpg's own word for a connection already lost ("connection is closed",
    # "the underlying connection is closed"), often raised while a transaction
    # is rolled back after the loss.
    if isinstance(error, asyncpg.InterfaceError) and str(error).endswith("connection is closed"):
        return True
    # A pooled connection whose backend was terminated while idle: the server's
    # FATAL arrived outside any query, so asyncpg is still consuming that error
    # (its state 2) when the next query starts, and the socket's close comes
    # a moment later. Any other state in this message is asyncpg misused: a bug.
    if isinstance(error, asyncpg.exceptions.InternalClientError) and str(error).endswith(
        "another operation (2) is in progress"
    ):
        return True
    # A database closed to connections (ALLOW_CONNECTIONS false, as in
    # maintenance) has a SQLSTATE (55000) that bugs share: told by its message.
    return isinstance(
        error, asyncpg.ObjectNotInPrerequisiteStateError
    ) and "not currently accepting connections" in str(error)


def _causes(error: BaseException) -> list[BaseException]:
    """The error and what it was raised from or while handling."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def status_for(error: BaseException) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    if any(_database_away(e) for e in _causes(error)):
        return grpc.StatusCode.UNAVAILABLE
    return grpc.StatusCode.INTERNAL


@dataclass(frozen=True, slots=True)
class Undecodable:
    """Stands for a request message that did not parse, so the funnel, not grpc's
    own handler (UNKNOWN, with a traceback per call), answers it."""

    why: str


def _tolerant(deserialize: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserialize is None:
        return None

    def tolerant(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as error:  # protobuf's DecodeError, or whatever a parser raises
            return Undecodable(str(error))

    return tolerant


def _refuse(method: str, request: Undecodable) -> InvalidArgument:
    UNDECODABLE.labels(method).inc()
    return InvalidArgument.field("request", f"not a valid request message ({request.why})")


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
        return wrap_handler(
            handler,
            unary=functools.partial(_unary, method),
            streaming=functools.partial(_streaming, method),
            request_deserializer=_tolerant(handler.request_deserializer),
        )


def _decoded(method: str, request: Any, streaming: bool) -> Any:
    """The request, or the request stream, with anything undecodable refused
    (in a stream: when the caller's handler reaches it, after what came before)."""
    if not streaming:
        if isinstance(request, Undecodable):
            raise _refuse(method, request)
        return request

    async def checked() -> AsyncIterator[Any]:
        async for message in request:
            if isinstance(message, Undecodable):
                raise _refuse(method, message)
            yield message

    return checked()


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


def _unary(method: str, behavior: Behavior, request_streaming: bool) -> Behavior:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.perf_counter()
        try:
            response = await behavior(_decoded(method, request, request_streaming), context)
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(method, error, context)
        finally:
            RPC_SECONDS.labels(method).observe(time.perf_counter() - started)
        RPCS.labels(method, "OK").inc()
        return response

    return call


def _streaming(method: str, behavior: Behavior, request_streaming: bool) -> Behavior:
    async def call(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        started = time.perf_counter()
        try:
            async for response in behavior(_decoded(method, request, request_streaming), context):
                yield response
        except Exception as error:
            if isinstance(error, grpc.aio.AbortError):
                raise
            await _abort(method, error, context)
        finally:
            RPC_SECONDS.labels(method).observe(time.perf_counter() - started)
        RPCS.labels(method, "OK").inc()

    return call
