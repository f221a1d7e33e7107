"""python -m devstack [up | dashboard | order SOURCE AMOUNT | signup SOURCE]

`up` (the default) starts embedded PostgreSQL + control plane + edge + console, creates
the demo data, prints what to try, and stops everything on Ctrl-C.
The other commands talk to a running `up`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Annotated

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import AfterValidator

from common.control_channel import control_channel
from common.settings import EnvSettings, env
from devstack.demo import SHARE_DOMAIN, SHORTCODE, ensure_demo, mint_demo_messages
from devstack.keys import admin_key, demo_keys
from signing.keys import generate_key_spec
from smarturls.v1 import (
    common_pb2,
    conversions_pb2,
    conversions_pb2_grpc,
    dashboard_pb2,
    dashboard_pb2_grpc,
)


class RunSettings(EnvSettings):
    # Local state: the database folder, the signing key, API keys, demo ids.
    data_dir: Annotated[Path, AfterValidator(Path.resolve)] = env(
        "SMARTURLS_DATA_DIR", Path(".smarturls"), validate_default=True
    )
    # Loopback ports of the control plane's gRPC, the edge, the control plane's metrics.
    control_port: int = env("SMARTURLS_CONTROL_PORT", 50051, ge=1, le=65535)
    edge_port: int = env("SMARTURLS_EDGE_PORT", 8080, ge=1, le=65535)
    metrics_port: int = env("SMARTURLS_CONTROL_METRICS_PORT", 9464, ge=1, le=65535)
    # Loopback port of the Performance Center (console).
    console_port: int = env("SMARTURLS_CONSOLE_PORT", 8090, ge=1, le=65535)


SETTINGS = RunSettings.from_env()
STATE_DIR = SETTINGS.data_dir
CONTROL = f"127.0.0.1:{SETTINGS.control_port}"
EDGE_PORT = str(SETTINGS.edge_port)
METRICS_PORT = str(SETTINGS.metrics_port)
CONSOLE_PORT = str(SETTINGS.console_port)


def signing_keys() -> str:
    """The local key, made once so links keep working across restarts."""
    path = STATE_DIR / "signing-keys"
    if not path.exists():
        STATE_DIR.mkdir(exist_ok=True)
        path.write_text(generate_key_spec("A"))
        path.chmod(0o600)
    return path.read_text().strip()


def child_env() -> dict[str, str]:
    environ = dict(os.environ)
    environ.update(
        SMARTURLS_SIGNING_KEYS=signing_keys(),
        SMARTURLS_DATA_DIR=str(STATE_DIR),
        SMARTURLS_GRPC_LISTEN=CONTROL,
        SMARTURLS_CONTROL_ADDRESS=CONTROL,
        SMARTURLS_EDGE_PORT=EDGE_PORT,
        SMARTURLS_CONTROL_METRICS_PORT=METRICS_PORT,
        SMARTURLS_CONSOLE_PORT=CONSOLE_PORT,
    )
    return environ


def check_ports_free() -> None:
    """Another process on one of the ports would answer in place of ours (and a
    health check would believe it), so run refuses to start instead."""
    for variable, port in (
        ("SMARTURLS_CONTROL_PORT", SETTINGS.control_port),
        ("SMARTURLS_EDGE_PORT", SETTINGS.edge_port),
        ("SMARTURLS_CONTROL_METRICS_PORT", SETTINGS.metrics_port),
        ("SMARTURLS_CONSOLE_PORT", SETTINGS.console_port),
    ):
        with socket.socket() as probe:
            # Like the servers: a port left in TIME_WAIT by an earlier run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise SystemExit(
                    f"port {port} ({variable}) is in use by another process:"
                    f" stop it, or set {variable} to a free port"
                ) from None


def check_alive(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is not None:
        raise SystemExit(
            f"the {name} exited (code {process.returncode}) before serving; see its log above"
        )


async def wait_for_control(process: subprocess.Popen[bytes], deadline: float) -> None:
    async with grpc.aio.insecure_channel(CONTROL) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while True:
            check_alive(process, "control plane")
            try:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("control plane did not become healthy; see its log above")
            await asyncio.sleep(0.2)


def wait_for_http(process: subprocess.Popen[bytes], name: str, port: str, deadline: float) -> None:
    while True:
        check_alive(process, name)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the {name} did not come up; see its log above") from None
            time.sleep(0.2)


# Safari on an iPhone: what a person tapping the link in a mail app sends.
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def print_try_this(
    minted: list,  # type: ignore[type-arg]
    account_id: int,
    admin: str,
    dashboard_key: str,
) -> None:
    edge = f"http://127.0.0.1:{EDGE_PORT}"
    print("\n=== smarturls is running ===")
    print(f"control plane gRPC {CONTROL}, metrics http://127.0.0.1:{METRICS_PORT}/metrics")
    print(f"admin API key (metadata 'authorization: Bearer KEY'): {admin}")
    print(
        f"  the demo's keys per role are in {STATE_DIR / 'demo-keys.json'}; more:"
        " .venv/bin/python -m control keys create --role ROLE [--account N]"
    )
    print(
        f"edge {edge} (metrics {edge}/metrics); demo account {account_id}, share domain "
        f"{SHARE_DOMAIN}, advocate shortcode {SHORTCODE}\n"
    )
    for message in minted:
        print(f"message {message.message_id}:")
        for link in message.links:
            print(f"  {link.name:10} {link.url}")
    share_token = minted[0].links[0].url.rsplit("/", 1)[1]
    referral_token = minted[2].links[0].url.rsplit("/", 1)[1]
    print("\nTry it, in a shell:")
    print("  # curl's own agent is a program's, and only people's clicks count: send a phone's")
    print(f"  PHONE='{PHONE}'")
    print("  # an advocate taps Share on WhatsApp: a 302 to wa.me with their referral link")
    print(
        f"  curl -si -A \"$PHONE\" -H 'Host: {SHARE_DOMAIN}' {edge}/{share_token}"
        " | grep -i '^location'"
    )
    print("  # a friend clicks a referral link: a 302 to the shop with mbsy and mbsy_source")
    print(
        f"  curl -si -A \"$PHONE\" -H 'Host: {SHARE_DOMAIN}' {edge}/{referral_token}"
        " | grep -i '^location'"
    )
    print("  # the shop reports an order with that mbsy_source (42.00 USD)")
    print("  .venv/bin/python -m devstack order <mbsy_source from the Location> 4200")
    print("  # the dashboard: each template's conversions, and the hits that were not people")
    print("  .venv/bin/python -m devstack dashboard")
    print("  # or in a browser: the Performance Center, signed in with the demo's dashboard key")
    print(f"  open http://127.0.0.1:{CONSOLE_PORT}/  (key: {dashboard_key})")
    print("  # a forged token, or the right token on another host: 404")
    print(f"  curl -si -H 'Host: evil.example' {edge}/{referral_token} | head -1")
    print("\nCtrl-C stops everything (clicks are flushed first).")


async def create_demo(admin: str) -> dict[str, object]:
    # Accounts and templates are support's work: the admin key.
    async with control_channel(CONTROL, admin) as channel:
        return await ensure_demo(channel, STATE_DIR / "demo.json")


async def mint_demo(sender: str, state: dict[str, object]) -> list:  # type: ignore[type-arg]
    async with control_channel(CONTROL, sender) as channel:
        return await mint_demo_messages(channel, state)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def up() -> int:
    check_ports_free()
    environ = child_env()
    # Own sessions: Ctrl-C reaches only this launcher, which stops the edge
    # before the control plane so the edge can flush its clicks.
    control = subprocess.Popen(
        [sys.executable, "-m", "control", "serve"], env=environ, start_new_session=True
    )
    edge = console = None
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        asyncio.run(wait_for_control(control, time.monotonic() + 120))
        admin = admin_key(environ, STATE_DIR)
        state = asyncio.run(create_demo(admin))
        account_id = int(str(state["account_id"]))
        keys = demo_keys(environ, STATE_DIR, account_id)
        minted = asyncio.run(mint_demo(keys["sender"], state))
        edge = subprocess.Popen(
            [sys.executable, "-m", "edge"],
            env={**environ, "SMARTURLS_CONTROL_API_KEY": keys["edge"]},
            start_new_session=True,
        )
        console = subprocess.Popen(
            [sys.executable, "-m", "console"], env=environ, start_new_session=True
        )
        wait_for_http(edge, "edge", EDGE_PORT, time.monotonic() + 30)
        wait_for_http(console, "console", CONSOLE_PORT, time.monotonic() + 30)
        check_alive(control, "control plane")
        print_try_this(minted, account_id, admin, keys["dashboard"])
        while all(p.poll() is None for p in (control, edge, console)):
            time.sleep(0.5)
        print("a service exited on its own; stopping the rest")
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping: edge first (it flushes its clicks), then the control plane")
        for process in (console, edge, control):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0


def demo_account_id() -> int:
    state = json.loads((STATE_DIR / "demo.json").read_text())
    return int(state["account_id"])


def demo_key(role: str) -> str:
    """The demo account's key for `role`, made by `up`."""
    return str(json.loads((STATE_DIR / "demo-keys.json").read_text())[role])


