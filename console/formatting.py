"""Numbers as people read them: the pages' Jinja filters."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from google.protobuf.timestamp_pb2 import Timestamp

DASH = "—"


def count(value: int) -> str:
    """12,345"""
    return f"{value:,}"


def percent(value: float | None) -> str:
    """12.3%, or a dash where there is nothing to divide by."""
    return DASH if value is None else f"{value * 100:.1f}%"


def money(amount_minor: int, currency: str) -> str:
    """$1,234.50, €9.99, ¥1,200: the currency's own symbol and minor unit
    (Babel's CLDR data), in English number style."""
    digits = get_currency_precision(currency)  # 2 for a code CLDR does not know
    amount = Decimal(amount_minor).scaleb(-digits)
    return format_currency(amount, currency, locale="en_US", currency_digits=True)


def _datetime(value: Timestamp | datetime) -> datetime:
    if isinstance(value, Timestamp):
        return value.ToDatetime(tzinfo=UTC)
    return value.astimezone(UTC)


def moment(value: Timestamp | datetime) -> str:
    """2026-12-06 14:05:09 UTC"""
    return _datetime(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def minute(value: Timestamp | datetime) -> str:
    """2026-12-06 14:05 UTC"""
    return _datetime(value).strftime("%Y-%m-%d %H:%M UTC")


def day(value: Timestamp | datetime) -> str:
    """6 Dec 2026"""
    when = _datetime(value)
    return f"{when.day} {when:%b %Y}"


def duration(seconds: int) -> str:
    """30 days, 12 hours, 90 minutes"""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            amount = seconds // size
            return f"{amount} {unit}{'' if amount == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


FILTERS = {
    "count": count,
    "percent": percent,
    "money": money,
    "moment": moment,
    "minute": minute,
    "day": day,
    "duration": duration,
}
