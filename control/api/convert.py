"""The one place protobuf meets the domain: enums, timestamps and records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from google.protobuf.timestamp_pb2 import Timestamp

from control.domain import model, validation
from control.domain.click_batches import check_click_rows
from control.domain.dashboard import BucketSize, SortBy
from control.domain.errors import InvalidArgument
from smarturls.v1 import (
    accounts_pb2,
    common_pb2,
    conversions_pb2,
    dashboard_pb2,
    edge_pb2,
    minting_pb2,
    templates_pb2,
)

E = TypeVar("E", bound=int)


def enum_name(enum: Any, prefix: str, value: int, field: str) -> str | None:
    """proto enum value -> domain name without prefix; None for UNSPECIFIED."""
    if value == 0:
        return None
    try:
        name: str = enum.Name(value)
    except ValueError:
        raise InvalidArgument.field(field, f"unknown value {value}") from None
    return name.removeprefix(prefix)


def enum_value(enum: type[E], prefix: str, name: str | None) -> E:
    """domain name -> proto enum value; UNSPECIFIED (0) for None."""
    wrapper: Any = enum  # an EnumTypeWrapper at run time, the enum's class in the stubs
    return cast(E, 0 if name is None else wrapper.Value(prefix + name))


def channel(value: int, field: str = "channel") -> model.Channel | None:
    return enum_name(common_pb2.Channel, "CHANNEL_", value, field)  # type: ignore[return-value]


def goal(value: int, field: str = "goal") -> model.Goal | None:
    return enum_name(common_pb2.Goal, "GOAL_", value, field)  # type: ignore[return-value]


def timestamp(ts: Timestamp, present: bool, field: str) -> datetime | None:
    if not present:
        return None
    try:
        value = ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.field(field, "not a valid timestamp") from None
    return validation.moment(field, value)


def to_timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def account(a: model.Account) -> accounts_pb2.Account:
    return accounts_pb2.Account(
        account_id=a.account_id,
        name=a.name,
        smart_urls_enabled=a.smart_urls_enabled,
        share_domain=a.share_domain or "",
        created_at=to_timestamp(a.created_at),
    )


def template_links(links: Any, field: str = "links[{}]") -> list[model.TemplateLink]:
    result = []
    for i, link in enumerate(links):
        where = field.format(i)
        kind = enum_name(common_pb2.LinkKind, "LINK_KIND_", link.kind, f"{where}.kind")
        if kind is None:
            raise InvalidArgument.field(f"{where}.kind", "required")
        network = enum_name(
            common_pb2.ShareNetwork, "SHARE_NETWORK_", link.network, f"{where}.network"
        )
        result.append(
            model.TemplateLink(
                name=link.name,
                kind=kind,  # type: ignore[arg-type]
                destination_url=link.destination_url,
                network=network,  # type: ignore[arg-type]
                share_text=link.share_text,
                share_subject=link.share_subject,
                og_title=link.og_title,
                og_description=link.og_description,
                og_image_url=link.og_image_url,
            )
        )
    return result


def template(t: model.Template) -> templates_pb2.Template:
    return templates_pb2.Template(
        template_id=t.template_id,
        account_id=t.account_id,
        name=t.name,
        channel=enum_value(common_pb2.Channel, "CHANNEL_", t.channel),
        goal=enum_value(common_pb2.Goal, "GOAL_", t.goal),
        links=[
            templates_pb2.TemplateLink(
                name=link.name,
                kind=enum_value(common_pb2.LinkKind, "LINK_KIND_", link.kind),
                destination_url=link.destination_url,
                network=enum_value(common_pb2.ShareNetwork, "SHARE_NETWORK_", link.network),
                share_text=link.share_text,
                share_subject=link.share_subject,
                og_title=link.og_title,
                og_description=link.og_description,
                og_image_url=link.og_image_url,
            )
            for link in t.links
        ],
        goal_history=[
            templates_pb2.GoalChange(
                goal=enum_value(common_pb2.Goal, "GOAL_", g.goal),
                effective_from=to_timestamp(g.effective_from),
            )
            for g in t.goal_history
        ],
        created_at=to_timestamp(t.created_at),
        version=t.version,
        attribution_window_seconds=t.attribution_window_seconds,
    )


def mint_request(r: minting_pb2.MintSmartUrlsRequest) -> model.MintRequest:
    return model.MintRequest(
        account_id=r.account_id,
        template_id=r.template_id,
        message_id=r.message_id,
        advocate_shortcode=r.advocate_shortcode,
        sent_at=timestamp(r.sent_at, r.HasField("sent_at"), "sent_at"),
    )


_LINK_KINDS: dict[str, common_pb2.LinkKind] = {
    name.removeprefix("LINK_KIND_"): cast(common_pb2.LinkKind, value)
    for name, value in common_pb2.LinkKind.items()
}


def minted_message(m: model.MintedMessage) -> minting_pb2.MintSmartUrlsResponse:
    # Called once a minted message: a million times for a big send.
    return minting_pb2.MintSmartUrlsResponse(
        message_id=m.message_id,
        replayed=m.replayed,
        links=[
            minting_pb2.MintedLink(name=link.name, kind=_LINK_KINDS[link.kind], url=link.url)
            for link in m.links
        ],
    )


def resolved_link(link: model.ResolvedLink) -> edge_pb2.ResolvedLink:
    return edge_pb2.ResolvedLink(
        smart_url_id=link.smart_url_id,
        account_id=link.account_id,
        share_domain=link.share_domain,
        kind=enum_value(common_pb2.LinkKind, "LINK_KIND_", link.kind),
        destination_head=link.destination_head,
        destination_tail=link.destination_tail,
        append_source=link.append_source,
        template_id=link.template_id,
        template_version=link.template_version,
        og_title=link.og_title,
        og_description=link.og_description,
        og_image_url=link.og_image_url,
    )


def click_rows(batch: edge_pb2.ClickBatch) -> list[model.ClickRow]:
    """Both forms of a batch as rows for the staging COPY (see model.ClickRow),
    each click checked against the domain's rules."""
    rows = [_row(c) for c in batch.clicks]
    if batch.HasField("columns"):
        rows += _column_rows(batch.columns)
    check_click_rows(rows)
    return rows