async def dashboard() -> None:
    state_account = demo_account_id()
    async with control_channel(CONTROL, demo_key("dashboard")) as channel:
        reply = await dashboard_pb2_grpc.DashboardServiceStub(channel).ListTemplatePerformance(
            dashboard_pb2.ListTemplatePerformanceRequest(account_id=state_account)
        )
    # Human clicks first, then what was left out of them: a mail provider's raw
    # click count includes scanners, previewers and bots.
    print(
        f"{'template':28} {'goal':20} {'sent':>5} {'clicks':>6} {'uniq':>5} {'friend':>6} "
        f"{'conv':>5} {'rate':>6} {'scanner':>7} {'preview':>7} {'bot':>5}  revenue"
    )
    for t in reply.templates:
        revenue = ", ".join(f"{r.amount_minor / 100:.2f} {r.currency}" for r in t.revenue)
        goal = common_pb2.Goal.Name(t.goal).removeprefix("GOAL_")
        other = t.non_human_hits
        print(
            f"{t.name[:28]:28} {goal:20} {t.messages_sent:5} "
            f"{t.clicks:6} {t.unique_clickers:5} {t.friend_clicks:6} {t.conversions:5} "
            f"{t.conversion_rate:6.1%} {other['scanner']:7} {other['preview']:7} {other['bot']:5}"
            f"  {revenue}"
        )


async def report(kind: str, source: str, amount: int) -> None:
    account_id = demo_account_id()
    async with control_channel(CONTROL, demo_key("merchant")) as channel:
        stub = conversions_pb2_grpc.ConversionServiceStub(channel)
        external_id = f"demo-{kind}-{uuid.uuid4().hex[:12]}"
        if kind == "order":
            reply = await stub.RecordOrder(
                conversions_pb2.RecordOrderRequest(
                    account_id=account_id,
                    order_id=external_id,
                    mbsy_source=source,
                    shortcode=SHORTCODE,
                    amount_minor=amount,
                    currency="USD",
                )
            )
        else:
            reply = await stub.RecordSignup(
                conversions_pb2.RecordSignupRequest(
                    account_id=account_id, signup_id=external_id, mbsy_source=source
                )
            )
    print(reply)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "up"
    if command == "up":
        return up()
    if command == "dashboard":
        asyncio.run(dashboard())
    elif command == "order" and len(argv) == 3:
        asyncio.run(report("order", argv[1], int(argv[2])))
    elif command == "signup" and len(argv) == 2:
        asyncio.run(report("signup", argv[1], 0))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
