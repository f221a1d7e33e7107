"""What the pages show, built from the control plane's answers: goal wording,
the dashboard table's rows and their order, the template page's figures and
the conversion chain. No HTTP here, no gRPC calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smarturls.v1 import common_pb2, conversions_pb2, dashboard_pb2


@dataclass(frozen=True, slots=True)
class GoalWords:
    name: str
    # What the goal's metric counts, plural and singular.
    metric: str
    metric_one: str
    explained: str


GOALS: dict[int, GoalWords] = {
    common_pb2.GOAL_ADVOCATE_SHARE: GoalWords(
        "Advocate share",
        "unique sharers",
        "unique sharer",
        "Advocates who tapped a share button in the message, each counted once.",
    ),
    common_pb2.GOAL_SIGNUPS: GoalWords(
        "Signups",
        "signups",
        "signup",
        "People who signed up through the message's link, each counted once per message.",
    ),
    common_pb2.GOAL_ORDERS: GoalWords(
        "Orders",
        "orders",
        "order",
        "Orders by friends who reached the shop through a link shared from the message"
        " (cancelled or fully refunded orders no longer count).",
    ),
}
NO_GOAL = GoalWords("No goal", "", "", "No goal is set, so the template is judged by clicks.")

CHANNELS = {"emails": common_pb2.CHANNEL_EMAIL, "sms": common_pb2.CHANNEL_SMS}
CHANNEL_TITLES = {"emails": "Emails", "sms": "SMS"}

# What each non-human class is, in one line for the marketer.
HIT_CLASSES = {
    "scanner": "Mail security (Safe Links, Proofpoint, Mimecast, …) opening links to check"
    " them, often at delivery.",
    "preview": "Messaging and social apps fetching the link to draw its preview card.",
    "bot": "Crawlers, HTTP libraries, monitors and other programs that are not a person.",
}

KINDS = {
    "order": conversions_pb2.CONVERSION_KIND_ORDER,
    "signup": conversions_pb2.CONVERSION_KIND_SIGNUP,
    "share": conversions_pb2.CONVERSION_KIND_SHARE,
}


def goal_words(goal: int) -> GoalWords:
    return GOALS.get(goal, NO_GOAL)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    numeric: bool
    sort_key: Callable[[dashboard_pb2.TemplatePerformance], Any]


def _revenue_sort(p: dashboard_pb2.TemplatePerformance) -> int:
    # As the API sorts: the sum over currencies of minor units.
    return sum(r.amount_minor for r in p.revenue)


def _rate_sort(p: dashboard_pb2.TemplatePerformance) -> float:
    return p.conversion_rate if p.goal else -1.0


def _clicker_rate_sort(p: dashboard_pb2.TemplatePerformance) -> float:
    return p.conversion_rate_per_clicker if p.goal else -1.0


COLUMNS = (
    Column("name", "Template", False, lambda p: p.name.casefold()),
    Column("goal", "Goal", False, lambda p: goal_words(p.goal).name),
    Column("sent", "Sent", True, lambda p: p.messages_sent),
    Column("clicks", "Human clicks", True, lambda p: p.clicks),
    Column("clickers", "Unique clickers", True, lambda p: p.unique_clickers),
    Column("goal_metric", "Goal result", True, lambda p: p.conversions if p.goal else -1),
    Column("rate", "Per sent", True, _rate_sort),
    Column("clicker_rate", "Per clicker", True, _clicker_rate_sort),
    Column("revenue", "Net revenue", True, _revenue_sort),
    Column("non_human", "Non-human hits", True, lambda p: sum(p.non_human_hits.values())),
)
COLUMN_KEYS = {c.key: c for c in COLUMNS}
DEFAULT_SORT = "sent"


@dataclass(frozen=True, slots=True)
class Sorting:
    key: str
    descending: bool

    def link(self, key: str) -> dict[str, str]:
        """The query for a click on column `key`'s header: numbers largest first,
        then a second click flips it."""
        if key == self.key:
            descending = not self.descending
        else:
            descending = COLUMN_KEYS[key].numeric
        return {"sort": key, "dir": "desc" if descending else "asc"}


def parse_sorting(sort: str | None, direction: str | None) -> Sorting:
    key = sort if sort in COLUMN_KEYS else DEFAULT_SORT
    if direction in ("asc", "desc"):
        return Sorting(key, direction == "desc")
    return Sorting(key, COLUMN_KEYS[key].numeric)


def sorted_rows(
    rows: list[dashboard_pb2.TemplatePerformance], sorting: Sorting
) -> list[dashboard_pb2.TemplatePerformance]:
    """Ordered by the column, ties by name then id whichever way the column goes."""
    by_name = sorted(rows, key=lambda p: (p.name.casefold(), p.template_id))
    return sorted(by_name, key=COLUMN_KEYS[sorting.key].sort_key, reverse=sorting.descending)


@dataclass(frozen=True, slots=True)
class Outcome:
    label: str
    total: int
    unique: int
    unique_label: str


def outcomes(p: dashboard_pb2.TemplatePerformance) -> list[Outcome]:
    """Every outcome, whatever the goal: totals and people."""
    return [
        Outcome("Shares", p.shares, p.unique_sharers, "unique sharers"),
        Outcome("Signups", p.signups, p.unique_signups, "unique signups"),
        Outcome("Orders", p.orders, p.unique_buyers, "unique buyers"),
    ]


@dataclass(frozen=True, slots=True)
class ChainStep:
    title: str
    detail: str
    when: Any | None  # a Timestamp, or None


def chain(explanation: dashboard_pb2.ConversionExplanation) -> list[ChainStep]:
    """The attribution chain, message first, as far as it reaches."""
    steps: list[ChainStep] = []
    if explanation.message_id:
        detail = f"from template “{explanation.template_name}”"
        if explanation.advocate_shortcode:
            detail += f", advocate {explanation.advocate_shortcode}"
        sent_at = explanation.sent_at if explanation.HasField("sent_at") else None
        steps.append(ChainStep(f"Message {explanation.message_id} sent", detail, sent_at))
    if explanation.HasField("share_click"):
        steps.append(_click_step("The advocate tapped the share button", explanation.share_click))
    if explanation.HasField("click"):
        friend = explanation.click.link_kind == common_pb2.LINK_KIND_SHARED_REFERRAL
        title = "A friend clicked the shared link" if friend else "The message's link was clicked"
        if explanation.conversion.kind == conversions_pb2.CONVERSION_KIND_SHARE:
            title = "The advocate tapped the share button"
        steps.append(_click_step(title, explanation.click))
    conversion = explanation.conversion
    kind = conversions_pb2.ConversionKind.Name(conversion.kind).removeprefix("CONVERSION_KIND_")
    steps.append(
        ChainStep(
            f"{kind.capitalize()} {conversion.external_id}",
            "counts on the dashboard" if conversion.counted else "does not count",
            conversion.occurred_at if conversion.HasField("occurred_at") else None,
        )
    )
    return steps


def _click_step(title: str, click: dashboard_pb2.ClickFacts) -> ChainStep:
    parts = [f"link “{click.link_name}”"] if click.link_name else []
    if not click.stored:
        parts.append("not stored yet (or past retention)")
    else:
        parts.append(f"judged {click.hit_class}")
        if click.reasons:
            parts.append("because " + ", ".join(click.reasons))
    return ChainStep(title, "; ".join(parts), click.clicked_at if click.stored else None)
