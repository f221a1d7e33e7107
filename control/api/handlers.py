"""One way for an interceptor to wrap a method's behaviour, whatever its shape
(unary or streaming requests and responses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

Behavior = Callable[..., Any]

_FIELD = {
    (False, False): "unary_unary",
    (False, True): "unary_stream",
    (True, False): "stream_unary",
    (True, True): "stream_stream",
}


# What an interceptor puts around a behaviour: given the behaviour and whether
# its requests stream, the new behaviour.
Wrap = Callable[[Behavior, bool], Behavior]


def wrap_handler(
    handler: grpc.RpcMethodHandler,
    *,
    unary: Wrap,
    streaming: Wrap,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> grpc.RpcMethodHandler:
    """The same handler with its behaviour wrapped by `unary` (one response) or
    `streaming` (a response stream) and, when given, another request deserializer."""
    field = _FIELD[handler.request_streaming, handler.response_streaming]
    wrap = streaming if handler.response_streaming else unary
    # grpc's handlers are namedtuples (grpc._utilities.RpcMethodHandler).
    replaced: dict[str, Any] = {field: wrap(getattr(handler, field), handler.request_streaming)}
    if request_deserializer is not None:
        replaced["request_deserializer"] = request_deserializer
    return handler._replace(**replaced)
