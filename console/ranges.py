"""The date range a page counts: a preset (the last 7, 30 or 90 days up to
now) or custom whole UTC days, read from the query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from smarturls.v1 import dashboard_pb2

PRESETS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PRESET = "30d"
# Longer ranges than the control plane keeps clicks for say nothing true.
MAX_CUSTOM_DAYS = 400
# Hour buckets up to this span; longer ranges chart by day.
HOURLY_UP_TO = timedelta(days=3)
MAX_HOURLY = timedelta(days=14)


class RangeError(ValueError):
    """A range the query string names but that cannot be counted; names the field."""


@dataclass(frozen=True, slots=True)
class DateRange:
    start: datetime
    end: datetime  # exclusive
    preset: str  # "7d", "30d", "90d" or "custom"
    # The custom range's days as typed (inclusive), for the form.
    first_day: date
    last_day: date

    def query(self) -> dict[str, str]:
        """The query parameters that name this range again."""
        if self.preset != "custom":
            return {"range": self.preset}
        first, last = self.first_day.isoformat(), self.last_day.isoformat()
        return {"range": "custom", "from": first, "to": last}

    def to_proto(self) -> dashboard_pb2.TimeRange:
        start, end = Timestamp(), Timestamp()
        start.FromDatetime(self.start)
        end.FromDatetime(self.end)
        return dashboard_pb2.TimeRange(**{"from": start, "to": end})


def _day(params: Mapping[str, str], name: str) -> date:
    text = params.get(name, "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        shown = f"{text!r} is not" if text else "needs"
        raise RangeError(f"{name}: {shown} a date such as 2026-11-01") from None


def parse_range(params: Mapping[str, str], now: datetime) -> DateRange:
    preset = params.get("range") or DEFAULT_PRESET
    if preset in PRESETS:
        start = now - timedelta(days=PRESETS[preset])
        return DateRange(start, now, preset, start.date(), now.date())
    if preset != "custom":
        raise RangeError(f"range: {preset!r} is not one of 7d, 30d, 90d, custom")
    first, last = _day(params, "from"), _day(params, "to")
    if last < first:
        raise RangeError("to: must not be before from")
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise RangeError(f"to: at most {MAX_CUSTOM_DAYS} days after from")
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    return DateRange(start, end, "custom", first, last)


def bucket_for(span: DateRange, asked: str | None) -> str:
    """'hour' or 'day': what was asked for when the span allows, else by span."""
    length = span.end - span.start
    if asked == "day" or (asked == "hour" and length <= MAX_HOURLY):
        return asked
    return "hour" if length <= HOURLY_UP_TO else "day"
