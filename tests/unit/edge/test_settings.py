"""Edge settings: the control plane's API key is required, its CA optional."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.settings import EdgeSettings
from signing.keys import generate_key_spec

BASE = {"SMARTURLS_SIGNING_KEYS": generate_key_spec("A")}


def test_the_api_key_is_required() -> None:
    with pytest.raises(SystemExit, match="SMARTURLS_CONTROL_API_KEY"):
        EdgeSettings.from_env(BASE)


def test_a_ca_file_turns_tls_on() -> None:
    plain = EdgeSettings.from_env({**BASE, "SMARTURLS_CONTROL_API_KEY": "su_x"})
    assert plain.control_api_key == "su_x" and plain.control_tls_ca is None
    tls = EdgeSettings.from_env(
        {**BASE, "SMARTURLS_CONTROL_API_KEY": "su_x", "SMARTURLS_CONTROL_TLS_CA": "/tls/ca.pem"}
    )
    assert tls.control_tls_ca == Path("/tls/ca.pem")
