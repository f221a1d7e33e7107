from __future__ import annotations

from collections.abc import Callable

import pytest

from control.domain import validation
from control.domain.errors import InvalidArgument


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (lambda v: validation.currency(v), "USD\n"),
        (lambda v: validation.shortcode("shortcode", v), "JANE42\n"),
        (lambda v: validation.link_name("name", v), "ref\n"),
        (validation.share_domain, "share\n.acme.example"),
        (lambda v: validation.external_id("order_id", v), "A-1\x00"),
        (lambda v: validation.display_name("name", v), "Acme\x00"),
        (lambda v: validation.destination_url("url", v), "https://[shop.example/"),
        (lambda v: validation.destination_url("url", v), "https://shop.example/" + "a" * 3000),
        (lambda v: validation.destination_url("url", v), "https://shop.example/a b"),
    ],
)
def test_bad_text_is_refused(check: Callable[[str], str], value: str) -> None:
    with pytest.raises(InvalidArgument):
        check(value)


def test_good_values_pass_through() -> None:
    assert validation.share_domain(" Share.Acme.Example. ") == "share.acme.example"
    assert validation.destination_url("u", " https://shop.example/x?y=1 ") == (
        "https://shop.example/x?y=1"
    )


def test_iris_are_percent_encoded_and_control_characters_refused() -> None:
    assert validation.destination_url("u", "https://shop.example/café?x=€") == (
        "https://shop.example/caf%C3%A9?x=%E2%82%AC"
    )
    with pytest.raises(InvalidArgument):
        validation.destination_url("u", "https://shop.example/\x01")
    with pytest.raises(InvalidArgument):
        validation.destination_url("u", "https://bücher.example/")
