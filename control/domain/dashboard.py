"""Per-template performance, answered from the hourly rollups (rollups.py).

A range counts whole hours (UTC): `from` is rounded down and `to` up, and the
answer says which range it counted. Messages count by send time, clicks by
click time, conversions by when they occurred; a unique clicker counts in
the hour of the message's first human click.

The headline `conversions` is the current goal's metric over the whole range;
goal_periods show which goal applied when, to the second, with that goal's
metric over exactly its part of the range: whole hours from the rollups, and
the hours a change falls in from the outcomes themselves (a few rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import asyncpg

from control.domain import validation
from control.domain.accounts import get_account
from control.domain.errors import InvalidArgument
from control.domain.model import (
    Channel,
    Figures,
    Goal,
    GoalPeriod,
    TemplatePerformance,
    TimeSeriesPoint,
)
from control.domain.rollups import COLUMNS, COUNTS, FIRST
from control.domain.templates import load_template

DEFAULT_RANGE = timedelta(days=30)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MAX_POINTS = 10_000

SortBy = Literal[
    "NAME",
    "MESSAGES_SENT",
    "CLICKS",
    "UNIQUE_CLICKERS",
    "CONVERSIONS",
    "CONVERSION_RATE",
    "REVENUE",
]
BucketSize = Literal["HOUR", "DAY"]

_SUMS = ", ".join(f"sum({c})::bigint AS {c}" for c in COLUMNS)

_COLUMN_LIST = ", ".join(COLUMNS)

# Whole days from the daily table, the hours at either end from the hourly one.
_FIGURES = f"""
SELECT template_id, {_SUMS} FROM (
    SELECT template_id, {_COLUMN_LIST} FROM template_hourly
    WHERE account_id = $1 AND template_id = ANY($2::bigint[]) AND hour >= $3 AND hour < $4
    UNION ALL
    SELECT template_id, {_COLUMN_LIST} FROM template_daily
    WHERE account_id = $1 AND template_id = ANY($2::bigint[]) AND day >= $4 AND day < $5
    UNION ALL
    SELECT template_id, {_COLUMN_LIST} FROM template_hourly
    WHERE account_id = $1 AND template_id = ANY($2::bigint[]) AND hour >= $5 AND hour < $6
) parts
GROUP BY template_id
"""

_REVENUE = """
SELECT template_id, currency, sum(revenue_minor) AS revenue_minor FROM (
    SELECT template_id, currency, revenue_minor FROM template_hourly_revenue
    WHERE account_id = $1 AND template_id = ANY($2::bigint[]) AND hour >= $3 AND hour < $4
    UNION ALL
    SELECT template_id, currency, revenue_minor FROM template_daily_revenue
    WHERE account_id = $1 AND template_id = ANY($2::bigint[]) AND day >= $4 AND day < $5
    UNION ALL
    SELECT template_id, currency, revenue_minor FROM template_hourly_revenue
    WHERE account_id = $1 AND template_id = ANY($2::bigint[]) AND hour >= $5 AND hour < $6
) parts
GROUP BY template_id, currency
"""

_INT64_MAX = 2**63 - 1


def floor_to(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    floored = floor_to(moment, step)
    return floored if floored == moment else floored + step


def time_range(
    since: datetime | None, until: datetime | None, step: timedelta = HOUR
) -> tuple[datetime, datetime]:
    until = validation.moment("range.to", until) or datetime.now(UTC)
    since = validation.moment("range.from", since) or until - DEFAULT_RANGE
    if since >= until:
        raise InvalidArgument.field("range.from", "must be before range.to")
    return floor_to(since, step), ceil_to(until, step)


async def _figures(
    conn: asyncpg.Connection,
    account_id: int,
    template_ids: Sequence[int],
    since: datetime,
    until: datetime,
) -> dict[int, Figures]:
    # [since, first_day) hourly, [first_day, last_day) daily, [last_day, until) hourly.
    first_day, last_day = ceil_to(since, DAY), floor_to(until, DAY)
    if first_day >= last_day:
        first_day = last_day = until
    bounds = (since, first_day, last_day, until)
    revenue: dict[int, dict[str, int]] = {}
    for row in await conn.fetch(_REVENUE, account_id, template_ids, *bounds):
        # numeric: a sum of bigints may not fit a bigint; clamp it.
        amount = min(int(row["revenue_minor"]), _INT64_MAX)
        if amount:
            revenue.setdefault(row["template_id"], {})[row["currency"]] = amount
    figures = {}
    for row in await conn.fetch(_FIGURES, account_id, template_ids, *bounds):
        values = {c: row[c] for c in COLUMNS}
        figures[row["template_id"]] = Figures(**values, revenue=revenue.get(row["template_id"], {}))
    return figures


def _periods(
    history: Sequence[tuple[Goal | None, datetime]], since: datetime, until: datetime
) -> list[tuple[Goal | None, datetime, datetime]]:
    """The goal of each part of [since, until), from the goal history, to the
    second; the first goal covers the range's start (it applied from creation)."""
    periods: list[tuple[Goal | None, datetime, datetime]] = []
    for i, (goal, effective) in enumerate(history):
        start = max(effective, since) if i else since
        end = min(history[i + 1][1], until) if i + 1 < len(history) else until
        if start < end:
            periods.append((goal, start, end))
    return periods or [(history[-1][0] if history else None, since, until)]


