#!/usr/bin/env python3
"""The project's task runner: needs nothing but Python 3.11 and pip.

    python3 tasks.py run      # the whole system on this machine, Ctrl-C stops it
    python3 tasks.py test     # the test suite (what CI runs)
    python3 tasks.py proto    # regenerate the gRPC code from proto/
    python3 tasks.py lint     # ruff and mypy
    python3 tasks.py tools    # promtool, buf (.tools/bin) and chromium (`test` does it first)
    python3 tasks.py lock     # refresh deploy/requirements.lock (the image's pins; --upgrade)
    python3 tasks.py bench-edge   # the edge benchmark (needs wrk; not part of the tests)
    python3 tasks.py bench-dashboard  # dashboards at 10M clicks, minting 1M (not in the tests)
    python3 tasks.py bench-redirect   # the redirect path's own cost, in process (not in the tests)
    python3 tasks.py bench-pipeline   # click ingest: spread, one hot link, one hot message

Each task first makes ./.venv and installs the project into it (again only when
pyproject.toml changed), then runs inside it. `test` also installs the tools the
deploy tests run (promtool, buf) into ./.tools, once, and Debian's chromium for
the browser tests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".smarturls-installed"
# Tools that are not Python packages, kept out of git (.gitignore) and out of the
# system: tests/unit/deploy looks for them in .tools/bin first.
TOOLS = ROOT / ".tools"
TOOLS_BIN = TOOLS / "bin"
# buf from the npm registry: @bufbuild/buf installs the binary for this platform
# as an optional dependency (@bufbuild/buf-linux-x64, ...).
BUF_VERSION = "1.75.0"
# deploy/requirements.lock is made with pip-compile, in a venv of its own.
PIP_TOOLS_VERSION = "7.7.0"
LOCK = ROOT / "deploy" / "requirements.lock"


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


def _install_promtool() -> None:
    """promtool from Debian's prometheus package, taken out of the .deb: nothing
    is installed on the system and no Prometheus service is set up or started."""
    target = TOOLS_BIN / "promtool"
    if target.exists():
        return
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=TOOLS) as tmp:
        # As root, apt would otherwise warn that its _apt user cannot write here.
        download = ["apt-get", "download", "-o", "APT::Sandbox::User=root", "prometheus"]
        if subprocess.run(download, cwd=tmp, capture_output=True).returncode != 0:
            # A new machine may have no package lists yet, or stale ones.
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(download, cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        (deb,) = Path(tmp).glob("prometheus_*.deb")
        partial = Path(tmp) / "promtool"
        with subprocess.Popen(
            ["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE
        ) as unpack:
            assert unpack.stdout is not None
            with tarfile.open(fileobj=unpack.stdout, mode="r|") as tar:
                for member in tar:
                    if member.name.lstrip("./") == "usr/bin/promtool":
                        source = tar.extractfile(member)
                        assert source is not None
                        with partial.open("wb") as out:
                            shutil.copyfileobj(source, out)
                        break
        if not partial.exists():
            raise RuntimeError(f"no usr/bin/promtool in {deb.name}")
        partial.chmod(0o755)
        partial.replace(target)


def _install_buf() -> None:
    """buf at BUF_VERSION from the npm registry, under .tools/npm."""
    target = TOOLS_BIN / "buf"
    prefix = TOOLS / "npm"
    stamp = prefix / f".buf-{BUF_VERSION}"
    if stamp.exists() and target.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found (Debian: apt-get install npm)")
    TOOLS_BIN.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--save-exact", "--ignore-scripts",
         "--no-audit", "--no-fund", "--loglevel=error", f"@bufbuild/buf@{BUF_VERSION}"],
        check=True,
    )  # fmt: skip
    # The platform package's binary itself, so that running buf needs no node;
    # the package's node launcher if the layout ever changes.
    binaries = sorted((prefix / "node_modules" / "@bufbuild").glob("buf-*/bin/buf"))
    source = binaries[0] if len(binaries) == 1 else prefix / "node_modules" / ".bin" / "buf"
    target.unlink(missing_ok=True)
    target.symlink_to(os.path.relpath(source.resolve(), TOOLS_BIN))
    for old in prefix.glob(".buf-*"):
        old.unlink()
    stamp.touch()


def _install_chromium() -> None:
    """Debian's chromium, for tests/browser (Playwright drives it; it never
    downloads a browser of its own). A system package: it needs root."""
    if shutil.which("chromium"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("not root: apt-get install chromium, then run this again")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]
    quiet = {"DEBIAN_FRONTEND": "noninteractive", **os.environ}
    if subprocess.run(install, env=quiet, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(install, env=quiet, stdout=subprocess.DEVNULL, check=True)


TOOL_INSTALLS: dict[str, Callable[[], None]] = {
    "promtool": _install_promtool,
    "buf": _install_buf,
    "chromium": _install_chromium,
}


def _tool_path(name: str) -> str | None:
    local = TOOLS_BIN / name
    return str(local) if local.exists() else shutil.which(name)


def ensure_tools() -> None:
    """promtool and buf in .tools/bin, for tests/unit/deploy, and chromium for
    tests/browser; a no-op once there. A failed install is reported, not fatal:
    those tests then fail under CI=true (and skip elsewhere) while the rest of
    the suite runs."""
    for name, install in TOOL_INSTALLS.items():
        try:
            install()
        except (OSError, RuntimeError, ValueError, subprocess.CalledProcessError) as error:
            print(f"tasks.py: could not install {name}: {error}", file=sys.stderr)


def test(rest: list[str]) -> int:
    ensure_tools()
    return in_venv("-m", "pytest", "-q", *rest)


def tools(rest: list[str]) -> int:
    ensure_tools()
    missing = []
    for name in TOOL_INSTALLS:
        path = _tool_path(name)
        if path is None:
            missing.append(name)
        else:
            subprocess.run([path, "--version"], check=False, stderr=subprocess.DEVNULL)
    return 1 if missing else 0


def lock(rest: list[str]) -> int:
    """deploy/requirements.lock from pyproject.toml: [project].dependencies (no
    extras) and [build-system].requires, pinned with every file's hash. Keeps the
    current pins unless asked otherwise (`lock --upgrade`, `--upgrade-package NAME`)."""
    if sys.version_info[:2] != (3, 11):
        print("tasks.py lock: the image runs Python 3.11: run it with python3.11", file=sys.stderr)
        return 2
    tool_venv = TOOLS / "pip-tools"
    if not (tool_venv / "bin" / "python").exists():
        venv.EnvBuilder(with_pip=True).create(tool_venv)
    # The public index only: this machine's pip settings (local wheel folders,
    # mirrors, constraints) must not shape the lock or be written into it.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["CUSTOM_COMPILE_COMMAND"] = "python3 tasks.py lock"
    subprocess.run(
        [str(tool_venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         f"pip-tools=={PIP_TOOLS_VERSION}"],
        env=env, check=True,
    )  # fmt: skip
    return subprocess.call(
        [str(tool_venv / "bin" / "pip-compile"), "--quiet", "--generate-hashes",
         "--allow-unsafe", "--all-build-deps", "--strip-extras", "--no-emit-index-url",
         "--no-emit-find-links", "--no-emit-trusted-host",
         f"--output-file={LOCK.relative_to(ROOT)}", "pyproject.toml", *rest],
        cwd=ROOT, env=env,
    )  # fmt: skip


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS:
        print(__doc__)
        return 2
    ensure_venv()
    return TASKS[argv[0]](argv[1:])


TASKS: dict[str, Callable[[list[str]], int]] = {
    # the whole system: embedded PostgreSQL, control plane, edge, demo data
    "run": lambda rest: in_venv("-m", "devstack", *rest),
    # the test suite, as CI runs it (after installing promtool and buf, once)
    "test": test,
    # promtool and buf into .tools/bin, Debian's chromium, and their versions
    "tools": tools,
    # deploy/requirements.lock, the image's hashed pins, from pyproject.toml
    "lock": lock,
    # regenerate proto/smarturls/v1/*_pb2*.py(i)
    "proto": lambda rest: in_venv("scripts/gen_proto.py", *rest),
    "lint": lambda rest: in_venv("-m", "ruff", "check", ".") or in_venv("-m", "mypy"),
    # redirects/s against the floor, click pipeline, memory (prints a table)
    "bench-edge": lambda rest: in_venv("-m", "bench.edge_bench", *rest),
    "bench-dashboard": lambda rest: in_venv("-m", "bench.dashboard_bench", *rest),
    "bench-redirect": lambda rest: in_venv("-m", "bench.redirect_cost", *rest),
    # the click pipeline alone: spread, one hot link, one hot message
    "bench-pipeline": lambda rest: in_venv("-m", "bench.pipeline_bench", *rest),
}

if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
