from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console import views
from console.views import ChainStep, Sorting, chain, goal_words, parse_sorting, ratio, sorted_rows
from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2

Row = dashboard_pb2.TemplatePerformance


def _names(rows: list[Row]) -> list[str]:
    return [r.name for r in rows]


# --- goal words and ratios ---------------------------------------------------


@pytest.mark.parametrize(
    ("goal", "name", "metric", "metric_one"),
    [
        (common_pb2.GOAL_ADVOCATE_SHARE, "Advocate share", "unique sharers", "unique sharer"),
        (common_pb2.GOAL_SIGNUPS, "Signups", "signups", "signup"),
        (common_pb2.GOAL_ORDERS, "Orders", "orders", "order"),
    ],
)
def test_goal_words_for_each_goal(goal: int, name: str, metric: str, metric_one: str) -> None:
    words = goal_words(goal)
    assert (words.name, words.metric, words.metric_one) == (name, metric, metric_one)
    assert words.explained


@pytest.mark.parametrize("goal", [common_pb2.GOAL_UNSPECIFIED, 99])
def test_no_goal_is_judged_by_clicks(goal: int) -> None:
    words = goal_words(goal)
    assert words is views.NO_GOAL
    assert words.name == "No goal"
    assert words.metric == ""
    assert "clicks" in words.explained


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(1, 4, 0.25), (0, 5, 0.0), (3, 3, 1.0), (0, 0, None), (7, 0, None)],
)
def test_ratio(part: int, whole: int, expected: float | None) -> None:
    assert ratio(part, whole) == expected


def test_outcomes_list_every_outcome_whatever_the_goal() -> None:
    row = Row(
        goal=common_pb2.GOAL_SIGNUPS,
        shares=9,
        unique_sharers=4,
        signups=7,
        unique_signups=6,
        orders=3,
        unique_buyers=2,
    )
    assert [(o.label, o.total, o.unique, o.unique_label) for o in views.outcomes(row)] == [
        ("Shares", 9, 4, "unique sharers"),
        ("Signups", 7, 6, "unique signups"),
        ("Orders", 3, 2, "unique buyers"),
    ]


# --- sorting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        (None, None, Sorting(views.DEFAULT_SORT, True)),
        ("", None, Sorting(views.DEFAULT_SORT, True)),
        ("bogus", None, Sorting(views.DEFAULT_SORT, True)),
        ("bogus", "asc", Sorting(views.DEFAULT_SORT, False)),
        ("name", None, Sorting("name", False)),
        ("goal", None, Sorting("goal", False)),
        ("clicks", None, Sorting("clicks", True)),
        ("rate", None, Sorting("rate", True)),
        ("revenue", None, Sorting("revenue", True)),
        ("non_human", None, Sorting("non_human", True)),
        ("clicks", "asc", Sorting("clicks", False)),
        ("name", "desc", Sorting("name", True)),
        ("name", "sideways", Sorting("name", False)),
        ("sent", "DESC", Sorting("sent", True)),
        ("sent", "ASC", Sorting("sent", True)),
    ],
)
def test_parse_sorting(sort: str | None, direction: str | None, expected: Sorting) -> None:
    assert parse_sorting(sort, direction) == expected


def test_the_default_sort_is_sent_largest_first() -> None:
    assert views.DEFAULT_SORT == "sent"
    assert parse_sorting(None, None) == Sorting("sent", True)


@pytest.mark.parametrize(
    ("current", "clicked", "query"),
    [
        (Sorting("sent", True), "sent", {"sort": "sent", "dir": "asc"}),
        (Sorting("sent", False), "sent", {"sort": "sent", "dir": "desc"}),
        (Sorting("name", False), "name", {"sort": "name", "dir": "desc"}),
        (Sorting("name", True), "name", {"sort": "name", "dir": "asc"}),
        (Sorting("sent", True), "name", {"sort": "name", "dir": "asc"}),
        (Sorting("sent", True), "goal", {"sort": "goal", "dir": "asc"}),
        (Sorting("name", False), "clicks", {"sort": "clicks", "dir": "desc"}),
        (Sorting("clicks", False), "revenue", {"sort": "revenue", "dir": "desc"}),
    ],
)
def test_a_header_link_flips_its_own_column_and_starts_others_naturally(
    current: Sorting, clicked: str, query: dict[str, str]
) -> None:
    assert current.link(clicked) == query


