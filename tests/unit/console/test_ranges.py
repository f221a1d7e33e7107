from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from console.ranges import (
    MAX_CUSTOM_DAYS,
    DateRange,
    RangeError,
    bucket_for,
    parse_range,
)

NOW = datetime(2026, 11, 20, 15, 42, 7, 123456, tzinfo=UTC)


@pytest.mark.parametrize(("preset", "days"), [("7d", 7), ("30d", 30), ("90d", 90)])
def test_a_preset_ends_now_and_starts_n_days_before(preset: str, days: int) -> None:
    span = parse_range({"range": preset}, NOW)
    assert span.preset == preset
    assert span.end == NOW
    assert span.start == NOW - timedelta(days=days)
    assert span.first_day == (NOW - timedelta(days=days)).date()
    assert span.last_day == NOW.date()


@pytest.mark.parametrize("params", [{}, {"range": ""}])
def test_no_range_means_the_last_30_days(params: dict[str, str]) -> None:
    span = parse_range(params, NOW)
    assert span.preset == "30d"
    assert (span.start, span.end) == (NOW - timedelta(days=30), NOW)


def test_a_custom_range_is_whole_utc_days_with_to_inclusive() -> None:
    span = parse_range({"range": "custom", "from": "2026-11-01", "to": "2026-11-07"}, NOW)
    assert span.preset == "custom"
    assert span.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 8, tzinfo=UTC)
    assert (span.first_day, span.last_day) == (date(2026, 11, 1), date(2026, 11, 7))


def test_a_custom_range_of_one_day_covers_that_day() -> None:
    span = parse_range({"range": "custom", "from": "2026-02-28", "to": "2026-02-28"}, NOW)
    assert span.start == datetime(2026, 2, 28, tzinfo=UTC)
    assert span.end == datetime(2026, 3, 1, tzinfo=UTC)


def test_a_custom_range_ignores_now() -> None:
    params = {"range": "custom", "from": "2025-01-01", "to": "2025-01-31"}
    assert parse_range(params, NOW) == parse_range(params, NOW + timedelta(days=100))


def test_custom_dates_may_carry_surrounding_spaces() -> None:
    span = parse_range({"range": "custom", "from": " 2026-11-01 ", "to": "2026-11-02\n"}, NOW)
    assert (span.first_day, span.last_day) == (date(2026, 11, 1), date(2026, 11, 2))


def test_the_longest_custom_range_is_accepted() -> None:
    first = date(2025, 1, 1)
    last = first + timedelta(days=MAX_CUSTOM_DAYS - 1)
    span = parse_range({"range": "custom", "from": str(first), "to": str(last)}, NOW)
    assert span.end - span.start == timedelta(days=MAX_CUSTOM_DAYS)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"range": "1y"}, "range"),
        ({"range": "CUSTOM", "from": "2026-11-01", "to": "2026-11-02"}, "range"),
        ({"range": "custom", "to": "2026-11-02"}, "from"),
        ({"range": "custom", "from": "", "to": "2026-11-02"}, "from"),
        ({"range": "custom", "from": "   ", "to": "2026-11-02"}, "from"),
        ({"range": "custom", "from": "yesterday", "to": "2026-11-02"}, "from"),
        ({"range": "custom", "from": "2026-02-30", "to": "2026-03-02"}, "from"),
        ({"range": "custom", "from": "2026-11-01"}, "to"),
        ({"range": "custom", "from": "2026-11-01", "to": "11/02/2026"}, "to"),
        ({"range": "custom", "from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"range": "custom", "from": "2025-01-01", "to": "2026-02-05"}, "to"),
    ],
)
def test_a_bad_range_names_its_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(RangeError) as raised:
        parse_range(params, NOW)
    assert str(raised.value).startswith(f"{field}: ")


def test_range_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_range({"range": "forever"}, NOW)