def _row(c: edge_pb2.Click) -> model.ClickRow:
    timestamp(c.clicked_at, True, "clicks.clicked_at")
    # Edges from before hit classes sent none: their HEADs were never clicks.
    hit_class = c.hit_class or ("bot" if c.method == "HEAD" else "human")
    return (
        c.click_id,
        c.smart_url_id,
        c.clicked_at.ToMicroseconds(),
        c.method,
        c.user_agent,
        c.ip_prefix,
        c.referer,
        hit_class,
        "\n".join(c.reasons),
    )


def _column_rows(columns: edge_pb2.ClickColumns) -> list[model.ClickRow]:
    count = len(columns.smart_url_ids)
    strings = list(columns.strings)
    indexed = (
        columns.method,
        columns.user_agent,
        columns.ip_prefix,
        columns.referer,
        columns.hit_class,
        columns.reasons,
    )
    if (
        len(columns.click_ids) != 16 * count
        or len(columns.clicked_at_us) != count
        or any(len(column) != count for column in indexed)
    ):
        raise InvalidArgument.field("columns", "every column needs one entry per click")
    if any(column and max(column) >= len(strings) for column in indexed):
        raise InvalidArgument.field("columns.strings", "a string index is out of range")
    ids = columns.click_ids
    methods, agents, prefixes, referers, classes, reasons = (
        [strings[i] for i in column] for column in indexed
    )
    return list(
        zip(
            [ids[i : i + 16] for i in range(0, 16 * count, 16)],
            columns.smart_url_ids,
            columns.clicked_at_us,
            methods,
            agents,
            prefixes,
            referers,
            classes,
            reasons,
            strict=True,
        )
    )


def conversion(c: model.Conversion) -> conversions_pb2.Conversion:
    return conversions_pb2.Conversion(
        conversion_id=c.conversion_id,
        account_id=c.account_id,
        kind=enum_value(conversions_pb2.ConversionKind, "CONVERSION_KIND_", c.kind),
        external_id=c.external_id,
        attributed=c.attributed,
        unattributed_reason=enum_value(
            conversions_pb2.UnattributedReason, "UNATTRIBUTED_REASON_", c.unattributed_reason
        ),
        message_id=c.message_id or "",
        template_id=c.template_id or 0,
        smart_url_id=c.smart_url_id or 0,
        click_id=c.click_id.bytes if c.click_id else b"",
        amount_minor=c.amount_minor,
        currency=c.currency,
        occurred_at=to_timestamp(c.occurred_at),
        replayed=c.replayed,
        customer_id=c.customer_id,
        cancelled_at=to_timestamp(c.cancelled_at) if c.cancelled_at else None,
        refunded_minor=c.refunded_minor,
        counted=c.counted,
    )


def conversion_kind(value: int, field: str = "kind") -> model.ConversionKind | None:
    return enum_name(conversions_pb2.ConversionKind, "CONVERSION_KIND_", value, field)  # type: ignore[return-value]


