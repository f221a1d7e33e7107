from __future__ import annotations

import pytest

from signing import base62
from signing.keys import SigningKeys, generate_key_spec
from signing.tokens import MAX_LINK_ID, TOKEN_LENGTH, mint_token, verify_token

KEYS = SigningKeys.parse(generate_key_spec("B") + "," + generate_key_spec("A"))


@pytest.mark.parametrize("number", [0, 1, 61, 62, 12345678, 62**6 - 1])
def test_base62_round_trips_at_fixed_width(number: int) -> None:
    text = base62.encode(number, 6)
    assert len(text) == 6 and base62.decode(text) == number


def test_base62_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError):
        base62.encode(62**6, 6)
    with pytest.raises(ValueError):
        base62.decode("ab-c")


@pytest.mark.parametrize("link_id", [1, 1000, MAX_LINK_ID])
def test_minted_tokens_verify_to_their_link(link_id: int) -> None:
    token = mint_token(KEYS, link_id)
    assert len(token) == TOKEN_LENGTH and token[0] == "B"
    assert verify_token(KEYS, token) == link_id


def test_every_single_character_change_is_rejected() -> None:
    token = mint_token(KEYS, 987654)
    for i in range(TOKEN_LENGTH):
        for replacement in "0aZ":
            if token[i] != replacement:
                tampered = token[:i] + replacement + token[i + 1 :]
                assert verify_token(KEYS, tampered) is None, tampered


def test_old_keys_still_verify_and_unknown_keys_do_not() -> None:
    old_only = SigningKeys.parse(generate_key_spec("A"))
    old_token = mint_token(old_only, 42)
    rotated = SigningKeys.parse(generate_key_spec("C") + "," + generate_key_spec("A"))
    assert verify_token(rotated, mint_token(rotated, 42)) == 42
    # Same key id "A" but a different secret: nothing verifies across deployments.
    assert verify_token(rotated, old_token) is None
    assert verify_token(SigningKeys.parse(generate_key_spec("D")), old_token) is None


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "A",
        "A:",
        "AB:c2VjcmV0c2VjcmV0c2VjcmV0",
        "A:c2hvcnQ",
        "A:c2VjcmV0c2VjcmV0c2VjcmV0,A:c2VjcmV0c2VjcmV0c2VjcmV0",
    ],
)
def test_key_specs_are_checked(bad: str) -> None:
    with pytest.raises(ValueError):
        SigningKeys.parse(bad)