def test_a_header_link_parses_back_to_the_sorting_it_names() -> None:
    for column in views.COLUMNS:
        for current in (Sorting("sent", True), Sorting(column.key, True)):
            query = current.link(column.key)
            parsed = parse_sorting(query["sort"], query["dir"])
            assert parsed.key == column.key
            assert parsed.descending == (query["dir"] == "desc")


def _rows_by(key: str) -> list[Row]:
    """Three templates whose `key` column reads low, middle, high, named so that
    name order disagrees with the column's order."""
    low, middle, high = Row(name="Charlie"), Row(name="Alpha"), Row(name="Bravo")
    for i, row in enumerate((low, middle, high), start=1):
        row.template_id = 10 + i
        row.goal = common_pb2.GOAL_SIGNUPS
        if key == "sent":
            row.messages_sent = i * 100
        elif key == "clicks":
            row.clicks = i * 10
        elif key == "clickers":
            row.unique_clickers = i * 5
        elif key == "goal_metric":
            row.conversions = i
        elif key == "rate":
            row.conversion_rate = i / 100
        elif key == "clicker_rate":
            row.conversion_rate_per_clicker = i / 10
        elif key == "revenue":
            row.revenue.add(currency="USD", amount_minor=i * 1000)
        elif key == "non_human":
            row.non_human_hits["bot"] = i
        else:
            raise AssertionError(key)
    return [middle, high, low]


@pytest.mark.parametrize(
    "key",
    ["sent", "clicks", "clickers", "goal_metric", "rate", "clicker_rate", "revenue", "non_human"],
)
def test_numeric_columns_sort_both_ways(key: str) -> None:
    rows = _rows_by(key)
    assert _names(sorted_rows(rows, Sorting(key, True))) == ["Bravo", "Alpha", "Charlie"]
    assert _names(sorted_rows(rows, Sorting(key, False))) == ["Charlie", "Alpha", "Bravo"]


def test_name_sorts_without_regard_to_case() -> None:
    rows = [Row(name="banana"), Row(name="Cherry"), Row(name="apple")]
    assert _names(sorted_rows(rows, Sorting("name", False))) == ["apple", "banana", "Cherry"]
    assert _names(sorted_rows(rows, Sorting("name", True))) == ["Cherry", "banana", "apple"]


def test_goal_sorts_by_the_goals_name() -> None:
    rows = [
        Row(name="s", goal=common_pb2.GOAL_SIGNUPS),
        Row(name="n", goal=common_pb2.GOAL_UNSPECIFIED),
        Row(name="o", goal=common_pb2.GOAL_ORDERS),
        Row(name="a", goal=common_pb2.GOAL_ADVOCATE_SHARE),
    ]
    # Advocate share < No goal < Orders < Signups
    assert _names(sorted_rows(rows, Sorting("goal", False))) == ["a", "n", "o", "s"]
    assert _names(sorted_rows(rows, Sorting("goal", True))) == ["s", "o", "n", "a"]


def test_revenue_sorts_by_the_sum_over_currencies() -> None:
    one = Row(name="one", revenue=[dashboard_pb2.Revenue(currency="USD", amount_minor=500)])
    two = Row(
        name="two",
        revenue=[
            dashboard_pb2.Revenue(currency="USD", amount_minor=300),
            dashboard_pb2.Revenue(currency="EUR", amount_minor=300),
        ],
    )
    none = Row(name="none")
    assert _names(sorted_rows([one, none, two], Sorting("revenue", True))) == [
        "two",
        "one",
        "none",
    ]