def test_the_error_messages_say_what_is_wrong() -> None:
    def message(params: dict[str, str]) -> str:
        with pytest.raises(RangeError) as raised:
            parse_range(params, NOW)
        return str(raised.value)

    assert message({"range": "custom", "to": "2026-11-01"}) == (
        "from: needs a date such as 2026-11-01"
    )
    assert message({"range": "custom", "from": "soon", "to": "2026-11-01"}) == (
        "from: 'soon' is not a date such as 2026-11-01"
    )
    assert message({"range": "custom", "from": "2026-11-02", "to": "2026-11-01"}) == (
        "to: must not be before from"
    )
    first = date(2025, 1, 1)
    too_far = first + timedelta(days=MAX_CUSTOM_DAYS)
    assert message({"range": "custom", "from": str(first), "to": str(too_far)}) == (
        f"to: at most {MAX_CUSTOM_DAYS} days after from"
    )
    assert message({"range": "1y"}) == "range: '1y' is not one of 7d, 30d, 90d, custom"


@pytest.mark.parametrize(
    "params",
    [
        {"range": "7d"},
        {"range": "30d"},
        {"range": "90d"},
        {"range": "custom", "from": "2026-11-01", "to": "2026-11-07"},
        {"range": "custom", "from": "2026-01-31", "to": "2026-01-31"},
    ],
)
def test_query_names_the_range_again(params: dict[str, str]) -> None:
    span = parse_range(params, NOW)
    assert span.query() == params
    assert parse_range(span.query(), NOW) == span


def test_the_default_range_names_itself_explicitly() -> None:
    assert parse_range({}, NOW).query() == {"range": "30d"}


@pytest.mark.parametrize(
    "params",
    [{"range": "7d"}, {"range": "custom", "from": "2026-11-01", "to": "2026-11-07"}],
)
def test_to_proto_carries_the_same_instants(params: dict[str, str]) -> None:
    span = parse_range(params, NOW)
    message = span.to_proto()
    assert message.HasField("from")
    assert message.HasField("to")
    assert getattr(message, "from").ToDatetime(tzinfo=UTC) == span.start
    assert message.to.ToDatetime(tzinfo=UTC) == span.end


def _span(length: timedelta) -> DateRange:
    return DateRange(NOW - length, NOW, "custom", (NOW - length).date(), NOW.date())


@pytest.mark.parametrize(
    ("length", "bucket"),
    [
        (timedelta(hours=1), "hour"),
        (timedelta(days=1), "hour"),
        (timedelta(days=3), "hour"),
        (timedelta(days=3, seconds=1), "day"),
        (timedelta(days=7), "day"),
        (timedelta(days=400), "day"),
    ],
)
def test_the_bucket_follows_the_span_when_nothing_is_asked(length: timedelta, bucket: str) -> None:
    assert bucket_for(_span(length), None) == bucket


@pytest.mark.parametrize(
    ("length", "bucket"),
    [
        (timedelta(days=1), "hour"),
        (timedelta(days=7), "hour"),
        (timedelta(days=14), "hour"),
        (timedelta(days=14, seconds=1), "day"),
        (timedelta(days=90), "day"),
    ],
)
def test_hours_are_honoured_only_up_to_max_hourly(length: timedelta, bucket: str) -> None:
    assert bucket_for(_span(length), "hour") == bucket


@pytest.mark.parametrize("length", [timedelta(hours=1), timedelta(days=3), timedelta(days=400)])
def test_days_are_always_honoured(length: timedelta) -> None:
    assert bucket_for(_span(length), "day") == "day"


@pytest.mark.parametrize("asked", ["", "week", "HOUR"])
def test_an_unknown_bucket_is_chosen_by_span(asked: str) -> None:
    assert bucket_for(_span(timedelta(days=1)), asked) == "hour"
    assert bucket_for(_span(timedelta(days=30)), asked) == "day"


def test_presets_chart_by_day_unless_hours_are_asked() -> None:
    week = parse_range({"range": "7d"}, NOW)
    assert bucket_for(week, None) == "day"
    assert bucket_for(week, "hour") == "hour"
    assert bucket_for(parse_range({"range": "30d"}, NOW), "hour") == "day"
