#!/usr/bin/env python3
"""The project's task runner: needs nothing but Python 3.11 and pip.

    python3 tasks.py run      # the whole system on this machine, Ctrl-C stops it
    python3 tasks.py test     # the test suite (what CI runs)
    python3 tasks.py proto    # regenerate the gRPC code from proto/
    python3 tasks.py lint     # ruff and mypy
    python3 tasks.py bench-edge   # the edge benchmark (needs wrk; not part of the tests)
    python3 tasks.py bench-dashboard  # dashboards at 10M clicks, minting 1M (not in the tests)
    python3 tasks.py bench-redirect   # the redirect path's own cost, in process (not in the tests)

Each task first makes ./.venv and installs the project into it (again only when
pyproject.toml changed), then runs inside it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".smarturls-installed"


def ensure_venv() -> None:
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    subprocess.run(
        [str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]"], check=True
    )
    STAMP.write_text(digest)


def in_venv(*args: str) -> int:
    return subprocess.call([str(PYTHON), *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS:
        print(__doc__)
        return 2
    ensure_venv()
    return TASKS[argv[0]](argv[1:])


TASKS = {
    # the whole system: embedded PostgreSQL, control plane, edge, demo data
    "run": lambda rest: in_venv("-m", "devstack", *rest),
    # the test suite, as CI runs it
    "test": lambda rest: in_venv("-m", "pytest", "-q", *rest),
    # regenerate proto/smarturls/v1/*_pb2*.py(i)
    "proto": lambda rest: in_venv("scripts/gen_proto.py", *rest),
    "lint": lambda rest: in_venv("-m", "ruff", "check", ".") or in_venv("-m", "mypy"),
    # redirects/s against the floor, click pipeline, memory (prints a table)
    "bench-edge": lambda rest: in_venv("-m", "bench.edge_bench", *rest),
    "bench-dashboard": lambda rest: in_venv("-m", "bench.dashboard_bench", *rest),
    "bench-redirect": lambda rest: in_venv("-m", "bench.redirect_cost", *rest),
}

if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
