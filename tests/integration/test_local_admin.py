"""The embedded default's admin key: made once, kept 0600, made again only when
it stopped working and no other admin key exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.domain.api_keys import create_api_key, revoke_api_key, verify_api_key
from control.local_admin import ensure_local_admin_key
from tests.support import Stack


async def test_made_once_kept_private_and_printed(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state" / "admin.key"
    key = await ensure_local_admin_key(stack.db, path)
    assert key is not None and path.read_text().strip() == key
    assert path.stat().st_mode & 0o777 == 0o600
    stored = await verify_api_key(stack.db, key)
    assert (stored.role, stored.account_id, stored.name) == ("admin", None, "local-admin")
    assert await ensure_local_admin_key(stack.db, path) == key
    assert capsys.readouterr().out.count(key) == 2


async def test_a_revoked_local_key_is_replaced_unless_someone_manages_admin_keys(
    stack: Stack, tmp_path: Path
) -> None:
    path = tmp_path / "admin.key"
    first = await ensure_local_admin_key(stack.db, path)
    assert first is not None
    await revoke_api_key(stack.db, first.split("_")[1])
    second = await ensure_local_admin_key(stack.db, path)
    assert second is not None and second != first

    await create_api_key(stack.db, "admin", None, "ops")
    await revoke_api_key(stack.db, second.split("_")[1])
    assert await ensure_local_admin_key(stack.db, path) is None