def test_non_human_sorts_by_the_sum_over_classes() -> None:
    many = Row(name="many", non_human_hits={"scanner": 3, "bot": 3})
    few = Row(name="few", non_human_hits={"preview": 5})
    assert _names(sorted_rows([few, many], Sorting("non_human", True))) == ["many", "few"]


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("key", [c.key for c in views.COLUMNS if c.key != "name"])
def test_ties_are_broken_by_name_then_id_in_both_directions(key: str, descending: bool) -> None:
    rows = [
        Row(template_id=3, name="beta", messages_sent=5, goal=common_pb2.GOAL_ORDERS),
        Row(template_id=2, name="Alpha", messages_sent=5, goal=common_pb2.GOAL_ORDERS),
        Row(template_id=1, name="beta", messages_sent=5, goal=common_pb2.GOAL_ORDERS),
        Row(template_id=4, name="ALPHA", messages_sent=5, goal=common_pb2.GOAL_ORDERS),
    ]
    ordered = sorted_rows(rows, Sorting(key, descending))
    assert [r.template_id for r in ordered] == [2, 4, 1, 3]


@pytest.mark.parametrize("key", ["goal_metric", "rate", "clicker_rate"])
def test_templates_without_a_goal_sort_below_every_goal(key: str) -> None:
    # The goal-less template has larger raw figures than any template with a goal.
    goalless = Row(
        name="Aaa no goal",
        goal=common_pb2.GOAL_UNSPECIFIED,
        conversions=1000,
        conversion_rate=0.9,
        conversion_rate_per_clicker=0.9,
    )
    zero = Row(name="Zero", goal=common_pb2.GOAL_ORDERS)
    some = Row(
        name="Some",
        goal=common_pb2.GOAL_SIGNUPS,
        conversions=2,
        conversion_rate=0.01,
        conversion_rate_per_clicker=0.02,
    )
    rows = [goalless, zero, some]
    assert _names(sorted_rows(rows, Sorting(key, True))) == ["Some", "Zero", "Aaa no goal"]


def test_sorted_rows_leaves_its_input_alone() -> None:
    rows = _rows_by("sent")
    before = list(rows)
    sorted_rows(rows, Sorting("sent", True))
    assert rows == before


# --- the conversion chain ----------------------------------------------------

SENT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SHARED = datetime(2026, 11, 1, 9, 5, tzinfo=UTC)
CLICKED = datetime(2026, 11, 2, 18, 30, tzinfo=UTC)
ORDERED = datetime(2026, 11, 2, 18, 45, tzinfo=UTC)


def _when(step: ChainStep) -> datetime | None:
    when: Any = step.when
    return None if when is None else when.ToDatetime(tzinfo=UTC)


def _referred_order() -> dashboard_pb2.ConversionExplanation:
    return dashboard_pb2.ConversionExplanation(
        message_id="m-42",
        template_name="Spring invite",
        advocate_shortcode="JANE42",
        sent_at=SENT,
        share_click=dashboard_pb2.ClickFacts(
            stored=True,
            clicked_at=SHARED,
            hit_class="human",
            link_kind=common_pb2.LINK_KIND_SHARE,
            link_name="share",
        ),
        click=dashboard_pb2.ClickFacts(
            stored=True,
            clicked_at=CLICKED,
            hit_class="human",
            reasons=["javascript ran", "pointer moved"],
            link_kind=common_pb2.LINK_KIND_SHARED_REFERRAL,
            link_name="ref",
        ),
        conversion=conversions_pb2.Conversion(
            kind=conversions_pb2.CONVERSION_KIND_ORDER,
            external_id="A-1001",
            counted=True,
            occurred_at=ORDERED,
        ),
    )


