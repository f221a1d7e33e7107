from __future__ import annotations

import uuid

from signing.keys import SigningKeys, generate_key_spec
from signing.sources import SOURCE_LENGTH, mint_source, verify_source

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
