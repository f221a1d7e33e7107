"""The dashboard and minting benchmark: `python3 tasks.py bench-dashboard`.

Not part of the test run. Starts its own embedded PostgreSQL and control plane
(a separate process, as in production), loads an account with 10M clicks and
100k conversions over 90 days straight into PostgreSQL, builds the rollups,
and prints from one run on this machine:

- p50/p99 of GetTemplatePerformance (one template, 90 days) and of
  ListTemplatePerformance (the account's whole list, 90 days), beside GetAccount
  (a one-row lookup: the floor of any call) and beside counting one template's
  raw clicks at request time (the ratio shows why the dashboards read rollups);
- p50/p99 of the Performance Center's pages (the console, its own process,
  signed in with the dashboard key): the Emails Dashboard and a template page
  over 90 days, timed from the HTTP client over loopback (so the server's own
  time is at most that);
- minting throughput: 1M Smart URLs through MintSmartUrlsBatches, and a share
  of that through MintSmartUrlsStream (one message a request), in seconds.

`--clicks` and `--conversions` scale the load (e.g. a quick look with 1M).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc
import httpx

from bench.edge_bench import free_port
from common.control_channel import control_channel
from control.db.embedded import EmbeddedPostgres
from control.db.migrate import apply_migrations
from control.domain.api_keys import create_api_key
from control.domain.partitions import ClickPartitions
from control.domain.rollup_repair import rebuild
from devstack.demo import referral_template
from signing.keys import generate_key_spec
from smarturls.v1 import (
    accounts_pb2,
    accounts_pb2_grpc,
    dashboard_pb2,
    dashboard_pb2_grpc,
    minting_pb2,
    minting_pb2_grpc,
)

ROOT = Path(__file__).resolve().parent.parent
DAYS = 90
TEMPLATES = 50
MESSAGES = 1_000_000
CALLS = 300


def log(text: str) -> None:
    print(text, flush=True)


async def setup_account(conn: asyncpg.Connection) -> tuple[int, list[int]]:
    account_id = await conn.fetchval(
        "INSERT INTO accounts (name, smart_urls_enabled, share_domain)"
        " VALUES ('bench', true, 'share.bench.example') RETURNING account_id"
    )
    goals = ["ORDERS", "SIGNUPS", "ADVOCATE_SHARE", None]
    template_ids = []
    for i in range(TEMPLATES):
        template_id = await conn.fetchval(
            "INSERT INTO templates (account_id, name, channel) VALUES ($1, $2, $3)"
            " RETURNING template_id",
            account_id,
            f"template {i:02d}",
            "SMS" if i % 3 == 2 else "EMAIL",
        )
        await conn.execute(
            "INSERT INTO template_links (account_id, template_id, name, position, kind,"
            " destination_url) VALUES ($1, $2, 'ref', 0, 'REFERRAL', 'https://shop.example/')",
            account_id,
            template_id,
        )
        await conn.execute(
            "INSERT INTO template_goals (account_id, template_id, goal, effective_from)"
            " VALUES ($1, $2, $3, now() - interval '120 days')",
            account_id,
            template_id,
            goals[i % len(goals)],
        )
        template_ids.append(template_id)
    return account_id, template_ids


async def load(
    conn: asyncpg.Connection, clicks: int, conversions: int, messages: int
) -> tuple[int, list[int]]:
    account_id, template_ids = await setup_account(conn)
    now = datetime.now(UTC)
    start = now - timedelta(days=DAYS)
    await ClickPartitions(0).ensure(conn, start, now)
    began = time.perf_counter()
    await conn.execute(
        "INSERT INTO messages (account_id, external_message_id, template_id,"
        " advocate_shortcode, share_domain, sent_at)"
        " SELECT $1, 'm-' || g, ($2::bigint[])[1 + g % $3], 'ADV' || g, 'share.bench.example',"
        "        $4::timestamptz"
        "        + random() * ($5::timestamptz - $4::timestamptz - interval '3 days')"
        " FROM generate_series(1, $6) g",
        account_id,
        template_ids,
        len(template_ids),
        start,
        now,
        messages,
    )
    await conn.execute(
        "INSERT INTO smart_urls (smart_url_id, account_id, message_id, template_id, link_name,"
        " kind, key_id, sent_at, channel)"
        " SELECT nextval('smart_url_ids'), m.account_id, m.message_id, m.template_id, 'ref',"
        " 'REFERRAL', 'A', m.sent_at, t.channel FROM messages m"
        " JOIN templates t ON t.account_id = m.account_id AND t.template_id = m.template_id"
        " WHERE m.account_id = $1",
        account_id,
    )
    await conn.execute("ANALYZE messages; ANALYZE smart_urls")
    log(f"  {messages:,} messages and links in {time.perf_counter() - began:.0f} s")
    chunk = 1_000_000
    first = await conn.fetchval(
        "SELECT min(message_id) FROM messages WHERE account_id = $1", account_id
    )
    for done in range(0, clicks, chunk):
        began = time.perf_counter()
        n = min(chunk, clicks - done)
        # Each click: a random message, some time in the 3 days after it was sent;
        # 85% human, the rest scanners, previewers and bots.
        await conn.execute(
            "INSERT INTO clicks (click_id, account_id, smart_url_id, message_id, template_id,"
            " kind, clicked_at, method, user_agent, hit_class)"
            " SELECT gen_random_uuid(), s.account_id, s.smart_url_id, s.message_id,"
            "        s.template_id, 'REFERRAL',"
            "        least(m.sent_at + random() * interval '3 days', $4::timestamptz), 'GET',"
            "        'Mozilla/5.0', (ARRAY['human','human','human','human','human','human',"
            "        'human','human','human','human','human','human','human','human','human',"
            "        'human','human','scanner','scanner','preview'])[1 + floor(random() * 20)::int]"
            " FROM (SELECT $2::bigint + floor(random() * $3)::bigint AS message_id"
            "       FROM generate_series(1, $5)) r"
            " JOIN messages m ON m.account_id = $1 AND m.message_id = r.message_id"
            " JOIN smart_urls s ON s.account_id = $1 AND s.message_id = r.message_id",
            account_id,
            first,
            messages,
            now,
            n,
        )
        log(f"  clicks {done + n:>11,} ({n / (time.perf_counter() - began):,.0f}/s)")
    began = time.perf_counter()
    await conn.execute(
        "INSERT INTO conversions (account_id, kind, external_id, click_id, smart_url_id,"
        " message_id, template_id, amount_minor, currency, occurred_at, person_key,"
        " window_seconds)"
        " SELECT $1, k.kind, k.kind || '-' || g, gen_random_uuid(), s.smart_url_id,"
        "        s.message_id, s.template_id,"
        "        CASE WHEN k.kind = 'ORDER' THEN 500 + floor(random() * 20000)::bigint ELSE 0 END,"
        "        CASE WHEN k.kind = 'ORDER' THEN (ARRAY['USD','EUR'])[1 + g % 2] ELSE '' END,"
        "        least(m.sent_at + random() * interval '5 days', $4::timestamptz),"
        "        CASE WHEN k.kind = 'SHARE' THEN 'advocate'"
        "             ELSE 'customer:' || floor(random() * 50000)::int END, 2592000"
        " FROM generate_series(1, $5) g"
        " CROSS JOIN LATERAL (SELECT (ARRAY['ORDER','ORDER','ORDER','SIGNUP','SIGNUP',"
        "                      'SHARE'])[1 + g % 6] AS kind) k"
        " JOIN messages m ON m.account_id = $1 AND m.message_id = $2 + (g * 7919) % $3"
        " JOIN smart_urls s ON s.account_id = $1 AND s.message_id = m.message_id",
        account_id,
        first,
        messages,
        now,
        conversions,
    )
    log(f"  {conversions:,} conversions in {time.perf_counter() - began:.0f} s")
    began = time.perf_counter()
    await rebuild(conn, [account_id])
    await conn.execute("VACUUM ANALYZE")
    log(f"  rollups built from raw facts in {time.perf_counter() - began:.0f} s")
    return account_id, template_ids


async def timed(calls: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    for _ in range(10):
        await call()  # warm-up: connections, plans, caches
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


async def dashboard_figures(
    channel: grpc.aio.Channel, conn: asyncpg.Connection, account_id: int, template_ids: list[int]
) -> None:
    """`channel` carries the account's dashboard key (GetAccount is allowed to it too)."""
    dashboard = dashboard_pb2_grpc.DashboardServiceStub(channel)
    accounts = accounts_pb2_grpc.AccountServiceStub(channel)
    now = datetime.now(UTC)
    span = dashboard_pb2.TimeRange()
    getattr(span, "from").FromDatetime(now - timedelta(days=DAYS))
    span.to.FromDatetime(now)
    pick = random.Random(7)

    async def one_template() -> object:
        return await dashboard.GetTemplatePerformance(
            dashboard_pb2.GetTemplatePerformanceRequest(
                account_id=account_id, template_id=pick.choice(template_ids), range=span
            )
        )

    async def account_list() -> object:
        return await dashboard.ListTemplatePerformance(
            dashboard_pb2.ListTemplatePerformanceRequest(
                account_id=account_id,
                range=span,
                sort_by=dashboard_pb2.SORT_BY_CONVERSIONS,
                descending=True,
            )
        )

    async def floor_call() -> object:
        return await accounts.GetAccount(accounts_pb2.GetAccountRequest(account_id=account_id))

    async def raw_count() -> object:
        return await conn.fetchval(
            "SELECT count(*) FILTER (WHERE hit_class = 'human'), count(DISTINCT message_id)"
            " FROM clicks WHERE account_id = $1 AND template_id = $2 AND clicked_at >= $3",
            account_id,
            pick.choice(template_ids),
            now - timedelta(days=DAYS),
        )

    floor = await timed(CALLS, floor_call)
    single = await timed(CALLS, one_template)
    listing = await timed(CALLS, account_list)
    raw = await timed(20, raw_count)
    log("")
    log(f"{'call (90 days)':44} {'p50 ms':>8} {'p99 ms':>8} {'target p99':>11}")
    log(f"{'GetAccount (floor of any call)':44} {floor[0]:8.2f} {floor[1]:8.2f}")
    log(f"{'GetTemplatePerformance, one template':44} {single[0]:8.2f} {single[1]:8.2f} {'20':>11}")
    log(
        f"{f'ListTemplatePerformance, {len(template_ids)} templates':44}"
        f" {listing[0]:8.2f} {listing[1]:8.2f} {'50':>11}"
    )
    log(f"{'raw clicks counted for one template (SQL)':44} {raw[0]:8.2f} {raw[1]:8.2f}")
    log(
        f"one template from rollups vs raw counting: {raw[0] / single[0]:.0f}x faster at p50;"
        f" vs the floor call: {single[0] / floor[0]:.1f}x"
    )