def test_a_friends_order_chains_message_share_click_and_order() -> None:
    steps = chain(_referred_order())
    assert [s.title for s in steps] == [
        "Message m-42 sent",
        "The advocate tapped the share button",
        "A friend clicked the shared link",
        "Order A-1001",
    ]
    assert [_when(s) for s in steps] == [SENT, SHARED, CLICKED, ORDERED]
    message, share, friend, order = (s.detail for s in steps)
    assert message == "from template \u201cSpring invite\u201d, advocate JANE42"
    assert share == "link \u201cshare\u201d; judged human"
    assert friend == "link \u201cref\u201d; judged human; because javascript ran, pointer moved"
    assert order == "counts on the dashboard"


def test_an_unattributed_conversion_is_only_the_conversion() -> None:
    explanation = dashboard_pb2.ConversionExplanation(
        conversion=conversions_pb2.Conversion(
            kind=conversions_pb2.CONVERSION_KIND_SIGNUP,
            external_id="S-7",
            counted=False,
            occurred_at=ORDERED,
        )
    )
    steps = chain(explanation)
    assert len(steps) == 1
    assert steps[0].title == "Signup S-7"
    assert steps[0].detail == "does not count"
    assert _when(steps[0]) == ORDERED


def test_a_conversion_without_a_time_has_no_when() -> None:
    explanation = dashboard_pb2.ConversionExplanation(
        conversion=conversions_pb2.Conversion(
            kind=conversions_pb2.CONVERSION_KIND_ORDER, external_id="A-2", counted=True
        )
    )
    assert chain(explanation) == [ChainStep("Order A-2", "counts on the dashboard", None)]


def test_a_message_without_advocate_or_send_time() -> None:
    explanation = dashboard_pb2.ConversionExplanation(
        message_id="m-1",
        template_name="Welcome",
        conversion=conversions_pb2.Conversion(kind=conversions_pb2.CONVERSION_KIND_SIGNUP),
    )
    first = chain(explanation)[0]
    assert first == ChainStep("Message m-1 sent", "from template \u201cWelcome\u201d", None)


def test_a_direct_click_on_the_messages_link() -> None:
    explanation = dashboard_pb2.ConversionExplanation(
        message_id="m-1",
        click=dashboard_pb2.ClickFacts(
            stored=True,
            clicked_at=CLICKED,
            hit_class="human",
            link_kind=common_pb2.LINK_KIND_REFERRAL,
        ),
        conversion=conversions_pb2.Conversion(
            kind=conversions_pb2.CONVERSION_KIND_SIGNUP, external_id="S-1", counted=True
        ),
    )
    steps = chain(explanation)
    assert [s.title for s in steps] == [
        "Message m-1 sent",
        "The message's link was clicked",
        "Signup S-1",
    ]
    assert steps[1].detail == "judged human"


def test_a_share_conversions_click_is_the_share_tap() -> None:
    explanation = dashboard_pb2.ConversionExplanation(
        message_id="m-1",
        click=dashboard_pb2.ClickFacts(
            stored=True, clicked_at=SHARED, hit_class="human", link_kind=common_pb2.LINK_KIND_SHARE
        ),
        conversion=conversions_pb2.Conversion(
            kind=conversions_pb2.CONVERSION_KIND_SHARE, external_id="sh-1", counted=True
        ),
    )
    assert [s.title for s in chain(explanation)] == [
        "Message m-1 sent",
        "The advocate tapped the share button",
        "Share sh-1",
    ]


def test_a_click_that_is_not_stored_says_so() -> None:
    explanation = _referred_order()
    explanation.click.stored = False
    friend = chain(explanation)[2]
    assert friend.title == "A friend clicked the shared link"
    assert friend.detail == "link \u201cref\u201d; not stored yet (or past retention)"
    assert "judged" not in friend.detail
    assert friend.when is None


def test_an_unnamed_link_is_not_quoted() -> None:
    explanation = _referred_order()
    explanation.click.ClearField("link_name")
    explanation.click.ClearField("reasons")
    assert chain(explanation)[2].detail == "judged human"
