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


def test_rotation_verifies_old_keys_and_mints_with_the_new_one() -> None:
    old_spec = generate_key_spec("A")
    before = SigningKeys.parse(old_spec)
    old_token = mint_token(before, 42)
    rotated = SigningKeys.parse(generate_key_spec("C") + "," + old_spec)
    assert verify_token(rotated, old_token) == 42
    new_token = mint_token(rotated, 42)
    assert new_token[0] == "C" and verify_token(rotated, new_token) == 42
    assert verify_token(before, new_token) is None
    # The same key id with another secret (another deployment) verifies nothing.
    assert verify_token(SigningKeys.parse(generate_key_spec("A")), old_token) is None


def test_non_ascii_tokens_are_rejected() -> None:
    token = mint_token(KEYS, 42)
    assert verify_token(KEYS, token[:-1] + "é") is None


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


def test_base62_round_trips_every_width_at_its_edges() -> None:
    from signing import base62

    for width in range(1, 9):
        for number in (0, 1, 61, 62, 3843, 3844, 62**width - 1):
            if number < 62**width:
                text = base62.encode(number, width)
                assert len(text) == width and base62.decode(text) == number
    assert base62.encode(61, 1) == "z" and base62.encode(62, 2) == "10"
