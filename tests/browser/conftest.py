"""Headless Chromium from Debian's `chromium` package, driven by Playwright
(which never downloads a browser here: it is pointed at the system one)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.tools import unavailable

# As root in a sandbox, with the machine's network closed: no sandboxing, no
# GPU, none of Chromium's own background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = os.environ.get("SMARTURLS_TEST_CHROMIUM") or shutil.which("chromium")
    if found is None:
        unavailable("chromium is not installed: `python3 tasks.py tools` installs Debian's")
    assert found is not None
    return found


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
