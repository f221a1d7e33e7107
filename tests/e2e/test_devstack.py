"""The README's run command, as a person uses it: start, try the printed curl, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
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
    )
    env.update(overrides)
    return env


def test_run_command_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        cwd=ROOT,
        env=run_env(tmp_path),
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
        curl = re.search(r"curl -si -H 'Host: ([^']+)' (http://\S+)", text)
        assert curl is not None, text
        request = urllib.request.Request(curl.group(2), headers={"Host": curl.group(1)})
        opener = urllib.request.build_opener(NoRedirect)
        with opener.open(request) as response:
            assert response.status == 302
            assert response.headers["Location"].startswith("https://wa.me/?text=")
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


@pytest.mark.parametrize(
    "variable", ["SMARTURLS_CONTROL_PORT", "SMARTURLS_EDGE_PORT", "SMARTURLS_CONTROL_METRICS_PORT"]
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
