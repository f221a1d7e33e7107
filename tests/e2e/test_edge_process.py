"""The edge as its own process: SIGTERM under load, the spool across restarts, and
durable mode surviving SIGKILL. No click answered may be lost or stored twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from control.server import start_grpc, stop_grpc
from smarturls.v1 import common_pb2, templates_pb2
from tests.e2e.test_devstack import free_port
from tests.support import KEY_SPEC, Stack

ROOT = Path(__file__).resolve().parents[2]
LINK = templates_pb2.TemplateLink(
    name="shop", kind=common_pb2.LINK_KIND_REFERRAL, destination_url="https://shop.example/"
)


class EdgeProcess:
    def __init__(self, control_port: int, spool: Path, api_key: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = dict(os.environ)
        environment.update(
            SMARTURLS_SIGNING_KEYS=KEY_SPEC,
            SMARTURLS_CONTROL_ADDRESS=f"127.0.0.1:{control_port}",
            SMARTURLS_CONTROL_API_KEY=api_key,
            SMARTURLS_EDGE_PORT=str(self.port),
            SMARTURLS_EDGE_SPOOL_DIR=str(spool),
            SMARTURLS_EDGE_FLUSH_INTERVAL="0.02",
            SMARTURLS_EDGE_DRAIN_TIMEOUT="5",
        )
        environment.update(env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    async def ready(self) -> None:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.process.poll() is None, self.process.communicate()[0]
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)

    async def stop(self, sig: int = signal.SIGTERM) -> str:
        self.process.send_signal(sig)
        output, _ = await asyncio.to_thread(self.process.communicate, timeout=30)
        return output


async def hammer(
    stack: Stack,
    edge: EdgeProcess,
    urls: list[str],
    seconds: float,
    progress: list[int] | None = None,
) -> int:
    """Clicks from 16 concurrent clients until `seconds` pass or the edge stops;
    returns how many redirects came back, counted in `progress[0]` as they do."""
    answered = [0] if progress is None else progress
    deadline = time.monotonic() + seconds

    async def client(worker: int) -> None:
        i = worker
        async with httpx.AsyncClient(timeout=5) as http:
            while time.monotonic() < deadline:
                url = urls[i % len(urls)]
                i += 16
                try:
                    response = await http.get(
                        edge.url + url[url.index("/", 8) :],
                        headers={"Host": "share.acme.example", "User-Agent": "Mozilla/5.0"},
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 302:
                    answered[0] += 1

    await asyncio.gather(*(client(w) for w in range(16)))
    return answered[0]


async def minted(stack: Stack, count: int) -> list[str]:
    account = await stack.account()
    template = await stack.template(account.account_id, common_pb2.GOAL_ORDERS, [LINK])
    return [
        (await stack.mint(account.account_id, template.template_id, f"m-{i}"))["shop"]
        for i in range(count)
    ]


# What the edge's log must never show: an exception nobody handled, or the
# noise of tasks and streams torn down carelessly when a peer goes away.
NOISE = ("Traceback", "Task was destroyed", "aclose(): asynchronous generator", "Exception in")


def quiet(output: str) -> bool:
    return not [noise for noise in NOISE if noise in output]


@pytest.mark.parametrize("durable", [False, True], ids=["clicks-in-memory", "durable-clicks"])
async def test_sigterm_under_load_loses_nothing(
    stack: Stack, tmp_path: Path, durable: bool
) -> None:
    """In durable mode the answers in flight wait for their group's fsync when
    the signal comes: they are written before the edge closes."""
    urls = await minted(stack, 20)
    env = {"SMARTURLS_EDGE_DURABLE_CLICKS": "1"} if durable else {}
    edge = EdgeProcess(stack.control.port, tmp_path / "spool", await stack.keys.key("edge"), **env)
    await edge.ready()
    progress = [0]
    load = asyncio.create_task(hammer(stack, edge, urls, seconds=60, progress=progress))
    # Under load by count, not by a fixed sleep: a slow or busy machine answers
    # fewer requests a second, and a signal sent before any load proves nothing.
    deadline = time.monotonic() + 30
    while progress[0] < 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    output = await edge.stop(signal.SIGTERM)
    answered = await load
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert edge.process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert quiet(output), output
    assert answered >= 200, "the edge never came under load"
    await stack.wait_for_clicks(answered)
    await asyncio.sleep(0.3)
    assert await stack.stored_clicks() == answered
    assert not list((tmp_path / "spool").glob("*.spool"))


async def test_clicks_spooled_at_shutdown_are_replayed_by_the_next_edge(
    stack: Stack, tmp_path: Path
) -> None:
    urls = await minted(stack, 5)
    spool = tmp_path / "spool"
    port = stack.control.port
    edge = EdgeProcess(port, spool, await stack.keys.key("edge"))
    await edge.ready()
    # Clicks while the control plane is up (this also caches the links)...
    answered = await hammer(stack, edge, urls, seconds=0.3)
    await stop_grpc(stack.control, 0)
    # ...and while it is away: the cached links keep redirecting.
    answered += await hammer(stack, edge, urls, seconds=0.5)
    output = await edge.stop()
    assert "spooled" in output or list(spool.glob("*.spool")), output
    # The control plane went away mid-stream: warnings, not tracebacks.
    assert quiet(output), output
    assert await stack.stored_clicks() < answered

    # The next edge, with the control plane back, replays the spool: each click once.
    stack.control = await start_grpc(stack.deps, f"127.0.0.1:{port}")
    edge = EdgeProcess(port, spool, await stack.keys.key("edge"))
    await edge.ready()
    await stack.wait_for_clicks(answered)
    await asyncio.sleep(0.3)
    assert await stack.stored_clicks() == answered
    assert not list(spool.glob("*.spool"))
    assert quiet(await edge.stop())


async def test_durable_mode_survives_sigkill(stack: Stack, tmp_path: Path) -> None:
    urls = await minted(stack, 10)
    spool = tmp_path / "spool"
    edge = EdgeProcess(
        stack.control.port,
        spool,
        await stack.keys.key("edge"),
        SMARTURLS_EDGE_DURABLE_CLICKS="1",
        SMARTURLS_EDGE_FLUSH_INTERVAL="30",
    )
    await edge.ready()
    # Enough answered clicks to lose some, however slow this machine's fsync is today.
    answered, deadline = 0, time.monotonic() + 20
    while answered <= 20 and time.monotonic() < deadline:
        answered += await hammer(stack, edge, urls, seconds=1.0)
    assert answered > 20
    await edge.stop(signal.SIGKILL)
    edge = EdgeProcess(
        stack.control.port, spool, await stack.keys.key("edge"), SMARTURLS_EDGE_DURABLE_CLICKS="1"
    )
    await edge.ready()
    await stack.wait_for_clicks(answered)
    await asyncio.sleep(0.3)
    assert await stack.stored_clicks() == answered
    await edge.stop()
