"""The channel to the control plane: the API key on every call, TLS when a CA is given.

The key goes as per-call metadata from a client interceptor: gRPC call
credentials would need a secure channel, and the loopback default is plaintext.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc


class _ApiKey:
    def __init__(self, api_key: str) -> None:
        self._value = f"Bearer {api_key}"

    def _with_key(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add("authorization", self._value)
        return details._replace(metadata=metadata)


class _UnaryUnary(_ApiKey, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_key(details), request)


class _UnaryStream(_ApiKey, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_key(details), request)


class _StreamUnary(_ApiKey, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._with_key(details), requests)


class _StreamStream(_ApiKey, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._with_key(details), requests)


class KeyedStub:
    """A generated stub whose every call carries `authorization: Bearer <key>` as
    call metadata, with no client interceptor. grpc.aio runs an intercepted
    stream through async generators that, when the stream fails while one is
    reading, are closed from another task and log "aclose(): asynchronous
    generator is already running"; a plain call has none (and costs less per
    message)."""

    def __init__(self, stub: Any, api_key: str) -> None:
        self._stub = stub
        self._metadata = (("authorization", f"Bearer {api_key}"),)

    def __getattr__(self, name: str) -> Any:
        call = functools.partial(getattr(self._stub, name), metadata=self._metadata)
        setattr(self, name, call)  # found directly from now on
        return call


def api_key_interceptors(api_key: str) -> list[Any]:
    """Interceptors adding `authorization: Bearer <key>` to every call. One per
    call shape: grpc.aio files an interceptor under the first shape it implements."""
    return [shape(api_key) for shape in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)]


def control_channel(
    address: str,
    api_key: str,
    tls_ca: Path | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """A channel whose calls carry `api_key`; TLS verified against `tls_ca` if given."""
    return channel_to(address, tls_ca, options, api_key_interceptors(api_key))


def channel_to(
    address: str,
    tls_ca: Path | None = None,
    options: Sequence[tuple[str, Any]] = (),
    interceptors: Sequence[Any] = (),
) -> grpc.aio.Channel:
    """A channel to the control plane whose callers pass their key per call
    (a console serving many people, each with their own key)."""
    if tls_ca is None:
        return grpc.aio.insecure_channel(address, options=options, interceptors=interceptors)
    credentials = grpc.ssl_channel_credentials(root_certificates=tls_ca.read_bytes())
    return grpc.aio.secure_channel(address, credentials, options=options, interceptors=interceptors)


def failure(error: BaseException) -> str:
    """One line for a log: an RPC error's status and details (not its multi-line
    debug string), anything else as its repr."""
    if isinstance(error, grpc.aio.AioRpcError):
        return f"{error.code().name}: {error.details()}"
    return repr(error)