def sort_by(value: int) -> SortBy | None:
    return enum_name(dashboard_pb2.SortBy, "SORT_BY_", value, "sort_by")  # type: ignore[return-value]


def bucket(value: int) -> BucketSize:
    name = enum_name(dashboard_pb2.Bucket, "BUCKET_", value, "bucket")
    return "HOUR" if name == "HOUR" else "DAY"


def _revenue(revenue: dict[str, int]) -> list[dashboard_pb2.Revenue]:
    return [
        dashboard_pb2.Revenue(currency=cur, amount_minor=amount)
        for cur, amount in sorted(revenue.items())
    ]


def performance(p: model.TemplatePerformance) -> dashboard_pb2.TemplatePerformance:
    f = p.figures
    counted = dashboard_pb2.TimeRange(to=to_timestamp(p.until))
    getattr(counted, "from").CopyFrom(to_timestamp(p.since))
    periods = []
    for period in p.goal_periods:
        message = dashboard_pb2.GoalPeriod(
            goal=enum_value(common_pb2.Goal, "GOAL_", period.goal),
            to=to_timestamp(period.until),
            conversions=period.conversions,
        )
        getattr(message, "from").CopyFrom(to_timestamp(period.since))
        periods.append(message)
    return dashboard_pb2.TemplatePerformance(
        template_id=p.template_id,
        name=p.name,
        channel=enum_value(common_pb2.Channel, "CHANNEL_", p.channel),
        goal=enum_value(common_pb2.Goal, "GOAL_", p.goal),
        messages_sent=f.messages_sent,
        clicks=f.clicks,
        unique_clickers=f.unique_clickers,
        friend_clicks=f.friend_clicks,
        conversions=p.conversions,
        conversion_rate=p.conversion_rate,
        conversion_rate_per_clicker=p.conversion_rate_per_clicker,
        shares=f.shares,
        unique_sharers=f.unique_sharers,
        signups=f.signups,
        unique_signups=f.unique_signups,
        orders=f.orders,
        unique_buyers=f.unique_buyers,
        revenue=_revenue(f.revenue),
        non_human_hits=f.non_human_hits,
        goal_periods=periods,
        counted_range=counted,
    )


def time_series(
    template_id: int, goal: model.Goal | None, size: BucketSize, points: list[model.TimeSeriesPoint]
) -> dashboard_pb2.TemplateTimeSeries:
    return dashboard_pb2.TemplateTimeSeries(
        template_id=template_id,
        goal=enum_value(common_pb2.Goal, "GOAL_", goal),
        bucket=enum_value(dashboard_pb2.Bucket, "BUCKET_", size),
        points=[
            dashboard_pb2.TimeSeriesPoint(
                start=to_timestamp(point.start),
                messages_sent=point.figures.messages_sent,
                clicks=point.figures.clicks,
                unique_clickers=point.figures.unique_clickers,
                conversions=point.figures.goal_metric(goal),
                shares=point.figures.shares,
                signups=point.figures.signups,
                orders=point.figures.orders,
                revenue=_revenue(point.figures.revenue),
                non_human_hits=sum(point.figures.non_human_hits.values()),
            )
            for point in points
        ],
    )


def _click_facts(c: model.ClickFacts | None) -> dashboard_pb2.ClickFacts | None:
    if c is None:
        return None
    return dashboard_pb2.ClickFacts(
        click_id=c.click_id.bytes,
        stored=c.stored,
        clicked_at=to_timestamp(c.clicked_at) if c.clicked_at else None,
        hit_class=c.hit_class or "",
        reasons=list(c.reasons),
        smart_url_id=c.smart_url_id,
        link_kind=enum_value(common_pb2.LinkKind, "LINK_KIND_", c.link_kind),
        link_name=c.link_name,
    )


def explanation(e: model.ConversionExplanation) -> dashboard_pb2.ConversionExplanation:
    return dashboard_pb2.ConversionExplanation(
        conversion=conversion(e.conversion),
        summary=e.summary,
        click=_click_facts(e.click),
        share_click=_click_facts(e.share_click),
        message_id=e.message_id,
        sent_at=to_timestamp(e.sent_at) if e.sent_at else None,
        advocate_shortcode=e.advocate_shortcode,
        template_id=e.template_id,
        template_name=e.template_name,
        goal_at_occurrence=enum_value(common_pb2.Goal, "GOAL_", e.goal_at_occurrence),
        attribution_window_seconds=e.window_seconds,
        window_ends_at=to_timestamp(e.window_ends_at) if e.window_ends_at else None,
    )
