"""The demo's API keys, made once with the control plane's own command
(`python -m control keys create`) and kept in the state dir, readable by the
owner only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Made per demo account; the edge key acts on every account.
DEMO_ROLES = ("edge", "sender", "merchant", "dashboard")


def create_key(env: dict[str, str], role: str, account_id: int | None = None) -> str:
    """A new key from `python -m control keys create` (which prints only the key on stdout)."""
    command = [sys.executable, "-m", "control", "keys", "create", "--role", role]
    command += ["--name", f"devstack {role}"]
    if account_id is not None:
        command += ["--account", str(account_id)]
    made = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise SystemExit(f"could not make a {role} key:\n{made.stderr}")
    return made.stdout.strip()


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def admin_key(env: dict[str, str], state_dir: Path) -> str:
    """The key the control plane printed and saved at start-up (embedded default),
    or, on DATABASE_URL where it makes none, one made here once."""
    local = state_dir / "admin.key"
    if local.exists():
        return local.read_text().strip()
    own = state_dir / "devstack-admin.key"
    if not own.exists():
        write_private(own, create_key(env, "admin"))
    return own.read_text().strip()


def demo_keys(env: dict[str, str], state_dir: Path, account_id: int) -> dict[str, str]:
    """A key per role in DEMO_ROLES for the demo account: reused, made when missing."""
    path = state_dir / "demo-keys.json"
    saved: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    if saved.get("account_id") != account_id:
        saved = {"account_id": account_id}
    for role in DEMO_ROLES:
        if role not in saved:
            saved[role] = create_key(env, role, None if role == "edge" else account_id)
    write_private(path, json.dumps(saved))
    return {role: str(saved[role]) for role in DEMO_ROLES}
