"""The edge benchmark: `python3 tasks.py bench-edge`. Not part of the test run.

Starts its own embedded PostgreSQL, control plane and edge (one uvicorn worker
each), plus a raw ASGI 302 app on the same server stack (the floor), and drives
them with wrk from a separate process. Prints, from one run on this machine:
redirects/s, p50/p99 and CPU per request of the floor, the raw protocol, the
edge with a warm cache and in durable mode (each the median of --rounds runs,
the servers taking turns), of the edge with 10% cold tokens, and of the floor
again while the edge's clicks are stored beside it (bench.click_feeder at the
edge's warm rate); the click pipeline alone; edge memory at 500k cached links;
and the per-call cost of the in-process cache candidates.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from statistics import median

import asyncpg
import grpc
import httpx

from common.control_channel import control_channel
from devstack.demo import referral_template, smart_url_account
from devstack.keys import create_key
from signing.keys import SigningKeys, generate_key_spec
from signing.tokens import verify_token
from smarturls.v1 import (
    common_pb2,
    minting_pb2,
    minting_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
)

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "share.bench.example"
CONNECTIONS = 64


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Production runs the edge on its own machines; here two cores are shared by the
# load generator, the server under test, the control plane and PostgreSQL. So the
# server under test (edge or floor) gets core 1 to itself, everything else core 0,
# where the control plane and PostgreSQL yield to wrk (nice 19, and wrk at
# SCHED_FIFO where allowed: see realtime()): in production
# they run elsewhere, and a starved load generator would measure itself, not the
# edge. Clicks they have not stored by the end of a run are stored after it, and
# the table says how long that took.
SERVER_CPU, OTHERS_CPU = 1, 0


def pinned(cpu: int, *, yielding: bool = False) -> list[str]:
    prefix = ["nice", "-n", "19"] if yielding and shutil.which("nice") else []
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return [*prefix, "taskset", "-c", str(cpu)]
    return prefix


@functools.cache
def realtime() -> list[str]:
    """The prefix that runs the load generator at SCHED_FIFO, where allowed.

    wrk shares a core with the control plane and PostgreSQL storing the clicks,
    and nice 19 on them does not stop them from delaying it: the servers would
    wait for requests wrk is late to send. At SCHED_FIFO wrk preempts them
    whenever it has work (the kernel still leaves them 5% of every second), so
    the servers are measured, not wrk.
    """
    chrt = shutil.which("chrt")
    if chrt and subprocess.run([chrt, "-f", "1", "true"], check=False).returncode == 0:
        return [chrt, "-f", "1"]
    return []


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=False, stdout=subprocess.DEVNULL
        )
        wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return wrk


class Services:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.keys = generate_key_spec("A")
        self.control_port, self.edge_port = free_port(), free_port()
        self.floor_port, self.shaped_port = free_port(), free_port()
        self.raw_port, self.durable_port = free_port(), free_port()
        self.env = dict(os.environ)
        self.env.pop("DATABASE_URL", None)
        self.env.update(
            SMARTURLS_SIGNING_KEYS=self.keys,
            SMARTURLS_DATA_DIR=str(workdir),
            SMARTURLS_GRPC_LISTEN=f"127.0.0.1:{self.control_port}",
            SMARTURLS_CONTROL_ADDRESS=f"127.0.0.1:{self.control_port}",
            SMARTURLS_CONTROL_METRICS_PORT="0",
            SMARTURLS_EDGE_PORT=str(self.edge_port),
            SMARTURLS_EDGE_SPOOL_DIR=str(workdir / "spool"),
        )
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(
        self, *args: str, cpu: int, yielding: bool = False, **env: str
    ) -> subprocess.Popen[bytes]:
        """`env`: variables for this process only, over the shared ones."""
        # Each process logs to a file of its own, printed if the benchmark fails.
        log = self.workdir / f"{len(self.processes)}-{args[1]}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*pinned(cpu, yielding=yielding), sys.executable, *args],
                cwd=ROOT,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def print_logs(self, lines: int = 30) -> None:
        for log in sorted(self.workdir.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- {log.name} (last {len(tail)} lines)", *tail, sep="\n", file=sys.stderr)

    def channel(self, api_key: str) -> grpc.aio.Channel:
        return control_channel(f"127.0.0.1:{self.control_port}", api_key)

    async def admin_key(self) -> str:
        """The key the control plane makes on the embedded default at start-up."""
        path = self.workdir / "admin.key"
        for _ in range(1200):
            if path.exists():
                return path.read_text().strip()
            await asyncio.sleep(0.1)
        raise SystemExit(f"{path} did not appear")

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def seed(services: Services, admin: str, count: int, prefix: str) -> list[str]:
    """Mints `count` messages of one referral link each (an account of their own,
    set up with the admin key, minted with its own sender key); returns the token paths."""
    async with services.channel(admin) as channel:
        account = await smart_url_account(channel, "bench", f"{prefix}.{DOMAIN}")
        template = await referral_template(
            channel,
            account.account_id,
            "bench",
            "https://shop.bench.example/welcome?campaignid=7",
        )
    sent = minting_pb2.MintSmartUrlsRequest().sent_at
    sent.FromSeconds(int(time.time()) - 3600)

    async def requests() -> AsyncIterator[minting_pb2.MintSmartUrlsRequest]:
        for i in range(count):
            yield minting_pb2.MintSmartUrlsRequest(
                account_id=account.account_id,
                template_id=template.template_id,
                message_id=f"{prefix}-{i}",
                advocate_shortcode=f"ADV{i}",
                sent_at=sent,
            )

    sender = await asyncio.to_thread(create_key, services.env, "sender", account.account_id)
    async with services.channel(sender) as channel:
        stream = minting_pb2_grpc.MintingServiceStub(channel).MintSmartUrlsStream(requests())
        return [r.links[0].url.split("/", 3)[3] async for r in stream]


async def hot_message(services: Services, admin: str) -> list[int]:
    """One message of a three-link template; its links' ids."""
    async with services.channel(admin) as channel:
        account = await smart_url_account(channel, "hot message", f"msg.{DOMAIN}")
        template = await templates_pb2_grpc.TemplateServiceStub(channel).CreateTemplate(
            templates_pb2.CreateTemplateRequest(
                account_id=account.account_id,
                name="three links",
                channel=common_pb2.CHANNEL_EMAIL,
                goal=common_pb2.GOAL_ORDERS,
                links=[
                    templates_pb2.TemplateLink(
                        name=name,
                        kind=common_pb2.LINK_KIND_TRACKED,
                        destination_url=f"https://shop.bench.example/{name}",
                    )
                    for name in ("a", "b", "c")
                ],
            )
        )
    sender = await asyncio.to_thread(create_key, services.env, "sender", account.account_id)
    request = minting_pb2.MintSmartUrlsRequest(
        account_id=account.account_id,
        template_id=template.template_id,
        message_id="hot",
        advocate_shortcode="HOT",
    )
    request.sent_at.FromSeconds(int(time.time()) - 3600)
    async with services.channel(sender) as channel:
        reply = await minting_pb2_grpc.MintingServiceStub(channel).MintSmartUrls(request)
    keys = SigningKeys.parse(services.keys)
    return [verify_token(keys, link.url.rsplit("/", 1)[1]) or 0 for link in reply.links]


