"""Neither process exposes `<name>_created` series. Each check runs in a fresh
interpreter: prometheus_client's switch is process-wide, so one test module
turning it off would hide the other process forgetting to."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.unit.deploy.conftest import ROOT

SCRAPE = "import {module}, prometheus_client; print(prometheus_client.generate_latest().decode())"


def _scrape(module: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_DISABLE_CREATED_SERIES"}
    result = subprocess.run(
        [sys.executable, "-c", SCRAPE.format(module=module)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_edge_exposes_no_created_series() -> None:
    text = _scrape("edge.app")
    assert "smarturls_edge_flush_errors_total" in text  # the edge's own metrics are there
    assert [line for line in text.splitlines() if "_created" in line] == []


def test_control_plane_exposes_no_created_series() -> None:
    text = _scrape("control.__main__")
    assert "smarturls_control_clicks_stored_total" in text
    assert [line for line in text.splitlines() if "_created" in line] == []
