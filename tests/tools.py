"""Outside tools some tests need (promtool, buf, chromium): under CI a missing
tool fails its tests; elsewhere they skip, saying how to get it."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(message: str) -> None:
    """Fails under CI (a check that silently stops running is no check), skips elsewhere."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
