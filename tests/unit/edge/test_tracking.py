from __future__ import annotations

import pytest

from edge.tracking import truncate_ip


@pytest.mark.parametrize(
    ("host", "prefix"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
        ("not-an-ip", ""),
        (None, ""),
    ],
)
def test_addresses_are_never_kept_whole(host: str | None, prefix: str) -> None:
    assert truncate_ip(host) == prefix
