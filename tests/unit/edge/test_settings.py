"""Edge settings: the control plane's API key is required."""

from __future__ import annotations

import pytest

from edge.settings import EdgeSettings
from signing.keys import generate_key_spec

BASE = {"SMARTURLS_SIGNING_KEYS": generate_key_spec("A")}


def test_the_api_key_is_required() -> None:
    with pytest.raises(SystemExit, match="SMARTURLS_CONTROL_API_KEY"):
        EdgeSettings.from_env(BASE)


def test_the_api_key_is_read_from_the_environment() -> None:
    settings = EdgeSettings.from_env({**BASE, "SMARTURLS_CONTROL_API_KEY": "su_x"})
    assert settings.control_api_key == "su_x"
