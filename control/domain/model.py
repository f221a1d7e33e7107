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
UnattributedReason = Literal["NO_SOURCE", "UNKNOWN_SOURCE", "SHORTCODE_MISMATCH"]
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
    replayed: bool = False

    @property
    def attributed(self) -> bool:
        return self.unattributed_reason is None


@dataclass(frozen=True, slots=True)
class TemplatePerformance:
    template_id: int
    name: str
    channel: Channel
    goal: Goal | None
    messages_sent: int
    clicks: int
    unique_clickers: int
    friend_clicks: int
    shares: int
    signups: int
    orders: int
    revenue: dict[str, int] = field(default_factory=dict)
    non_human_hits: dict[str, int] = field(default_factory=dict)

    @property
    def conversions(self) -> int:
        by_goal = {"ADVOCATE_SHARE": self.shares, "SIGNUPS": self.signups, "ORDERS": self.orders}
        return by_goal[self.goal] if self.goal else 0

    @property
    def conversion_rate(self) -> float:
        return self.conversions / self.messages_sent if self.messages_sent else 0.0
