"""What the redirect path costs on its own, in process: python -m bench.redirect_cost

wrk against a live server on two shared cores varies by ±15% from run to run,
which hides a change of a microsecond or two. This calls the edge's ASGI app
directly, with the scopes uvicorn would pass (a warm cache of 10,000 referral
links, an iPhone user agent, clicks captured and classified; acknowledgements
are played by emptying the buffer every batch), beside the floor app called the
same way, and prints microseconds a request for both and the difference: the
edge's own work, without uvicorn's and without sending clicks. Then the same
requests as bytes through the edge's own protocol (edge/protocol.py: parsing,
the hot route, the response bytes) into a transport that drops them. Then what
classifying a hit costs: an agent seen before (the hot path: a cache lookup)
and one never seen (the labelled corpus's agents, each made unique).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import tempfile
import time
from pathlib import Path
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from bench.floor import app as floor_app
from classifier import classify, classify_agent
from edge.answer_batch import answer_batch
from edge.cache import LinkCache
from edge.links import LinkFactory
from edge.protocol import EdgeProtocol
from edge.redirect import RedirectApp
from edge.resolver import Resolver
from edge.runtime import EdgeRuntime
from edge.tracking import ClickBuffer
from signing.keys import SigningKeys, generate_key_spec
from signing.sources import SourceMinter
from signing.tokens import mint_token
from smarturls.v1 import edge_pb2

LINKS = 10_000
CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "user_agents.csv"
DOMAIN = "share.acme.example"
AGENT = b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


def _runtime(keys: SigningKeys, spool: Path) -> tuple[EdgeRuntime, list[str]]:
    cache = LinkCache(LINKS * 2, 3600, 60)
    factory = LinkFactory()
    tokens = []
    for i in range(LINKS):
        token = mint_token(keys, 1000 + i)
        resolved = edge_pb2.ResolvedLink(
            smart_url_id=1000 + i,
            account_id=7,
            share_domain=DOMAIN,
            destination_head=f"https://shop.acme.example/welcome?campaignid=7&mbsy=ADV{i}"
            "&mbsy_source=",
            append_source=True,
            template_id=42,
            template_version=1,
        )
        cache.put(token, factory.from_proto(resolved))
        tokens.append(token)
    # Never started: nothing is sent, and nothing needs the control plane.
    clicks = ClickBuffer(None, spool, flush_interval=3600, max_batch=10**9)  # type: ignore[arg-type]
    resolver = Resolver(None, keys, cache, None, timeout=1)  # type: ignore[arg-type]
    return EdgeRuntime(cache, resolver, clicks, SourceMinter(keys)), tokens


async def _per_request(app: Any, scopes: list[dict[str, Any]], count: int, drain: Any) -> float:
    started = time.perf_counter()
    for i in range(count):
        await app(scopes[i % len(scopes)], _receive, _send)
        if i % 1000 == 999:
            drain()
    return (time.perf_counter() - started) / count * 1e6


class _Sink:
    """A connection's transport that takes the response bytes and drops them."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += 1

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        raise AssertionError("the benchmark's connection must stay open")

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("203.0.113.7", 51000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )


def _protocol(edge: RedirectApp) -> tuple[EdgeProtocol, _Sink]:
    config = Config(edge, http=EdgeProtocol, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    state.default_headers = [(b"date", b"Sun, 06 Dec 2026 04:00:00 GMT"), (b"server", b"uvicorn")]
    protocol = EdgeProtocol(config, state, {})
    sink = _Sink()
    protocol.connection_made(sink)  # type: ignore[arg-type]
    return protocol, sink


async def _protocol_per_request(
    protocol: EdgeProtocol, requests: list[bytes], count: int, drain: Any
) -> float:
    # The answers a loop pass would write together (edge/answer_batch.py):
    # written here every 1,000 requests, inside the timing.
    answers = answer_batch(asyncio.get_running_loop())
    started = time.perf_counter()
    for i in range(count):
        protocol.data_received(requests[i % len(requests)])
        if i % 1000 == 999:
            answers.write()
            drain()
    return (time.perf_counter() - started) / count * 1e6


async def main(count: int, rounds: int) -> None:
    keys = SigningKeys.parse(generate_key_spec("A"))
    with tempfile.TemporaryDirectory() as spool:
        runtime, tokens = _runtime(keys, Path(spool))
        edge = RedirectApp(floor_app)
        edge.runtime = runtime
        scopes = [
            {
                "type": "http",
                "method": "GET",
                "path": f"/{token}",
                "client": ("203.0.113.7", 51000),
                "headers": [(b"host", DOMAIN.encode()), (b"user-agent", AGENT)],
            }
            for token in tokens
        ]

        def acknowledged() -> None:
            runtime.clicks._pending.clear()

        await edge(scopes[0], _receive, _send)
        assert runtime.clicks.depth == 1, "the requests must be redirects, each a click"
        acknowledged()

        protocol, sink = _protocol(edge)
        requests = [
            f"GET /{token} HTTP/1.1\r\nHost: {DOMAIN}\r\n".encode()
            + b"User-Agent: "
            + AGENT
            + b"\r\n\r\n"
            for token in tokens
        ]
        floors, edges, below = [], [], []
        for _ in range(rounds):  # interleaved, so drift hits both alike
            floors.append(await _per_request(floor_app, scopes, count, lambda: None))
            edges.append(await _per_request(edge, scopes, count, acknowledged))
            below.append(await _protocol_per_request(protocol, requests, count, acknowledged))
        assert sink.written == rounds * count, "every request answered by the protocol itself"
        protocol._unset_keepalive_if_required()
    floor, mine, hot = min(floors), min(edges), min(below)
    cached, new = _classifier_costs(count)
    print(f"in process, best of {rounds} rounds of {count:,} requests:")
    print(f"  floor app           {floor:6.2f} µs a request")
    print(f"  edge redirect path  {mine:6.2f} µs a request")
    print(f"  the edge's own work {mine - floor:6.2f} µs a request")
    print(f"  below ASGI: parsed, answered, written by the edge's protocol {hot:6.2f} µs a request")
    print("classifying a hit:")
    print(f"  an agent seen before      {cached:8.2f} µs")
    print(f"  an agent never seen       {new:8.2f} µs (then cached per distinct agent)")


def _classifier_costs(count: int) -> tuple[float, float]:
    with CORPUS.open(newline="", encoding="utf-8") as file:
        agents = [row["user_agent"] for row in csv.DictReader(file)]
    classify_agent.cache_clear()
    unseen = [f"{agent} r{i}" for i, agent in enumerate(agents)]
    started = time.perf_counter()
    for agent in unseen:
        classify("GET", agent, None)
    new = (time.perf_counter() - started) / len(unseen) * 1e6
    started = time.perf_counter()
    for i in range(count):
        classify("GET", unseen[i % len(unseen)], None)
    return (time.perf_counter() - started) / count * 1e6, new


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
