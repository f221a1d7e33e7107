"""The embedded default's admin key, so trying it out needs no extra step: made
once (named local-admin) when there is no admin key, kept in a 0600 file in the
data dir, and printed at every start."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import asyncpg

from control.domain.api_keys import create_api_key, has_active_key, verify_api_key
from control.domain.errors import Unauthenticated

log = logging.getLogger(__name__)


def write_secret(path: Path, text: str) -> None:
    """Writes `text` to a file only its owner can read, replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.replace(partial, path)


async def _file_key_works(db: asyncpg.Pool, path: Path) -> bool:
    if not path.exists():
        return False
    try:
        key = await verify_api_key(db, path.read_text().strip())
    except Unauthenticated:
        return False
    return key.role == "admin"


async def ensure_local_admin_key(db: asyncpg.Pool, path: Path) -> str | None:
    """The local admin key (made if no admin key exists), or None when the file's
    key no longer works and other admin keys exist (someone manages them)."""
    if not await _file_key_works(db, path):
        if await has_active_key(db, "admin"):
            log.warning(
                "%s holds no working admin key, and other admin keys exist: none made"
                " (python -m control keys create --role admin)",
                path,
            )
            return None
        key, _ = await create_api_key(db, "admin", None, "local-admin")
        write_secret(path, key)
    key = path.read_text().strip()
    # The demo must work in one command: show the key where the person looks.
    print(f"local admin API key (also in {path}): {key}", flush=True)
    return key