def lua_script(path: Path, tokens: list[str], cold: list[str], cold_every: int, host: str) -> None:
    """wrk script: round-robin over warm tokens; every Nth request a never-seen token."""
    warm = ",".join(f'"{t}"' for t in tokens)
    cold_list = ",".join(f'"{t}"' for t in cold) or '""'
    path.write_text(f"""
local warm = {{{warm}}}
local cold = {{{cold_list}}}
local i, c = 0, 0
request = function()
  i = i + 1
  local token
  if {cold_every} > 0 and i % {cold_every} == 0 and c < #cold then
    c = c + 1
    token = cold[c]
  else
    token = warm[(i % #warm) + 1]
  end
  return wrk.format("GET", "/" .. token, {{["Host"] = "{host}", ["User-Agent"] =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1"}})
end
""")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its threads so far (user + system)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def run_wrk(
    wrk: str,
    url: str,
    script: Path | None,
    seconds: int,
    server_pid: int | None = None,
    *,
    waits_on_control: bool = False,
) -> dict[str, float]:
    """wrk's figures; with `server_pid`, also the server's CPU: how busy it was
    over the run and its CPU time per answered request. A server short of 100%
    waited for requests: the load generator, on the other core, was short of CPU.

    `waits_on_control`: the requests wait on the control plane (cold tokens), so
    wrk must not take its core from it, and runs at plain priority."""
    args = [
        *([] if waits_on_control else realtime()),
        *pinned(OTHERS_CPU),
        wrk,
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
    ]
    if script is not None:
        args += ["-s", str(script)]
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    started = time.monotonic()
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non_3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": pct("50"),
        "p99": pct("99"),
        "errors": float(non_3xx.group(1)) if non_3xx else 0.0,
        "busy": cpu / elapsed,
        "cpu_us": cpu / max(answered, 1) * 1e6,
    }


