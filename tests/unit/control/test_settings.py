"""Control settings: TLS takes a certificate and a key, both or neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from control.settings import ControlSettings
from signing.keys import generate_key_spec

BASE = {"SMARTURLS_SIGNING_KEYS": generate_key_spec("A")}


def test_tls_is_off_by_default_and_on_with_both_files() -> None:
    assert ControlSettings.from_env(BASE).tls_cert is None
    settings = ControlSettings.from_env(
        {**BASE, "SMARTURLS_TLS_CERT": "/tls/cert.pem", "SMARTURLS_TLS_KEY": "/tls/key.pem"}
    )
    assert (settings.tls_cert, settings.tls_key) == (Path("/tls/cert.pem"), Path("/tls/key.pem"))


@pytest.mark.parametrize("only", ["SMARTURLS_TLS_CERT", "SMARTURLS_TLS_KEY"])
def test_one_tls_file_without_the_other_is_refused(only: str) -> None:
    with pytest.raises(SystemExit, match="both"):
        ControlSettings.from_env({**BASE, only: "/tls/x.pem"})
