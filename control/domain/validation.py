"""Field checks shared by the domain modules. Each raises InvalidArgument naming the field.

Every text a caller sends passes `text()`: PostgreSQL refuses NUL bytes in text
columns, and without a length cap one request could store megabytes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from control.domain.errors import InvalidArgument

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_LINK_NAME = re.compile(r"[a-z0-9_-]{1,32}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_SHORTCODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_EXTERNAL_ID = 200
MAX_URL = 2048
# Larger than any real order (10 billion in a currency's major unit), small
# enough that sums over millions of orders stay far inside int64.
MAX_AMOUNT_MINOR = 10**12
# Timestamps outside these years are a caller's mistake, not a message or an order.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def text(name: str, value: str, max_length: int) -> str:
    if "\x00" in value:
        raise InvalidArgument.field(name, "must not contain NUL characters")
    if len(value) > max_length:
        raise InvalidArgument.field(name, f"longer than {max_length} characters")
    return value


def positive_id(name: str, value: int) -> int:
    if value <= 0:
        raise InvalidArgument.field(name, "required (a positive id)")
    return value


def external_id(name: str, value: str) -> str:
    if not value.strip():
        raise InvalidArgument.field(name, "required")
    return text(name, value, MAX_EXTERNAL_ID)


def display_name(name: str, value: str) -> str:
    value = text(name, value, 200).strip()
    if not value:
        raise InvalidArgument.field(name, "required, at most 200 characters")
    return value


def share_domain(value: str) -> str:
    """A bare host name such as share.acme.example: no scheme, port or path."""
    domain = value.strip().lower().rstrip(".")
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise InvalidArgument.field(
            "share_domain", f"{value[:100]!r} is not a host name like share.example.com"
        )
    return domain


# Everything URL syntax allows stays as it is; other characters (IRIs) are
# percent-encoded as UTF-8, so the Location header is plain ASCII.
_URL_SAFE = "!#$%&'()*+,-./:;=?@[]_~"


def destination_url(field_name: str, value: str) -> str:
    value = text(field_name, value.strip(), MAX_URL)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidArgument.field(field_name, "must not contain control characters")
    if not value.isascii():
        if not (urlsplit(value).hostname or "").isascii():
            raise InvalidArgument.field(field_name, "write the host name in its punycode form")
        value = quote(value, safe=_URL_SAFE)
    try:
        parts = urlsplit(value)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host or any(c.isspace() for c in value):
        raise InvalidArgument.field(field_name, f"{value[:100]!r} is not an absolute http(s) URL")
    return value


def link_name(field_name: str, value: str) -> str:
    if not _LINK_NAME.fullmatch(value):
        raise InvalidArgument.field(field_name, f"{value[:40]!r}: use 1-32 of a-z 0-9 _ -")
    return value


def currency(value: str) -> str:
    if not _CURRENCY.fullmatch(value):
        raise InvalidArgument.field("currency", f"{value[:10]!r} is not an ISO 4217 code like USD")
    return value


def amount_minor(value: int) -> int:
    if not 0 <= value <= MAX_AMOUNT_MINOR:
        raise InvalidArgument.field("amount_minor", f"must be between 0 and {MAX_AMOUNT_MINOR}")
    return value


def shortcode(field_name: str, value: str) -> str:
    if not _SHORTCODE.fullmatch(value):
        raise InvalidArgument.field(field_name, f"{value[:70]!r}: use 1-64 of A-Z a-z 0-9 _ -")
    return value


def moment(field_name: str, value: datetime | None) -> datetime | None:
    if value is not None and not _EARLIEST <= value < _LATEST:
        raise InvalidArgument.field(field_name, "must be between the years 2000 and 2200")
    return value