def spread_over_all_cores(control_pid: int, workdir: Path) -> None:
    """The pipeline's own machines: every core, at normal priority, for the control
    plane, PostgreSQL (its postmaster names the data directory) and every backend
    (whose command lines do not: they are found as the postmaster's children)."""
    import psutil

    cores = list(range(os.cpu_count() or 1))
    roots = [
        p
        for p in psutil.process_iter(["pid", "cmdline"])
        if p.info["pid"] == control_pid or str(workdir) in " ".join(p.info["cmdline"] or [])
    ]
    processes = list(roots)
    for root in roots:
        with contextlib.suppress(psutil.Error):
            processes += root.children(recursive=True)
    # Affinity and nice value are per thread on Linux: set on a process id they
    # reach its main thread only, and left the control plane's gRPC threads on
    # the load generator's core at nice 19.
    for process in processes:
        with contextlib.suppress(psutil.Error):
            for thread in process.threads():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(thread.id, cores)
                    os.setpriority(os.PRIO_PROCESS, thread.id, 0)


async def floor_beside_storage(
    services: Services,
    wrk: str,
    script: Path,
    seconds: int,
    rate: float,
    tokens: list[str],
    floor_pid: int,
) -> tuple[dict[str, float], int]:
    """The floor again, while the control plane and PostgreSQL store clicks at the
    edge's warm rate on the other core, as they do during the edge's own run: the
    same machine conditions for both sides of the ratio. The feeder does the
    encoding and sending the edge does on its own core, at nice 19 on the other."""
    from signing.keys import SigningKeys
    from signing.tokens import verify_token

    keys = SigningKeys.parse(services.keys)
    ids_file = services.workdir / "feeder-ids.json"
    ids_file.write_text(json.dumps([verify_token(keys, t) for t in tokens]))
    feeder = services.start(
        "-m",
        "bench.click_feeder",
        str(ids_file),
        f"{rate:.0f}",
        str(seconds + 1),
        cpu=OTHERS_CPU,
        yielding=True,
    )
    await asyncio.sleep(0.5)  # its stream open and its first batches stored
    result = await asyncio.to_thread(
        run_wrk, wrk, f"http://127.0.0.1:{services.floor_port}", script, seconds, floor_pid
    )
    code = await asyncio.to_thread(feeder.wait, 120)
    # Services.start sends its output to a log of its own: the count is the last word.
    out = sorted(services.workdir.glob("*-bench.click_feeder.log"))[-1].read_text().split()
    if code != 0 or not out:
        raise SystemExit("the click feeder failed")
    return result, int(out[-1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def warm(edge_url: str, host: str, tokens: list[str]) -> None:
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        sem = asyncio.Semaphore(32)

        async def one(token: str) -> None:
            async with sem:
                try:
                    await client.get(f"{edge_url}/{token}", headers={"Host": host})
                except httpx.RemoteProtocolError:
                    # A pooled connection the edge closed as idle (its keep-alive
                    # timeout) just as it was reused, while a slow cold request
                    # held up the rest of the chunk: a browser sends it again.
                    await client.get(f"{edge_url}/{token}", headers={"Host": host})

        for i in range(0, len(tokens), 5000):
            await asyncio.gather(*(one(t) for t in tokens[i : i + 5000]))


def fill_with_wrk(wrk: str, edge_url: str, host: str, tokens: list[str], workdir: Path) -> None:
    """Requests every token once, through wrk: an httpx client in this process
    tops out at a couple of thousand requests a second, wrk does not. wrk runs
    for its whole duration whatever the script does, so the script leaves a
    file when every token was answered and wrk is stopped then."""
    script = workdir / "fill.lua"
    done = workdir / "fill.done"
    listed = ",".join(f'"{t}"' for t in tokens)
    script.write_text(f"""
local tokens = {{{listed}}}
local sent, answered = 0, 0
request = function()
  sent = sent + 1
  return wrk.format("GET", "/" .. tokens[((sent - 1) % #tokens) + 1], {{["Host"] = "{host}"}})
end
response = function()
  answered = answered + 1
  if answered == #tokens then io.open("{done}", "w"):close() end
end
""")
    process = subprocess.Popen(
        [wrk, "-t1", "-c32", "-d3600s", "-s", str(script), edge_url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not done.exists() and process.poll() is None:
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    process.wait(30)


async def stored_clicks(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM clicks"))
    finally:
        await conn.close()


async def settled_clicks(dsn: str) -> int:
    """The stored count once the edge's backlog has drained (no change for 2 s)."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < 2:
        count = await stored_clicks(dsn)
        if count != last:
            last, since = count, time.monotonic()
        await asyncio.sleep(0.2)
    return last


async def click_pipeline(
    services: Services, dsn: str, ids: list[int], count: int, *, rotate: bool = False
) -> float:
    """Feeds the edge's click buffer directly with clicks on `ids` (at random, or
    in turn with `rotate`); returns clicks/s until all are stored."""
    from bench.click_feeder import human_click
    from edge.tracking import ClickBuffer
    from smarturls.v1 import edge_pb2_grpc

    order = random.Random(7)
    before = await settled_clicks(dsn)
    async with services.channel(services.env["SMARTURLS_CONTROL_API_KEY"]) as channel:
        buffer = ClickBuffer(
            edge_pb2_grpc.EdgeServiceStub(channel),
            services.workdir / "bench-spool",
            flush_interval=0.02,
            max_batch=5000,
        )
        # Built before the clock starts: making clicks is the redirect path's work,
        # measured above; this measures the buffer, gRPC and PostgreSQL.
        clicks = [
            human_click(ids[i % len(ids)] if rotate else order.choice(ids)) for i in range(count)
        ]
        buffer.start()
        started = time.perf_counter()
        for i, click in enumerate(clicks):
            buffer.record(click)
            if i % 5000 == 0:
                await asyncio.sleep(0)
        while await stored_clicks(dsn) < before + count:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await buffer.close(10)
    stored = await stored_clicks(dsn) - before
    assert stored == count, f"fed {count}, stored {stored}"
    return count / elapsed


async def pipeline_workloads(
    services: Services, admin: str, dsn: str, tokens: list[str], clicks: int
) -> None:
    """The click pipeline's three workloads, one after the other, each printed:
    spread over the seeded links (a campaign's), one hot link, one hot message."""
    keys = SigningKeys.parse(services.keys)
    spread = [verify_token(keys, t) or 0 for t in tokens]
    message = await hot_message(services, admin)
    print(f"click pipeline (buffer -> gRPC -> PostgreSQL), {clicks:,} clicks each:")
    for name, ids, rotate in (
        ("spread over many links", spread, False),
        ("one hot link", spread[:1], False),
        ("one hot message (3 links)", message, True),
    ):
        rate = await click_pipeline(services, dsn, ids, clicks, rotate=rotate)
        print(f"  {name:28} {rate:10,.0f} clicks/s sustained, stored == fed")


async def cache_costs() -> dict[str, float]:
    """ns per get of a cached key: the candidates for the in-process tier."""
    import cachetools
    from aiocache import SimpleMemoryCache

    from edge.cache import LinkCache
    from edge.links import CachedLink, LinkShape, PreviewCard

    keys = [f"A{i:011d}" for i in range(1000)]
    n = 200_000
    results: dict[str, float] = {}
    ttl_cache: cachetools.TTLCache[str, str] = cachetools.TTLCache(maxsize=10**6, ttl=3600)
    ours = LinkCache(10**6, 3600, 60)
    card = PreviewCard("", "", "")
    for k in keys:
        ttl_cache[k] = k
        ours.put(k, CachedLink(1, b"h", LinkShape("d", b"", b"", False, 1, 1, card)))
    t = time.perf_counter()
    for i in range(n):
        ttl_cache.get(keys[i % 1000])
    results["cachetools.TTLCache"] = (time.perf_counter() - t) / n * 1e9
    t = time.perf_counter()
    for i in range(n):
        ours.get(keys[i % 1000])
    results["edge LinkCache"] = (time.perf_counter() - t) / n * 1e9
    memory = SimpleMemoryCache()

    async def aio() -> float:
        for k in keys:
            await memory.set(k, k, ttl=3600)
        t = time.perf_counter()
        for i in range(n // 10):
            await memory.get(keys[i % 1000])
        return (time.perf_counter() - t) / (n // 10) * 1e9

    results["aiocache SimpleMemoryCache"] = await aio()
    return results


async def main(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    print("in-process cache, ns per hit:")
    for name, ns in (await cache_costs()).items():
        print(f"  {name:28} {ns:8.0f}")
    workdir = Path(tempfile.mkdtemp(prefix="smarturls-bench-"))
    services = Services(workdir)
    try:
        # PostgreSQL is started by the control plane and inherits its core.
        services.start("-m", "control", "serve", cpu=OTHERS_CPU, yielding=True)
        floors = []
        for app, port in (
            ("bench.floor:app", services.floor_port),
            ("bench.floor:edge_shaped", services.shaped_port),
        ):
            server = services.start(
                "-m",
                "uvicorn",
                app,
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
                cpu=SERVER_CPU,
            )
            floors.append(server.pid)
        floor_pid, shaped_pid = floors
        raw = services.start("-m", "bench.raw_protocol", str(services.raw_port), cpu=SERVER_CPU)
        admin = await services.admin_key()
        async with services.channel(admin) as channel:
            await asyncio.wait_for(channel.channel_ready(), 120)
        tokens = await seed(services, admin, args.links, "hot")
        cold = await seed(services, admin, args.cold, "cold")
        services.env["SMARTURLS_CONTROL_API_KEY"] = create_key(services.env, "edge")
        edge = services.start("-m", "edge", cpu=SERVER_CPU)
        edge_url = f"http://127.0.0.1:{services.edge_port}"
        durable = services.start(
            "-m",
            "edge",
            cpu=SERVER_CPU,
            SMARTURLS_EDGE_PORT=str(services.durable_port),
            SMARTURLS_EDGE_SPOOL_DIR=str(workdir / "durable-spool"),
            SMARTURLS_EDGE_DURABLE_CLICKS="true",
        )
        durable_url = f"http://127.0.0.1:{services.durable_port}"
        await wait_http(f"http://127.0.0.1:{services.floor_port}/")
        await wait_http(f"http://127.0.0.1:{services.shaped_port}/")
        await wait_http(f"{edge_url}/healthz")
        await wait_http(f"{durable_url}/healthz")
        await warm(edge_url, f"hot.{DOMAIN}", tokens)
        await warm(durable_url, f"hot.{DOMAIN}", tokens)
        dsn = f"postgresql://postgres@/postgres?host={workdir / 'pgdata'}"

        script = workdir / "warm.lua"
        lua_script(script, tokens, [], 0, f"hot.{DOMAIN}")
        # The floor gets the very requests the edge gets (same paths and headers
        # from the same script), so both runs cost wrk the same.
        servers = {
            "floor": (f"http://127.0.0.1:{services.floor_port}", floor_pid),
            "shaped": (f"http://127.0.0.1:{services.shaped_port}", shaped_pid),
            "raw": (f"http://127.0.0.1:{services.raw_port}", raw.pid),
            "edge": (edge_url, edge.pid),
            "durable": (durable_url, durable.pid),
        }
        # This machine's speed drifts by tens of percent within a minute (a
        # virtual machine's neighbours), so every server runs once per round,
        # in turn, and each figure is the median over the rounds; a ratio is
        # taken within each round (the two runs seconds apart), then its median.
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in [*servers, "loaded"]}
        fed = 0
        for round_ in range(args.rounds):
            for name, (url, pid) in servers.items():
                profiling = args.profile and name == "edge" and round_ == 0
                if profiling:
                    spy = subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "-o",
                            args.profile,
                            "-f",
                            "raw",
                            "-d",
                            str(args.seconds),
                            "-p",
                            str(pid),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                runs[name].append(
                    await asyncio.to_thread(run_wrk, wrk, url, script, args.seconds, pid)
                )
                if profiling:
                    spy.wait()
                if name in ("edge", "durable"):
                    # Each row stores its own clicks beside it and no other row's
                    # backlog: the durable edge runs right after the edge.
                    await settled_clicks(dsn)
            loaded, fed_now = await floor_beside_storage(
                services, wrk, script, args.seconds, runs["edge"][-1]["rps"], tokens, floor_pid
            )
            runs["loaded"].append(loaded)
            fed += fed_now
            await settled_clicks(dsn)
        cold_script = workdir / "cold.lua"
        lua_script(cold_script, tokens, cold, 10, f"hot.{DOMAIN}")
        # Cold tokens live on their own domain: they answer 404 here, after the same
        # miss path (MAC check, control-plane resolve) a real cold link takes.
        cold_run = run_wrk(
            wrk, edge_url, cold_script, args.seconds, edge.pid, waits_on_control=True
        )
        drained = time.monotonic()
        clicks = await settled_clicks(dsn)
        drain_seconds = time.monotonic() - drained - 2

        def typical(name: str) -> dict[str, float]:
            return {key: median(r[key] for r in runs[name]) for key in runs[name][0]}

        def ratio(name: str, key: str, against: str = "floor") -> float:
            """Per round; for CPU per request, less is better, so against/name."""
            pairs = zip(runs[name], runs[against], strict=True)
            if key == "cpu_us":
                return median(b[key] / a[key] for a, b in pairs)
            return median(a[key] / b[key] for a, b in pairs)

        print(
            f"\nredirects, {CONNECTIONS} connections, one worker; median of {args.rounds}"
            f" rounds of {args.seconds}s per server, the servers in turn:"
        )
        print(
            f"  {'':36} {'req/s':>9} {'x floor':>8} {'p50 ms':>8} {'p99 ms':>8}"
            f" {'busy':>6} {'CPU µs/req':>11} {'x floor':>8}"
        )
        rows = [
            ("floor (raw ASGI 302)", "floor"),
            ("raw 302, the edge's headers", "shaped"),
            ("raw protocol 302 (no ASGI: the limit)", "raw"),
            ("edge, warm cache", "edge"),
            ("edge, warm cache, durable clicks", "durable"),
            ("floor, the edge's clicks stored too", "loaded"),
        ]
        for label, name in rows:
            result = typical(name)
            print(
                f"  {label:36} {result['rps']:9.0f} {ratio(name, 'rps'):8.2f}"
                f" {result['p50']:8.2f} {result['p99']:8.2f}"
                f" {result['busy']:6.0%} {result['cpu_us']:11.1f} {ratio(name, 'cpu_us'):8.2f}"
            )
        floor = typical("floor")
        print(
            f"  {'edge, 10% cold tokens (one run)':36} {cold_run['rps']:9.0f}"
            f" {cold_run['rps'] / floor['rps']:8.2f}"
            f" {cold_run['p50']:8.2f} {cold_run['p99']:8.2f}"
            f" {cold_run['busy']:6.0%} {cold_run['cpu_us']:11.1f}"
            f" {floor['cpu_us'] / cold_run['cpu_us']:8.2f}"
        )
        print(
            f"  clicks stored in all: {clicks:,} (the backlog drained"
            f" {drain_seconds:.1f}s after the cold run)"
        )
        edge_cpu = [
            f"{f['cpu_us'] / e['cpu_us']:.2f}"
            for e, f in zip(runs["edge"], runs["floor"], strict=True)
        ]
        print(
            f"  edge, warm cache, in CPU per request against the floor's, per round:"
            f" {', '.join(edge_cpu)}; median {ratio('edge', 'cpu_us'):.2f}"
        )
        print(
            f"  the floor again while clicks were stored beside it at the edge's warm rate"
            f" ({fed:,} clicks over the rounds): against it, per round, the edge's CPU"
            f" per request is {ratio('edge', 'cpu_us', 'loaded'):.2f} (median)"
        )
        print(
            f"  durable against the edge: {ratio('durable', 'rps', 'edge'):.2f} in req/s,"
            f" {ratio('durable', 'cpu_us', 'edge'):.2f} in CPU per request"
        )

        # The pipeline's own machines: the control plane and PostgreSQL get both cores.
        spread_over_all_cores(services.processes[0].pid, workdir)
        print()
        await pipeline_workloads(services, admin, dsn, tokens + cold, args.clicks)

        if args.memory_links:
            before = rss_mb(edge.pid)
            many = await seed(services, admin, args.memory_links, "mem")
            await asyncio.to_thread(fill_with_wrk, wrk, edge_url, f"mem.{DOMAIN}", many, workdir)
            # Once the fill's clicks are stored: what the links cost, not a backlog.
            await settled_clicks(dsn)
            after = rss_mb(edge.pid)
            print(
                f"\nedge memory: {before:.0f} MB before, {after:.0f} MB RSS with"
                f" {args.memory_links + args.links:,} cached links"
            )
    except BaseException:
        services.print_logs()
        raise
    finally:
        services.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--cold", type=int, default=40_000)
    parser.add_argument("--clicks", type=int, default=300_000)
    parser.add_argument("--memory-links", type=int, default=500_000)
    parser.add_argument("--profile", help="write a py-spy profile of the warm run here")
    asyncio.run(main(parser.parse_args()))
