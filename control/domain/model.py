"""Plain domain values; protobuf stays in control/api."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["EMAIL", "SMS"]
Goal = Literal["ADVOCATE_SHARE", "SIGNUPS", "ORDERS"]
LinkKind = Literal["SHARE", "ENROLLMENT", "REFERRAL", "TRACKED", "SHARED_REFERRAL"]
Network = Literal["WHATSAPP", "FACEBOOK", "X", "LINKEDIN", "TELEGRAM", "EMAIL", "SMS"]
ConversionKind = Literal["SHARE", "SIGNUP", "ORDER"]
UnattributedReason = Literal[
    "NO_SOURCE",
    "UNKNOWN_SOURCE",
    "SHORTCODE_MISMATCH",
    "WINDOW_EXPIRED",
    "NON_HUMAN_CLICK",
    "SENT_BEFORE_SMART_URLS",
]
HitClass = Literal["human", "scanner", "preview", "bot"]
HIT_CLASSES: tuple[HitClass, ...] = ("human", "scanner", "preview", "bot")


@dataclass(frozen=True, slots=True)
class Account:
    account_id: int
    name: str
    smart_urls_enabled: bool
    share_domain: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TemplateLink:
    name: str
    kind: LinkKind
    destination_url: str
    network: Network | None = None
    share_text: str = ""
    share_subject: str = ""
    og_title: str = ""
    og_description: str = ""
    og_image_url: str = ""


@dataclass(frozen=True, slots=True)
class GoalChange:
    goal: Goal | None
    effective_from: datetime


@dataclass(frozen=True, slots=True)
class Template:
    template_id: int
    account_id: int
    name: str
    channel: Channel
    links: tuple[TemplateLink, ...]
    goal_history: tuple[GoalChange, ...]
    created_at: datetime
    version: int = 1
    attribution_window_seconds: int = 30 * 86400

    @property
    def goal(self) -> Goal | None:
        return self.goal_history[-1].goal if self.goal_history else None


@dataclass(frozen=True, slots=True)
class MintRequest:
    account_id: int
    template_id: int
    message_id: str
    advocate_shortcode: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class MintedLink:
    name: str
    kind: LinkKind
    url: str


@dataclass(frozen=True, slots=True)
class MintedMessage:
    message_id: str
    links: tuple[MintedLink, ...]
    replayed: bool


@dataclass(frozen=True, slots=True)
class ResolvedLink:
    smart_url_id: int
    account_id: int
    share_domain: str
    kind: LinkKind
    destination_head: str
    destination_tail: str
    append_source: bool
    template_id: int = 0
    template_version: int = 0
    og_title: str = ""
    og_description: str = ""
    og_image_url: str = ""


# One click as staged for COPY, in the cheapest types to build and to send:
# (click id as 16 bytes, smart_url_id, clicked_at in Unix microseconds, method,
#  user agent, IP prefix or "", referer, hit class, reasons joined by newlines).
ClickRow = tuple[bytes, int, int, str, str, str, str, str, str]


@dataclass(frozen=True, slots=True)
class Conversion:
    conversion_id: int
    account_id: int
    kind: ConversionKind
    external_id: str
    unattributed_reason: UnattributedReason | None
    message_id: str | None
    template_id: int | None
    smart_url_id: int | None
    click_id: uuid.UUID | None
    amount_minor: int
    currency: str
    occurred_at: datetime
    customer_id: str = ""
    cancelled_at: datetime | None = None
    refunded_minor: int = 0
    replayed: bool = False

    @property
    def attributed(self) -> bool:
        return self.unattributed_reason is None

    @property
    def counted(self) -> bool:
        """Whether the dashboard counts it now (see rollups.COUNTS)."""
        if not self.attributed:
            return False
        if self.kind != "ORDER":
            return True
        fully_refunded = self.amount_minor > 0 and self.refunded_minor >= self.amount_minor
        return self.cancelled_at is None and not fully_refunded


@dataclass(frozen=True, slots=True)
class Figures:
    """What the hourly rollups add up to, for a template over some hours."""

    messages_sent: int = 0
    clicks: int = 0
    unique_clickers: int = 0
    friend_clicks: int = 0
    scanner_hits: int = 0
    preview_hits: int = 0
    bot_hits: int = 0
    shares: int = 0
    unique_sharers: int = 0
    signups: int = 0
    unique_signups: int = 0
    orders: int = 0
    unique_buyers: int = 0
    revenue: dict[str, int] = field(default_factory=dict)

    def goal_metric(self, goal: Goal | None) -> int:
        """Shares and signups count once per person per message; every order counts."""
        if goal == "ADVOCATE_SHARE":
            return self.unique_sharers
        if goal == "SIGNUPS":
            return self.unique_signups
        if goal == "ORDERS":
            return self.orders
        return 0

    @property
    def non_human_hits(self) -> dict[str, int]:
        hits = {"scanner": self.scanner_hits, "preview": self.preview_hits, "bot": self.bot_hits}
        return {k: v for k, v in hits.items() if v}


@dataclass(frozen=True, slots=True)
class GoalPeriod:
    goal: Goal | None
    since: datetime
    until: datetime
    conversions: int


@dataclass(frozen=True, slots=True)
class TemplatePerformance:
    template_id: int
    name: str
    channel: Channel
    goal: Goal | None
    figures: Figures
    since: datetime
    until: datetime
    goal_periods: tuple[GoalPeriod, ...] = ()

    @property
    def conversions(self) -> int:
        return self.figures.goal_metric(self.goal)

    @property
    def conversion_rate(self) -> float:
        sent = self.figures.messages_sent
        return self.conversions / sent if sent else 0.0

    @property
    def conversion_rate_per_clicker(self) -> float:
        clickers = self.figures.unique_clickers
        return self.conversions / clickers if clickers else 0.0


@dataclass(frozen=True, slots=True)
class TimeSeriesPoint:
    start: datetime
    figures: Figures


@dataclass(frozen=True, slots=True)
class ClickFacts:
    click_id: uuid.UUID
    stored: bool
    clicked_at: datetime | None = None
    hit_class: HitClass | None = None
    reasons: tuple[str, ...] = ()
    smart_url_id: int = 0
    link_kind: LinkKind | None = None
    link_name: str = ""


@dataclass(frozen=True, slots=True)
class ConversionExplanation:
    conversion: Conversion
    summary: str
    click: ClickFacts | None = None
    share_click: ClickFacts | None = None
    message_id: str = ""
    sent_at: datetime | None = None
    advocate_shortcode: str = ""
    template_id: int = 0
    template_name: str = ""
    goal_at_occurrence: Goal | None = None
    window_seconds: int = 0
    window_ends_at: datetime | None = None
