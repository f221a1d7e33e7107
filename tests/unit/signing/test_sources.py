from __future__ import annotations

import uuid

from signing.keys import SigningKeys, generate_key_spec
from signing.sources import SOURCE_LENGTH, SourceMinter, mint_source, verify_source

KEYS = SigningKeys.parse(generate_key_spec("A"))


def test_source_names_the_link_and_the_click() -> None:
    click = uuid.uuid4()
    source = mint_source(KEYS, 123456, click.bytes)
    assert len(source) == SOURCE_LENGTH
    assert all(c.isalnum() or c in "-_" for c in source)  # URL-safe as it is
    found = verify_source(KEYS, source)
    assert found is not None
    assert (found.smart_url_id, found.click_id) == (123456, click)


def test_tampered_sources_are_rejected() -> None:
    source = mint_source(KEYS, 99, uuid.uuid4().bytes)
    for i in range(SOURCE_LENGTH):
        swapped = "1" if source[i] != "1" else "2"
        assert verify_source(KEYS, source[:i] + swapped + source[i + 1 :]) is None
    assert verify_source(KEYS, source[:-1]) is None
    assert verify_source(KEYS, "z" * SOURCE_LENGTH) is None


def test_non_ascii_sources_are_rejected_not_raised() -> None:
    source = mint_source(KEYS, 99, uuid.uuid4().bytes)
    assert verify_source(KEYS, source[:-2] + "éé") is None


def test_a_source_has_exactly_one_spelling() -> None:
    source = mint_source(KEYS, 99, uuid.uuid4().bytes)
    other = source[0] + source[1:].replace("-", "+").replace("_", "/")
    if other != source:
        assert verify_source(KEYS, other) is None
    assert verify_source(KEYS, source[0] + "+" * 36) is None


def test_the_minted_form_never_changes() -> None:
    # Sources sit in merchants' cookies and order records for months: the hot
    # path's minter must keep producing exactly what verify_source has always
    # read. The vector was minted by the first implementation (one blake2b call
    # per source, base64 through str).
    keys = SigningKeys.parse(
        "B:c2VjcmV0LWtleS1mb3ItdGhlLWdvbGRlbi12ZWN0b3I,A:b2xkZXIta2V5LWZvci10aGUtZ29sZGVuLXZlY3Rvcg"
    )
    minted = SourceMinter(keys).mint(123456789, bytes(range(16)))
    assert minted == b"BAAdbzRUAAQIDBAUGBwgJCgsMDQ4PLLg7Gui6"
    found = verify_source(keys, minted.decode())
    assert found is not None and found.smart_url_id == 123456789
