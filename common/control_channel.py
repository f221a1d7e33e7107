"""The channel to the control plane: the API key on every call, TLS when a CA is given.

The key goes as per-call metadata from a client interceptor: gRPC call
credentials would need a secure channel, and the loopback default is plaintext.
"""

from __future__ import annotations

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
