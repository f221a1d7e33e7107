"""The tools the deploy tests run: promtool and buf, which `python3 tasks.py test`
(and `tasks.py tools`) installs into .tools/bin. Under CI a missing tool fails
its tests; elsewhere they skip, saying how to get it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tools import unavailable

ROOT = Path(__file__).resolve().parents[3]
TOOLS_BIN = ROOT / ".tools" / "bin"


def find_tool(name: str) -> str:
    local = TOOLS_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed: `python3 tasks.py tools` puts it in .tools/bin")
    assert found is not None
    return found


def run(*args: str, cwd: Path = ROOT) -> str:
    """Runs a tool, asserts it succeeded, returns what it printed."""
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{output}"
    return output


@pytest.fixture(scope="session")
def promtool() -> str:
    return find_tool("promtool")


@pytest.fixture(scope="session")
def buf() -> str:
    return find_tool("buf")
