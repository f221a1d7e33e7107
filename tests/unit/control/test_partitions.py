"""Weekly click partitions: weeks start on Monday 00:00 UTC; the retention horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from control.domain.partitions import WEEK, ClickPartitions, partition_name, week_start

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (MONDAY, MONDAY),
        (MONDAY + timedelta(microseconds=1), MONDAY),
        (MONDAY + WEEK - timedelta(microseconds=1), MONDAY),  # Sunday 23:59:59.999999
        (MONDAY + WEEK, MONDAY + WEEK),
        (MONDAY - timedelta(microseconds=1), MONDAY - WEEK),
        (datetime(2026, 11, 27, 15, 30, tzinfo=UTC), MONDAY),  # a Friday
        # Weeks are UTC weeks: Monday 01:00 at UTC+2 is still Sunday in UTC.
        (datetime(2026, 11, 23, 1, 0, tzinfo=timezone(timedelta(hours=2))), MONDAY - WEEK),
        # ...and Sunday 20:00 at UTC-5 is already Monday in UTC.
        (datetime(2026, 11, 22, 20, 0, tzinfo=timezone(timedelta(hours=-5))), MONDAY),
        # Across a year boundary, and before the Unix epoch's first Monday.
        (datetime(2027, 1, 1, tzinfo=UTC), datetime(2026, 12, 28, tzinfo=UTC)),
        (datetime(1970, 1, 1, tzinfo=UTC), datetime(1969, 12, 29, tzinfo=UTC)),
        (datetime(2000, 1, 1, tzinfo=UTC), datetime(1999, 12, 27, tzinfo=UTC)),
    ],
)
def test_week_start_is_the_monday_before_in_utc(moment: datetime, expected: datetime) -> None:
    start = week_start(moment)
    assert start == expected
    assert start.weekday() == 0 and start.utcoffset() == timedelta(0)
    assert (start.hour, start.minute, start.second, start.microsecond) == (0, 0, 0, 0)
    assert start <= moment < start + WEEK


def test_every_day_of_a_week_has_the_same_start() -> None:
    starts = {week_start(MONDAY + timedelta(hours=h)) for h in range(7 * 24)}
    assert starts == {MONDAY}


def test_partition_names_are_the_week_start_date() -> None:
    assert partition_name(MONDAY) == "clicks_20261123"
    assert partition_name(datetime(1999, 12, 27, tzinfo=UTC)) == "clicks_19991227"


def test_retention_zero_keeps_clicks_forever() -> None:
    assert ClickPartitions(retention_days=0).horizon(MONDAY) is None
    assert ClickPartitions(retention_days=0).horizon() is None


@pytest.mark.parametrize("days", [1, 7, 30, 400])
@pytest.mark.parametrize(
    "now",
    [
        MONDAY,
        MONDAY + timedelta(days=3, hours=5),
        MONDAY + WEEK - timedelta(microseconds=1),
    ],
)
def test_horizon_is_the_week_start_at_or_before_the_retention_period(
    days: int, now: datetime
) -> None:
    horizon = ClickPartitions(retention_days=days).horizon(now)
    assert horizon is not None
    oldest_kept = now - timedelta(days=days)
    # Whole weeks only: everything from the horizon's week on is kept, so a click
    # is kept at least `days` and less than `days` plus a week.
    assert horizon == week_start(oldest_kept)
    assert horizon <= oldest_kept < horizon + WEEK
    assert horizon.weekday() == 0


def test_horizon_defaults_to_now() -> None:
    before = datetime.now(UTC)
    horizon = ClickPartitions(retention_days=30).horizon()
    after = datetime.now(UTC)
    assert horizon in {
        week_start(before - timedelta(days=30)),
        week_start(after - timedelta(days=30)),
    }
