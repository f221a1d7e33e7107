"""Bar charts drawn on the server as inline SVG: one small chart per series,
each on its own scale, sharing the time axis. Every bar carries its exact
value in a <title>, and the page prints the numbers in a table beside it, so
nothing needs JavaScript."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from smarturls.v1 import dashboard_pb2

WIDTH = 1200
HEIGHT = 80
# Room on the left for the scale's top value.
LEFT = 48


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    css_class: str
    peak: int
    total: int
    bars: list[Bar]


def bucket_label(point: dashboard_pb2.TimeSeriesPoint, hourly: bool) -> str:
    start = point.start.ToDatetime(tzinfo=UTC)
    return start.strftime("%Y-%m-%d %H:00 UTC" if hourly else "%Y-%m-%d")


def bar_chart(
    title: str,
    css_class: str,
    points: Sequence[dashboard_pb2.TimeSeriesPoint],
    value: Callable[[dashboard_pb2.TimeSeriesPoint], int],
    hourly: bool,
) -> Chart:
    values = [value(p) for p in points]
    peak = max(values, default=0)
    slot = (WIDTH - LEFT) / max(len(points), 1)
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, (point, amount) in enumerate(zip(points, values, strict=True)):
        # An empty bucket draws nothing; a small one at least a hairline.
        height = 0.0 if not amount else max(1.0, (HEIGHT - 4) * amount / peak)
        bars.append(
            Bar(
                x=LEFT + index * slot + gap / 2,
                y=HEIGHT - height,
                width=max(slot - gap, 0.5),
                height=height,
                value=amount,
                label=bucket_label(point, hourly),
            )
        )
    return Chart(title, css_class, peak, sum(values), bars)
