from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from console.charts import HEIGHT, LEFT, WIDTH, Chart, bar_chart, bucket_label
from smarturls.v1 import dashboard_pb2

Point = dashboard_pb2.TimeSeriesPoint
START = datetime(2026, 11, 1, tzinfo=UTC)


def _points(clicks: list[int], step: timedelta = timedelta(hours=1)) -> list[Point]:
    return [Point(start=START + i * step, clicks=n) for i, n in enumerate(clicks)]


def _chart(clicks: list[int], hourly: bool = True) -> Chart:
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    return bar_chart("Clicks", "clicks", _points(clicks, step), lambda p: p.clicks, hourly)


def test_bars_scale_to_the_peak() -> None:
    chart = _chart([10, 40, 20, 0])
    heights = [b.height for b in chart.bars]
    assert heights[1] == HEIGHT - 4
    assert heights[0] == pytest.approx((HEIGHT - 4) / 4)
    assert heights[2] == pytest.approx((HEIGHT - 4) / 2)
    assert heights[3] == 0.0


def test_bars_stand_on_the_baseline() -> None:
    for bar in _chart([10, 40, 20, 0, 1]).bars:
        assert bar.y + bar.height == HEIGHT
        assert bar.y >= 0


def test_a_tiny_bucket_is_at_least_a_hairline() -> None:
    chart = _chart([1, 100_000, 0])
    assert chart.bars[0].height == 1.0
    assert chart.bars[2].height == 0.0


def test_bars_carry_their_exact_values() -> None:
    chart = _chart([3, 0, 17])
    assert [b.value for b in chart.bars] == [3, 0, 17]


def test_total_and_peak() -> None:
    chart = _chart([3, 0, 17, 5])
    assert (chart.total, chart.peak) == (25, 17)
    assert (chart.title, chart.css_class) == ("Clicks", "clicks")


def test_the_value_function_picks_the_series() -> None:
    points = [Point(start=START, clicks=5, orders=2), Point(start=START, clicks=1, orders=8)]
    chart = bar_chart("Orders", "orders", points, lambda p: p.orders, hourly=False)
    assert [b.value for b in chart.bars] == [2, 8]
    assert (chart.total, chart.peak) == (10, 8)


def test_an_empty_series_has_no_bars() -> None:
    chart = _chart([])
    assert chart.bars == []
    assert (chart.peak, chart.total) == (0, 0)


def test_an_all_zero_series_draws_nothing() -> None:
    chart = _chart([0, 0, 0])
    assert [b.height for b in chart.bars] == [0.0, 0.0, 0.0]
    assert (chart.peak, chart.total) == (0, 0)


# From one bucket to a 400-day custom range by day and 14 days by hour.
@pytest.mark.parametrize("count", [1, 2, 7, 24, 91, 337, 400, 401])
def test_bars_do_not_overlap_and_stay_inside_the_chart(count: int) -> None:
    bars = _chart([i % 7 + 1 for i in range(count)]).bars
    assert len(bars) == count
    assert bars[0].x >= LEFT
    assert bars[-1].x + bars[-1].width <= WIDTH
    for left, right in pairwise(bars):
        assert left.width > 0
        assert left.x + left.width <= right.x


def test_bars_share_the_axis_in_time_order() -> None:
    bars = _chart([1, 2, 3, 4]).bars
    slot = (WIDTH - LEFT) / 4
    assert [b.x - bars[0].x for b in bars] == pytest.approx([0, slot, 2 * slot, 3 * slot])
    assert len({b.width for b in bars}) == 1


def test_hourly_labels() -> None:
    bars = _chart([1, 2, 3], hourly=True).bars
    assert [b.label for b in bars] == [
        "2026-11-01 00:00 UTC",
        "2026-11-01 01:00 UTC",
        "2026-11-01 02:00 UTC",
    ]


def test_daily_labels() -> None:
    bars = _chart([1, 2, 3], hourly=False).bars
    assert [b.label for b in bars] == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_a_label_is_the_utc_time_of_the_bucket() -> None:
    point = Point(start=datetime(2026, 3, 31, 23, 0, tzinfo=UTC))
    assert bucket_label(point, hourly=True) == "2026-03-31 23:00 UTC"
    assert bucket_label(point, hourly=False) == "2026-03-31"
