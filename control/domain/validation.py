"""Field checks shared by the domain modules. Each raises InvalidArgument naming the field."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from control.domain.errors import InvalidArgument

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LINK_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SHORTCODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_EXTERNAL_ID = 200


def positive_id(name: str, value: int) -> int:
    if value <= 0:
        raise InvalidArgument.field(name, "required (a positive id)")
    return value


def external_id(name: str, value: str) -> str:
    if not value.strip():
        raise InvalidArgument.field(name, "required")
    if len(value) > MAX_EXTERNAL_ID:
        raise InvalidArgument.field(name, f"longer than {MAX_EXTERNAL_ID} characters")
    return value


def display_name(name: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200:
        raise InvalidArgument.field(name, "required, at most 200 characters")
    return value


def share_domain(value: str) -> str:
    """A bare host name such as share.acme.example: no scheme, port or path."""
    domain = value.strip().lower().rstrip(".")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise InvalidArgument.field(
            "share_domain", f"{value!r} is not a host name like share.example.com"
        )
    return domain


def destination_url(field_name: str, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument.field(field_name, f"{value!r} is not an absolute http(s) URL")
    return value.strip()


def link_name(field_name: str, value: str) -> str:
    if not _LINK_NAME.match(value):
        raise InvalidArgument.field(field_name, f"{value!r}: use 1-32 of a-z 0-9 _ -")
    return value


def currency(value: str) -> str:
    if not _CURRENCY.match(value):
        raise InvalidArgument.field("currency", f"{value!r} is not an ISO 4217 code like USD")
    return value


def shortcode(field_name: str, value: str) -> str:
    if not _SHORTCODE.match(value):
        raise InvalidArgument.field(field_name, f"{value!r}: use 1-64 of A-Z a-z 0-9 _ -")
    return value
