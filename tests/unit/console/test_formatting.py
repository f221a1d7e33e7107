from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from jinja2 import Environment, PackageLoader, select_autoescape

from console import formatting


def _timestamp(when: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0, "0"), (999, "999"), (1000, "1,000"), (1234567, "1,234,567"), (-12345, "-12,345")],
)
def test_count_separates_thousands(value: int, shown: str) -> None:
    assert formatting.count(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.0, "0.0%"), (0.1234, "12.3%"), (0.12345, "12.3%"), (0.0006, "0.1%"), (1.0, "100.0%")],
)
def test_percent_has_one_decimal(value: float, shown: str) -> None:
    assert formatting.percent(value) == shown


def test_percent_of_nothing_is_a_dash() -> None:
    assert formatting.percent(None) == formatting.DASH == "\u2014"


@pytest.mark.parametrize(
    ("amount_minor", "currency", "shown"),
    [
        (123450, "USD", "$1,234.50"),
        (123456789, "USD", "$1,234,567.89"),
        (5, "USD", "$0.05"),
        (-123450, "USD", "-$1,234.50"),
        (999, "EUR", "\u20ac9.99"),
        (1200, "JPY", "\u00a51,200"),
        (1234567, "BHD", "BHD1,234.567"),
        (1500, "KWD", "KWD1.500"),
    ],
)
def test_money_uses_the_currencys_symbol_and_minor_unit(
    amount_minor: int, currency: str, shown: str
) -> None:
    assert formatting.money(amount_minor, currency) == shown


AFTERNOON = datetime(2026, 12, 6, 14, 5, 9, tzinfo=UTC)
# The same instant seen from UTC+02:00 and UTC-05:00.
AFTERNOON_EAST = AFTERNOON.astimezone(timezone(timedelta(hours=2)))
AFTERNOON_WEST = AFTERNOON.astimezone(timezone(timedelta(hours=-5)))


@pytest.mark.parametrize(
    "value", [_timestamp(AFTERNOON), AFTERNOON, AFTERNOON_EAST, AFTERNOON_WEST]
)
def test_moment_minute_and_day_are_in_utc(value: Timestamp | datetime) -> None:
    assert formatting.moment(value) == "2026-12-06 14:05:09 UTC"
    assert formatting.minute(value) == "2026-12-06 14:05 UTC"
    assert formatting.day(value) == "6 Dec 2026"


def test_day_follows_the_utc_date_not_the_local_one() -> None:
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    local_next_day = late.astimezone(timezone(timedelta(hours=3)))
    assert local_next_day.day == 1
    assert formatting.day(local_next_day) == "31 Mar 2026"
    assert formatting.day(_timestamp(late)) == "31 Mar 2026"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (86400, "1 day"),
        (2592000, "30 days"),
        (7776000, "90 days"),
        (3600, "1 hour"),
        (43200, "12 hours"),
        (90000, "25 hours"),
        (5400, "90 minutes"),
        (60, "1 minute"),
        (59, "59 seconds"),
        (3601, "3601 seconds"),
    ],
)
def test_duration_uses_the_largest_whole_unit(seconds: int, shown: str) -> None:
    assert formatting.duration(seconds) == shown


@pytest.mark.parametrize("name", PackageLoader("console").list_templates())
def test_every_filter_the_templates_use_is_registered(name: str) -> None:
    """Jinja refuses to compile a template that names an unknown filter."""
    env = Environment(loader=PackageLoader("console"), autoescape=select_autoescape())
    env.filters.update(formatting.FILTERS)
    env.get_template(name)
