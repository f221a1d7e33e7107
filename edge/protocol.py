"""The edge's HTTP/1.1 connections: uvicorn's httptools protocol, answering
GET/HEAD /{token} for a link held in memory itself (parse, answer, and write
the prepared bytes with the loop pass's other answers: no ASGI scope, no task,
no send coroutine; in durable mode once the click is fsync'd), and handing
every other request to the ASGI app exactly as uvicorn does: a link not in
memory, /healthz, /metrics, anything with a body.

It also holds a request head to what a public server must: at most HEAD_LIMIT
bytes and MAX_HEADERS headers (431, or 414 for the target), received within
HEAD_TIMEOUT seconds of its first byte, or of connecting for a connection's
first request (408); connected clients that send nothing are dropped after the
same time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.middleware.proxy_headers import _TrustedHosts
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from edge import metrics
from edge.answer_batch import answer_batch
from edge.group_commit import SpoolUnavailable
from edge.hot_path import (
    TOKEN_PATH_LENGTH,
    Answer,
    answer_hit,
    counted,
    unavailable,
)
from edge.redirect import RedirectApp

# Request line plus headers. Browsers send 1-2 KB; 8 KB is the common limit
# (nginx's large_client_header_buffers, Node's --max-http-header-size is 16 KB).
HEAD_LIMIT = 8 * 1024
MAX_HEADERS = 100
# Seconds from a head's first byte to its end (and from connecting to a first byte).
HEAD_TIMEOUT = 10.0
_QUERY = ord("?")
_SLASH = ord("/")
_HOT_METHODS = {b"GET": "GET", b"HEAD": "HEAD"}
# The headers the hot route reads, and those that leave the request to ASGI
# (a body, an Expect, an Upgrade: anything that asks for more than an answer).
_HOST, _AGENT, _REFERER, _FORWARDED_FOR, _NOT_PLAIN = range(5)
_WANTED = {
    b"host": _HOST,
    b"user-agent": _AGENT,
    b"referer": _REFERER,
    b"x-forwarded-for": _FORWARDED_FOR,
    b"content-length": _NOT_PLAIN,
    b"transfer-encoding": _NOT_PLAIN,
    b"upgrade": _NOT_PLAIN,
    b"expect": _NOT_PLAIN,
}
_MEMORY_HIT = ("memory", "hit")
_HOT = metrics.HOT


class HeadRefused(Exception):
    """Raised inside a parser callback to stop parsing a head that is refused."""


class _Unused:
    def set(self) -> None:
        pass


class _WaitingAnswer:
    """Holds uvicorn's cycle slot while a durable answer waits for its click's
    fsync: pipelined requests behind it queue as behind any unfinished response,
    and a graceful shutdown waits for it (and closes after it)."""

    __slots__ = ("disconnected", "keep_alive", "message_event", "refusal", "response_complete")

    def __init__(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.response_complete = False
        self.disconnected = False
        self.message_event = _Unused()
        # A refusal of the request read after this one, written after this answer.
        self.refusal: Callable[[], None] | None = None


@lru_cache(maxsize=8)
def _trusted(forwarded_allow_ips: str) -> _TrustedHosts:
    # uvicorn's own rule, so an address is believed here exactly when its
    # ProxyHeadersMiddleware would believe it for the same request through ASGI.
    return _TrustedHosts(forwarded_allow_ips)


class _DefaultHeaders:
    """uvicorn's default headers (date, server) as bytes, made again only when
    uvicorn replaces the list (once a second, for the date)."""

    source: list[tuple[bytes, bytes]] | None = None
    encoded = b""

    @classmethod
    def of(cls, headers: list[tuple[bytes, bytes]]) -> bytes:
        if headers is not cls.source:
            cls.encoded = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
            cls.source = headers
        return cls.encoded


def _response(
    answer: Answer, default_headers: list[tuple[bytes, bytes]], head: bool, keep_alive: bool
) -> bytes:
    """The response as uvicorn would write it for the same ASGI messages: its
    default headers (date, server) first, then the answer's, then the length."""
    body = answer.body
    return b"".join(
        (
            STATUS_LINE[answer.status],
            _DefaultHeaders.of(default_headers),
            # Every answer has headers (hot_path.Answer), so this ends a line.
            b"\r\n".join(map(_HEADER_LINE, answer.headers)),
            (_LENGTH if keep_alive else _LENGTH_AND_CLOSE) % len(body),
            b"" if head else body,
        )
    )


_HEADER_LINE = b": ".join
_LENGTH = b"\r\ncontent-length: %d\r\n\r\n"
_LENGTH_AND_CLOSE = b"\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"


class EdgeProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        app = config.app
        self._redirect = app if isinstance(app, RedirectApp) else None
        allowed = config.forwarded_allow_ips
        trusted = allowed if isinstance(allowed, str) else ",".join(allowed)
        self._trusted = _trusted(trusted) if config.proxy_headers else None
        self._head_timer: asyncio.TimerHandle | None = None
        self._peer: str | None = None
        self._last_active = self.loop.time()
        self._answers = answer_batch(self.loop)
        self._reset_request()

    def _reset_request(self) -> None:
        self._in_head = False
        self._head_size = 0
        self._head_chunks = 0
        self._header_count = 0
        self._answered = False
        # Anything that gives the request a body or asks for more than an answer.
        self._not_plain = False
        self._host = self._user_agent = self._referer = b""
        self._forwarded_for: list[bytes] | None = None
        self._refusal: tuple[int, bytes] | None = None

    # -- the connection -------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._peer = self.client[0] if self.client else None
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn cancels its keep-alive timer on every read and arms a new one
        # after every response; here the timer stays, and when it fires it
        # looks at when the connection last read or finished a response
        # (timeout_keep_alive_handler).
        self._last_active = self.loop.time()
        if self._in_head:
            self._head_chunks += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answers.write()  # what this connection was answered goes first
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(*self._refusal)
            else:
                self.logger.warning("Invalid HTTP request received.")
                self._after_answers(
                    lambda: self.send_400_response("Invalid HTTP request received.")
                )
            return
        if self._in_head:
            # A head arriving in pieces: bounded in size and in time.
            if self._head_chunks > HEAD_LIMIT:
                self._refuse(431, b"Request Header Fields Too Large")
                return
            if self._head_timer is None:
                self._arm_head_timer()
        elif self._answered and self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def timeout_keep_alive_handler(self) -> None:
        self.timeout_keep_alive_task = None
        idle_for = self.loop.time() - self._last_active
        if idle_for < self.timeout_keep_alive or not self._idle() or self._in_head:
            # Busy since the timer was set: look again when it could have been idle long enough.
            wait = max(self.timeout_keep_alive - idle_for, 0.1)
            self.timeout_keep_alive_task = self.loop.call_later(
                wait, self.timeout_keep_alive_handler
            )
            return
        super().timeout_keep_alive_handler()

    def on_response_complete(self) -> None:
        """uvicorn's, but the keep-alive timer is armed once and left running
        (see data_received): a timer made and cancelled per response costs a
        durable answer, or an ASGI one, more than the rest of this."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self._last_active = self.loop.time()
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def shutdown(self) -> None:
        # uvicorn closes an idle connection at once: its answers go first.
        self._answers.write()
        super().shutdown()

    def _idle(self) -> bool:
        return (self.cycle is None or self.cycle.response_complete) and not self.pipeline

    # -- the head ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        # uvicorn's own (the ASGI scope) is made only for a request that goes to
        # ASGI: _to_asgi().
        self.url = b""
        self.expect_100_continue = False
        self.headers = []
        self._reset_request()
        self._in_head = True

    def _to_asgi(self) -> None:
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        HttpToolsProtocol.on_message_begin(self)
        self.url, self.headers, self.expect_100_continue = url, headers, expect
        self.scope["headers"] = headers
        HttpToolsProtocol.on_headers_complete(self)

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._head_size += len(url)
        if self._head_size > HEAD_LIMIT:
            self._refusal = (414, b"URI Too Long")
            raise HeadRefused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        self._header_count += 1
        if self._head_size > HEAD_LIMIT or self._header_count > MAX_HEADERS:
            self._refusal = (431, b"Request Header Fields Too Large")
            raise HeadRefused
        name = name.lower()
        # llhttp keeps trailing whitespace, which RFC 9110 5.5 excludes from the value.
        value = value.rstrip(b" \t")
        self.headers.append((name, value))
        wanted = _WANTED.get(name)
        if wanted is None:
            return  # most of a browser's headers: one lookup
        if wanted == _HOST:
            self._host = value
        elif wanted == _AGENT:
            self._user_agent = value
        elif wanted == _REFERER:
            self._referer = value
        elif wanted == _FORWARDED_FOR:
            if self._forwarded_for is None:
                self._forwarded_for = []
            self._forwarded_for.append(value)
        else:
            self._not_plain = True
            if name == b"expect" and value.lower() == b"100-continue":
                self.expect_100_continue = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        if self._head_timer is not None:
            self._cancel_head_timer()
        if not self._answer_here():
            self._to_asgi()

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._answered:
            super().on_message_complete()

    # -- the hot route ----------------------------------------------------------

    def _answer_here(self) -> bool:
        """Answers GET/HEAD /{token} for a link in memory; False leaves the request
        to ASGI (whose answer then keeps its place among pipelined ones)."""
        url = self.url
        redirect = self._redirect
        cycle = self.cycle
        if (
            redirect is None
            or self._not_plain
            or len(url) < TOKEN_PATH_LENGTH
            or url[0] != _SLASH
            or (len(url) > TOKEN_PATH_LENGTH and url[TOKEN_PATH_LENGTH] != _QUERY)
            or (cycle is not None and not cycle.response_complete)
            or self.pipeline
            or self.flow.write_paused
        ):
            return False
        runtime = redirect.runtime
        parser = self.parser
        method = _HOT_METHODS.get(parser.get_method())
        if runtime is None or method is None:
            return False
        token = url[1:TOKEN_PATH_LENGTH].decode("latin-1")
        link = runtime.cache.get(token)
        if link is None:
            return False  # the resolver's work, through ASGI
        started = time.perf_counter()
        _HOT.cache[_MEMORY_HIT] += 1
        answer, click = answer_hit(
            runtime,
            link,
            method,
            token,
            self._host,
            self._user_agent,
            self._referer,
            self._client_ip() if self._forwarded_for else self._peer,
        )
        # HTTP/1.0 closes unless asked not to, and uvicorn closes it even then.
        keep_alive = parser.should_keep_alive() and parser.get_http_version() != "1.0"
        self._answered = True
        clicks = runtime.clicks
        if click is not None and clicks.durable:
            # Answered once the click is fsync'd; the event loop goes on meanwhile.
            waiting = _WaitingAnswer(keep_alive)
            self.cycle = waiting  # type: ignore[assignment]
            clicks.record_in_next_group(
                click, partial(self._answer_durably, waiting, answer, method, started)
            )
            return True
        if click is not None:
            clicks.record(click)
        self._answers.add(
            self.transport,
            _response(answer, self.server_state.default_headers, method == "HEAD", keep_alive),
            not keep_alive,
        )
        self.server_state.total_requests += 1
        counted(answer, started)
        return True

    def _answer_durably(
        self,
        waiting: _WaitingAnswer,
        answer: Answer,
        method: str,
        started: float,
        failure: SpoolUnavailable | None,
    ) -> None:
        if failure is not None:
            # Durable mode promises no answered click is lost: answer none.
            answer = unavailable(answer.hit_class)
        waiting.response_complete = True
        # Counted whether or not its client stayed, as the ASGI route counts it.
        counted(answer, started)
        if self.transport.is_closing():
            return  # the client left; its click is kept all the same
        self.transport.write(
            _response(
                answer, self.server_state.default_headers, method == "HEAD", waiting.keep_alive
            )
        )
        if not waiting.keep_alive:
            self.transport.close()
        if waiting.refusal is not None and not self.transport.is_closing():
            waiting.refusal()  # of what came next: it closes
            return
        # The step after every response: the next pipelined request, or the
        # keep-alive timer.
        self.on_response_complete()

    def _client_ip(self) -> str | None:
        """The address a trusted proxy forwarded for, else the peer's."""
        peer = self._peer
        if self._forwarded_for and self._trusted is not None and peer in self._trusted:
            host, _ = self._trusted.get_trusted_client_address(
                b", ".join(self._forwarded_for).decode("latin-1")
            )
            if host:
                return host
        return peer

    # -- limits -------------------------------------------------------------------

    def _after_answers(self, refusal: Callable[[], None]) -> None:
        """Runs `refusal` (which writes and closes) once every request this
        connection read before it is answered: the pass's batch is written
        first, and a durable answer still waiting for its fsync runs it after
        its own write. uvicorn drops such an answer: its task has not run yet."""
        self._answers.write()
        waiting = self.cycle
        if isinstance(waiting, _WaitingAnswer) and not waiting.response_complete:
            waiting.refusal = refusal
            self.flow.pause_reading()
        elif not self.transport.is_closing():  # an answer may have closed it
            refusal()

    def _refuse(self, status: int, reason: bytes) -> None:
        self._cancel_head_timer()
        self._after_answers(lambda: self._write_refusal(status, reason))

    def _write_refusal(self, status: int, reason: bytes) -> None:
        self.transport.write(
            STATUS_LINE[status]
            + _DefaultHeaders.of(self.server_state.default_headers)
            + b"content-type: text/plain; charset=utf-8\r\ncontent-length: "
            + str(len(reason)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + reason
        )
        self.transport.close()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(408, b"Request Timeout")
        elif self.cycle is None and not self._answered:
            self.transport.close()  # connected, and never said a word
