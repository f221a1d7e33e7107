from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from control.domain.destinations import share_intent, split_for_source
from control.domain.model import Network

URL = "https://share.acme.example/A0000G8GGh8q"
TEXT = "20% off & free shipping: "


@pytest.mark.parametrize(
    ("network", "prefix", "params"),
    [
        ("WHATSAPP", "https://wa.me/", {"text": [TEXT + " " + URL]}),
        ("FACEBOOK", "https://www.facebook.com/sharer.php", {"u": [URL]}),
        ("X", "https://x.com/intent/tweet", {"text": [TEXT], "url": [URL]}),
        ("LINKEDIN", "https://www.linkedin.com/sharing/share-offsite/", {"url": [URL]}),
        ("TELEGRAM", "https://t.me/share/url", {"url": [URL], "text": [TEXT]}),
        ("EMAIL", "mailto:", {"subject": ["Hi there"], "body": [TEXT + " " + URL]}),
        ("SMS", "sms:", {"body": [TEXT + " " + URL]}),
    ],
)
def test_share_intents_carry_the_referral_url_encoded(
    network: Network, prefix: str, params: dict[str, list[str]]
) -> None:
    intent = share_intent(network, URL, TEXT, "Hi there")
    assert intent.startswith(prefix + "?")
    assert " " not in intent and "&free" not in intent  # every value is URL-encoded
    assert parse_qs(urlsplit(intent).query) == params


def test_source_goes_last_and_replaces_template_values() -> None:
    head, tail = split_for_source(
        "https://shop.example/p?mbsy=OLD&x=1&mbsy_source=old#frag", "JANE42"
    )
    assert head == "https://shop.example/p?x=1&mbsy=JANE42&mbsy_source="
    assert tail == "#frag"
    assert split_for_source("https://shop.example", None) == (
        "https://shop.example/?mbsy_source=",
        "",
    )


def test_other_query_segments_are_kept_byte_for_byte() -> None:
    head, _ = split_for_source("https://shop.example/p?flag&name=Jos%E9&a=%zz&t=1;x=2", None)
    assert head == "https://shop.example/p?flag&name=Jos%E9&a=%zz&t=1;x=2&mbsy_source="
