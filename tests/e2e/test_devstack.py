"""The README's run command, as a person uses it: start, try the printed curl, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.update(
        SMARTURLS_DATA_DIR=str(tmp_path / "state"),
        SMARTURLS_CONTROL_PORT=str(free_port()),
        SMARTURLS_EDGE_PORT=str(free_port()),
        SMARTURLS_CONTROL_METRICS_PORT=str(free_port()),
        SMARTURLS_CONSOLE_PORT=str(free_port()),
    )
    env.update(overrides)
    return env


def shell(command: str, env: dict[str, str]) -> str:
    """A command as a person pastes it into bash, in the project's folder."""
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard_row(env: dict[str, str], template: str) -> dict[str, str]:
    lines = shell(".venv/bin/python -m devstack dashboard", env).splitlines()
    header = lines[0].split()
    row = next(line for line in lines if line.startswith(template))
    # The name has spaces: read the columns from the right, as many as the header has.
    values = row[len(template) :].split()
    return dict(zip(header[1:], values, strict=False))


def click_from(printed: str, phone: bool, env: dict[str, str]) -> str:
    """Runs the printed referral click, with the printed phone agent or as plain
    curl; the mbsy_source in its Location."""
    [phone_line] = re.findall(r"^  (PHONE='[^']+')$", printed, re.MULTILINE)
    referral = re.findall(r"^  (curl -si -A \"\$PHONE\" .+)$", printed, re.MULTILINE)[1]
    if not phone:
        referral = referral.replace('-A "$PHONE" ', "")
    location = shell(f"{phone_line}\n{referral}", env)
    source = re.search(r"mbsy_source=([^&\s]+)", location)
    assert source is not None, location
    return source.group(1)


def order(printed: str, source: str, env: dict[str, str]) -> str:
    """The printed order command with this mbsy_source; its reply."""
    [(command, amount)] = re.findall(
        r"^  (\.venv/bin/python -m devstack order) <[^>]+> (\d+)$", printed, re.MULTILINE
    )
    return shell(f"{command} {source} {amount}", env)


def wait_for_row(env: dict[str, str], template: str, column: str, value: int) -> dict[str, str]:
    deadline = time.monotonic() + 15
    while int((row := dashboard_row(env, template))[column]) != value:
        assert time.monotonic() < deadline, row
        time.sleep(0.2)
    return row


def test_run_command_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    env = run_env(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = []
    deadline = time.monotonic() + 120
    try:
        for line in process.stdout:
            output.append(line)
            if line.startswith("Ctrl-C stops everything") or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert "=== smarturls is running ===" in text, text
        # The embedded default made an admin key, saved it privately, and shows it.
        admin = re.search(r"admin API key .*: (su_[0-9a-f]{12}_\S{43})$", text, re.MULTILINE)
        assert admin is not None, text
        saved = tmp_path / "state" / "admin.key"
        assert saved.read_text().strip() == admin.group(1)
        assert saved.stat().st_mode & 0o777 == 0o600
        curl = re.search(r"curl -si -A \"\$PHONE\" -H 'Host: ([^']+)' (http://\S+)", text)
        assert curl is not None, text
        request = urllib.request.Request(curl.group(2), headers={"Host": curl.group(1)})
        opener = urllib.request.build_opener(NoRedirect)
        with opener.open(request) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("https://wa.me/?text=")

        # The printed quick start, word for word: a phone's click, then the order.
        referral = "Refer a friend (email)"
        reply = order(text, click_from(text, phone=True, env=env), env)
        assert "attributed: true" in reply, reply
        row = wait_for_row(env, referral, "clicks", 1)
        assert (row["goal"], row["conv"], row["bot"]) == ("ORDERS", "1", "0"), row

        # The same with plain curl: a program's click, stored among the bots'; its
        # order is recorded but does not count.
        source = click_from(text, phone=False, env=env)
        wait_for_row(env, referral, "bot", 1)
        reply = order(text, source, env)
        assert "UNATTRIBUTED_REASON_NON_HUMAN_CLICK" in reply, reply
        row = dashboard_row(env, referral)
        assert (row["conv"], row["clicks"], row["bot"]) == ("1", "1", "1"), row

        # The printed console address and key: the marketer's Emails Dashboard.
        printed = re.search(r"open (http://\S+)/  \(key: (su_\S+)\)$", text, re.MULTILINE)
        assert printed is not None, text
        console, key = printed.groups()
        sign_in = urllib.request.Request(
            f"{console}/signin", data=urllib.parse.urlencode({"key": key}).encode()
        )
        with opener.open(sign_in) as response:
            assert response.status == 303
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
        with urllib.request.urlopen(
            urllib.request.Request(f"{console}/emails", headers={"Cookie": cookie})
        ) as response:
            page = response.read().decode()
        assert "Emails Dashboard" in page and referral in page
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(output) + rest
    assert "embedded PostgreSQL in" in rest and "stopped" in rest


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None

    def http_error_302(self, req, fp, code, msg, headers):  # type: ignore[no-untyped-def]
        return fp

    http_error_303 = http_error_302


@pytest.mark.parametrize(
    "variable",
    [
        "SMARTURLS_CONTROL_PORT",
        "SMARTURLS_EDGE_PORT",
        "SMARTURLS_CONTROL_METRICS_PORT",
        "SMARTURLS_CONSOLE_PORT",
    ],
)
def test_run_refuses_a_port_another_process_holds(tmp_path: Path, variable: str) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "devstack"],
            cwd=ROOT,
            env=run_env(tmp_path, **{variable: str(port)}),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode != 0
    assert f"port {port} ({variable}) is in use" in finished.stderr, finished.stderr
    # Nothing was started: no database folder was made.
    assert not (tmp_path / "state" / "pgdata").exists()


def test_run_names_a_port_variable_it_cannot_read(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=run_env(tmp_path, SMARTURLS_EDGE_PORT="80a"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "SMARTURLS_EDGE_PORT='80a'" in finished.stderr, finished.stderr
    assert "Traceback" not in finished.stderr
