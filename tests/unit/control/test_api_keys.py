"""What verify_api_key refuses before it looks anything up."""

from __future__ import annotations

import pytest

from control.domain.api_keys import key_id_of, verify_api_key
from control.domain.errors import InvalidArgument, Unauthenticated

KEY = "su_0123456789ab_" + "x" * 43


@pytest.mark.parametrize(
    ("presented", "why"),
    [
        (None, "no API key"),
        ("", "no API key"),
        ("sk_0123456789ab_" + "x" * 43, "malformed"),
        ("su_0123456789AB_" + "x" * 43, "malformed"),
        (KEY + "x", "malformed"),
        ("su_0123456789ab_" + "x" * 42 + "!", "malformed"),
    ],
)
async def test_missing_and_malformed_keys_are_refused_without_a_lookup(
    presented: str | None, why: str
) -> None:
    with pytest.raises(Unauthenticated, match=why) as caught:
        await verify_api_key(None, presented)  # type: ignore[arg-type]
    assert "x" * 20 not in str(caught.value)


def test_revoke_takes_a_key_id_or_the_whole_key() -> None:
    assert key_id_of("0123456789ab") == key_id_of(KEY) == "0123456789ab"
    with pytest.raises(InvalidArgument, match=r"^key_id:"):
        key_id_of("su_nothing")
