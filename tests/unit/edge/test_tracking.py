from __future__ import annotations

import pytest

from edge.classify import client_facts


@pytest.mark.parametrize(
    ("host", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("::ffff:8.8.8.8", "8.8.8.0/24"),
        ("not-an-ip", ""),
    ],
)
def test_addresses_are_never_kept_whole(host: str, prefix: str) -> None:
    assert client_facts(host)[0] == prefix