async def console_figures(address: str, dashboard_key: str, template_ids: list[int]) -> None:
    port = free_port()
    env = dict(os.environ)
    env.update(SMARTURLS_CONTROL_ADDRESS=address, SMARTURLS_CONSOLE_PORT=str(port))
    console = subprocess.Popen(
        [sys.executable, "-m", "console"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pick = random.Random(11)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(100):
                try:
                    await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            signed_in = await client.post("/signin", data={"key": dashboard_key})
            assert signed_in.status_code == 303, signed_in.text

            async def page(path: str) -> object:
                response = await client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            emails = await timed(CALLS, lambda: page("/emails?range=90d&sort=goal_metric"))
            template = await timed(
                CALLS, lambda: page(f"/templates/{pick.choice(template_ids)}?range=90d")
            )
    finally:
        console.terminate()
        console.wait(10)
    log("")
    head = "console page (90 days, loopback HTTP)"
    log(f"{head:44} {'p50 ms':>8} {'p99 ms':>8} {'target p99':>11}")
    for name, (p50, p99) in (
        ("Emails Dashboard", emails),
        ("template page (3 calls, chart by day)", template),
    ):
        log(f"{name:44} {p50:8.2f} {p99:8.2f} {'100':>11}")


async def mint_figures(
    admin: grpc.aio.Channel,
    channel: grpc.aio.Channel,
    account_id: int,
    count: int,
    batch_size: int,
) -> None:
    """The template is made with the admin key, the links with the sender's (`channel`)."""
    template = await referral_template(
        admin, account_id, "mint bench", "https://shop.bench.example/welcome"
    )

    # Built before the clock starts: the sender's own cost is not ours.
    def request(i: int) -> minting_pb2.MintSmartUrlsRequest:
        return minting_pb2.MintSmartUrlsRequest(
            account_id=account_id,
            template_id=template.template_id,
            message_id=f"mint-{i}",
            advocate_shortcode=f"ADV{i}",
        )

    stub = minting_pb2_grpc.MintingServiceStub(channel)
    batches = [
        minting_pb2.MintBatch(
            requests=[request(i) for i in range(start, min(start + batch_size, count))]
        )
        for start in range(0, count, batch_size)
    ]

    async def batch_stream() -> AsyncIterator[minting_pb2.MintBatch]:
        for batch in batches:
            yield batch

    began = time.perf_counter()
    minted = errors = 0
    async for result in stub.MintSmartUrlsBatches(batch_stream()):
        for response in result.responses:
            if response.HasField("error"):
                errors += 1
            else:
                minted += len(response.links)
    seconds = time.perf_counter() - began

    # The one-request-per-message stream, on fewer messages, for comparison.
    single = [request(count + i) for i in range(min(count, 100_000))]

    async def single_stream() -> AsyncIterator[minting_pb2.MintSmartUrlsRequest]:
        for request_ in single:
            yield request_

    began = time.perf_counter()
    single_minted = 0
    async for response in stub.MintSmartUrlsStream(single_stream()):
        single_minted += len(response.links)
    single_seconds = time.perf_counter() - began
    log("")
    log(
        f"minting: {minted:,} Smart URLs through MintSmartUrlsBatches ({batch_size:,} a message) in"
        f" {seconds:.1f} s ({minted / seconds:,.0f}/s; target 1M in 20 s), {errors} errors"
    )
    log(
        f"         {single_minted:,} through MintSmartUrlsStream (one a message) in"
        f" {single_seconds:.1f} s ({single_minted / single_seconds:,.0f}/s):"
        f" batches are {minted / seconds / (single_minted / single_seconds):.1f}x faster"
    )


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dashboard-bench-"))
    log(f"embedded PostgreSQL in {workdir}")
    postgres = await asyncio.to_thread(EmbeddedPostgres, workdir / "pgdata")
    control = None
    try:
        conn = await asyncpg.connect(postgres.uri)
        await apply_migrations(conn)
        log(f"loading {args.clicks:,} clicks and {args.conversions:,} conversions over {DAYS} days")
        account_id, template_ids = await load(conn, args.clicks, args.conversions, args.messages)
        port = free_port()
        env = dict(os.environ)
        env.update(
            DATABASE_URL=postgres.uri,
            SMARTURLS_SIGNING_KEYS=generate_key_spec("A"),
            SMARTURLS_GRPC_LISTEN=f"127.0.0.1:{port}",
            SMARTURLS_CONTROL_METRICS_PORT="0",
        )
        control = subprocess.Popen(
            [sys.executable, "-m", "control", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        address = f"127.0.0.1:{port}"
        keys = {
            role: (await create_api_key(conn, role, None if role == "admin" else account_id))[0]
            for role in ("admin", "dashboard", "sender")
        }
        async with (
            control_channel(address, keys["dashboard"]) as channel,
            control_channel(address, keys["admin"]) as admin,
            control_channel(address, keys["sender"]) as sender,
        ):
            await asyncio.wait_for(channel.channel_ready(), 60)
            await dashboard_figures(channel, conn, account_id, template_ids)
            await console_figures(address, keys["dashboard"], template_ids)
            if args.mint:
                await mint_figures(admin, sender, account_id, args.mint, args.batch)
        await conn.close()
    finally:
        if control is not None:
            control.terminate()
            control.wait(30)
        await asyncio.to_thread(postgres.stop)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clicks", type=int, default=10_000_000)
    parser.add_argument("--conversions", type=int, default=100_000)
    parser.add_argument("--mint", type=int, default=1_000_000, help="0 skips minting")
    parser.add_argument("--messages", type=int, default=MESSAGES, help="messages the clicks hit")
    parser.add_argument("--batch", type=int, default=1000, help="requests a MintBatch")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