# The goal's outcomes (kind, once per person or each) in the part of an hour a
# goal change cuts, from the conversions themselves, counted as the rollups
# count them: attributed and still counting, and for the unique figures the
# person's first of the message (wherever it fell, as the rollups place it).
_GOAL_OUTCOMES = f"""
SELECT count(*) FROM conversions c
WHERE c.account_id = $1 AND c.template_id = $2 AND c.kind = $3
  AND c.occurred_at >= $4 AND c.occurred_at < $5 AND {COUNTS}
  AND (NOT $6::boolean OR {FIRST})
"""

_GOAL_KINDS: dict[Goal, tuple[str, bool]] = {
    "ADVOCATE_SHARE": ("SHARE", True),
    "SIGNUPS": ("SIGNUP", True),
    "ORDERS": ("ORDER", False),
}


async def _period_metric(
    conn: asyncpg.Connection,
    account_id: int,
    template_id: int,
    goal: Goal | None,
    since: datetime,
    until: datetime,
) -> int:
    """The goal's metric over [since, until): the whole hours inside it from the
    rollups, the parts of hours at either end from the outcomes."""
    if goal is None:
        return 0
    kind, unique = _GOAL_KINDS[goal]
    first_hour, last_hour = ceil_to(since, HOUR), floor_to(until, HOUR)
    if first_hour >= last_hour:
        edges = [(since, until)]
        metric = 0
    else:
        edges = [(since, first_hour), (last_hour, until)]
        whole = await _figures(conn, account_id, [template_id], first_hour, last_hour)
        metric = whole.get(template_id, Figures()).goal_metric(goal)
    for start, end in edges:
        if start < end:
            metric += int(
                await conn.fetchval(
                    _GOAL_OUTCOMES, account_id, template_id, kind, start, end, unique
                )
            )
    return metric


