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


@pytest.mark.parametrize(
    ("spelling", "durable"),
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("ON", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_booleans_take_the_usual_spellings(spelling: str, durable: bool) -> None:
    settings = EdgeSettings.from_env(
        {**BASE, "SMARTURLS_CONTROL_API_KEY": "su_x", "SMARTURLS_EDGE_DURABLE_CLICKS": spelling}
    )
    assert settings.durable_clicks is durable


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SMARTURLS_EDGE_PORT", "80a", "valid integer"),
        ("SMARTURLS_EDGE_PORT", "70000", "less than or equal to 65535"),
        ("SMARTURLS_EDGE_DURABLE_CLICKS", "maybe", "valid boolean"),
        ("SMARTURLS_EDGE_FLUSH_INTERVAL", "0", "greater than 0"),
    ],
)
def test_a_value_that_does_not_parse_names_the_variable(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        EdgeSettings.from_env({**BASE, "SMARTURLS_CONTROL_API_KEY": "su_x", variable: value})
    assert f"{variable}={value!r}" in str(stopped.value)
    assert expected in str(stopped.value)


def test_secrets_never_appear_in_a_message() -> None:
    with pytest.raises(SystemExit) as stopped:
        EdgeSettings.from_env(
            {"SMARTURLS_SIGNING_KEYS": "A:tooshort", "SMARTURLS_CONTROL_API_KEY": "su_x"}
        )
    assert "SMARTURLS_SIGNING_KEYS" in str(stopped.value)
    assert "tooshort" not in str(stopped.value)


def test_the_spool_lives_in_the_data_dir_unless_given() -> None:
    base = {**BASE, "SMARTURLS_CONTROL_API_KEY": "su_x"}
    assert EdgeSettings.from_env(base).spool_dir == Path(".smarturls/edge-spool")
    assert EdgeSettings.from_env({**base, "SMARTURLS_DATA_DIR": "/var/lib/su"}).spool_dir == Path(
        "/var/lib/su/edge-spool"
    )
    given = {**base, "SMARTURLS_DATA_DIR": "/var/lib/su", "SMARTURLS_EDGE_SPOOL_DIR": "/spool"}
    assert EdgeSettings.from_env(given).spool_dir == Path("/spool")


def test_os_environ_is_read_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMARTURLS_CONTROL_API_KEY", " su_y\n")
    monkeypatch.setenv("SMARTURLS_EDGE_DURABLE_CLICKS", "True")
    monkeypatch.setenv("SMARTURLS_EDGE_PORT", "9090")
    monkeypatch.setenv("REDIS_URL", "")
    settings = EdgeSettings.from_env()
    assert (settings.control_api_key, settings.durable_clicks, settings.port) == (
        "su_y",
        True,
        9090,
    )
    assert settings.redis_url is None
