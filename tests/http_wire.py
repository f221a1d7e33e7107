"""A raw HTTP/1.1 client for conformance tests: sends bytes as given, reads
what comes back and splits it into responses by their own framing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class WireResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def framing(self) -> tuple[int, str, bool]:
        """What must not differ between two servers: status, how the body is
        delimited, whether the server closes after it."""
        if "transfer-encoding" in self.headers:
            delimited = "chunked"
        elif "content-length" in self.headers:
            delimited = f"length {self.headers['content-length']}"
        else:
            delimited = "none"
        return self.status, delimited, self.headers.get("connection", "") == "close"


@dataclass(frozen=True)
class Exchange:
    responses: list[WireResponse]
    # The server closed the connection (rather than leaving it open for more).
    closed: bool
    # Bytes after the last whole response: a desynchronised stream shows here.
    leftover: bytes


def _parse(data: bytes, head_request: list[bool]) -> tuple[list[WireResponse], bytes]:
    """The responses in `data`, interim ones (100 Continue) included, and what is
    left after the last whole one."""
    responses: list[WireResponse] = []
    final = 0  # the final responses so far: the index of the request answered next
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return responses, data
        lines = data[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = data[end + 4 :]
        is_head = head_request[final] if final < len(head_request) else False
        if status == 100:
            responses.append(WireResponse(status, headers, b""))
            data = rest
            continue
        final += 1
        if is_head or status in (204, 304):
            body, rest = b"", rest
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body, size_end = b"", 0
            while True:
                line_end = rest.find(b"\r\n", size_end)
                if line_end < 0:
                    return responses, data
                size = int(rest[size_end:line_end].split(b";")[0], 16)
                chunk_start = line_end + 2
                if size == 0:
                    trailer_end = rest.find(b"\r\n", chunk_start)
                    if trailer_end < 0:
                        return responses, data
                    rest = rest[trailer_end + 2 :]
                    break
                if len(rest) < chunk_start + size + 2:
                    return responses, data
                body += rest[chunk_start : chunk_start + size]
                size_end = chunk_start + size + 2
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if len(rest) < length:
                return responses, data
            body, rest = rest[:length], rest[length:]
        else:
            body, rest = rest, b""
        responses.append(WireResponse(status, headers, body))
        data = rest


def final_responses(responses: list[WireResponse]) -> list[WireResponse]:
    return [r for r in responses if r.status != 100]


async def exchange(
    port: int,
    request: bytes,
    *,
    expect: int = 1,
    heads: list[bool] | None = None,
    timeout: float = 3.0,
    linger: float = 0.3,
) -> Exchange:
    """Sends `request` on a new connection and reads until `expect` final responses
    have come (then `linger` seconds more, to see whether the server closes),
    the server closes, or nothing comes for `timeout` seconds. `heads`: which
    requests are HEAD (their responses have no body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    received = b""
    closed = False
    heads = heads or []
    try:
        writer.write(request)
        await writer.drain()
        while True:
            done = len(final_responses(_parse(received, heads)[0])) >= expect
            try:
                chunk = await asyncio.wait_for(reader.read(65536), linger if done else timeout)
            except TimeoutError:
                break
            if not chunk:
                closed = True
                break
            received += chunk
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionResetError, BrokenPipeError):
            pass
    responses, leftover = _parse(received, heads)
    return Exchange(responses, closed, leftover)