async def template_performance(
    db: asyncpg.Pool,
    account_id: int,
    since: datetime | None,
    until: datetime | None,
    *,
    template_id: int | None = None,
    channel: Channel | None = None,
    sort_by: SortBy | None = None,
    descending: bool = False,
) -> list[TemplatePerformance]:
    validation.positive_id("account_id", account_id)
    start, end = time_range(since, until)
    async with db.acquire() as conn:
        await get_account(conn, account_id)
        if template_id is not None:
            await load_template(conn, account_id, template_id)
        templates = await conn.fetch(
            "SELECT template_id, name, channel FROM templates WHERE account_id = $1"
            " AND ($2::bigint IS NULL OR template_id = $2)"
            " AND ($3::text IS NULL OR channel = $3)",
            account_id,
            template_id,
            channel,
        )
        ids = [t["template_id"] for t in templates]
        history: dict[int, list[tuple[Goal | None, datetime]]] = {i: [] for i in ids}
        for row in await conn.fetch(
            "SELECT template_id, goal, effective_from FROM template_goals"
            " WHERE account_id = $1 AND template_id = ANY($2::bigint[])"
            " ORDER BY template_id, effective_from",
            account_id,
            ids,
        ):
            history[row["template_id"]].append((row["goal"], row["effective_from"]))
        figures = await _figures(conn, account_id, ids, start, end)
        performances = []
        for t in templates:
            tid = t["template_id"]
            periods = _periods(history[tid], start, end)
            goal_periods = []
            for goal, p_start, p_end in periods:
                if len(periods) == 1:
                    metric = figures.get(tid, Figures()).goal_metric(goal)
                else:
                    metric = await _period_metric(conn, account_id, tid, goal, p_start, p_end)
                goal_periods.append(GoalPeriod(goal, p_start, p_end, metric))
            performances.append(
                TemplatePerformance(
                    template_id=tid,
                    name=t["name"],
                    channel=t["channel"],
                    goal=history[tid][-1][0] if history[tid] else None,
                    figures=figures.get(tid, Figures()),
                    since=start,
                    until=end,
                    goal_periods=tuple(goal_periods),
                )
            )
    return sort_performances(performances, sort_by, descending)


_SORT_KEYS: dict[SortBy, Callable[[TemplatePerformance], object]] = {
    "NAME": lambda p: p.name.casefold(),
    "MESSAGES_SENT": lambda p: p.figures.messages_sent,
    "CLICKS": lambda p: p.figures.clicks,
    "UNIQUE_CLICKERS": lambda p: p.figures.unique_clickers,
    "CONVERSIONS": lambda p: p.conversions,
    "CONVERSION_RATE": lambda p: p.conversion_rate,
    "REVENUE": lambda p: sum(p.figures.revenue.values()),
}


def sort_performances(
    performances: list[TemplatePerformance], sort_by: SortBy | None, descending: bool
) -> list[TemplatePerformance]:
    # Ties keep a stable order by template id.
    ordered = sorted(performances, key=lambda p: p.template_id)
    key = _SORT_KEYS[sort_by or "NAME"]
    return sorted(ordered, key=key, reverse=descending)  # type: ignore[arg-type]


async def template_time_series(
    db: asyncpg.Pool,
    account_id: int,
    template_id: int,
    since: datetime | None,
    until: datetime | None,
    bucket: BucketSize,
) -> tuple[Goal | None, list[TimeSeriesPoint]]:
    """Every bucket of the range (UTC hours or days), empty ones included."""
    step = HOUR if bucket == "HOUR" else DAY
    start, end = time_range(since, until, step)
    if (end - start) / step > MAX_POINTS:
        raise InvalidArgument.field("range", f"more than {MAX_POINTS} buckets; use day buckets")
    # Day buckets read the daily table; the range is whole buckets either way.
    table, period = ("template_hourly", "hour") if bucket == "HOUR" else ("template_daily", "day")
    async with db.acquire() as conn:
        template = await load_template(conn, account_id, template_id)
        rows = await conn.fetch(
            f"SELECT {period} AS start, {_SUMS} FROM {table}"
            f" WHERE account_id = $1 AND template_id = $2 AND {period} >= $3 AND {period} < $4"
            " GROUP BY 1",
            account_id,
            template_id,
            start,
            end,
        )
        revenue: dict[datetime, dict[str, int]] = {}
        for row in await conn.fetch(
            f"SELECT {period} AS start, currency, sum(revenue_minor) AS revenue_minor"
            f" FROM {table}_revenue WHERE account_id = $1 AND template_id = $2"
            f" AND {period} >= $3 AND {period} < $4 GROUP BY 1, 2",
            account_id,
            template_id,
            start,
            end,
        ):
            amount = min(int(row["revenue_minor"]), _INT64_MAX)
            if amount:
                revenue.setdefault(row["start"], {})[row["currency"]] = amount
    by_start = {
        row["start"]: Figures(**{c: row[c] for c in COLUMNS}, revenue=revenue.get(row["start"], {}))
        for row in rows
    }
    points = []
    moment = start
    while moment < end:
        points.append(TimeSeriesPoint(moment, by_start.get(moment, Figures())))
        moment += step
    return template.goal, points
