import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from smarturls.v1 import common_pb2 as _common_pb2
from smarturls.v1 import conversions_pb2 as _conversions_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SortBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SORT_BY_UNSPECIFIED: _ClassVar[SortBy]
    SORT_BY_NAME: _ClassVar[SortBy]
    SORT_BY_MESSAGES_SENT: _ClassVar[SortBy]
    SORT_BY_CLICKS: _ClassVar[SortBy]
    SORT_BY_UNIQUE_CLICKERS: _ClassVar[SortBy]
    SORT_BY_CONVERSIONS: _ClassVar[SortBy]
    SORT_BY_CONVERSION_RATE: _ClassVar[SortBy]
    SORT_BY_REVENUE: _ClassVar[SortBy]

class Bucket(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUCKET_UNSPECIFIED: _ClassVar[Bucket]
    BUCKET_HOUR: _ClassVar[Bucket]
    BUCKET_DAY: _ClassVar[Bucket]
SORT_BY_UNSPECIFIED: SortBy
SORT_BY_NAME: SortBy
SORT_BY_MESSAGES_SENT: SortBy
SORT_BY_CLICKS: SortBy
SORT_BY_UNIQUE_CLICKERS: SortBy
SORT_BY_CONVERSIONS: SortBy
SORT_BY_CONVERSION_RATE: SortBy
SORT_BY_REVENUE: SortBy
BUCKET_UNSPECIFIED: Bucket
BUCKET_HOUR: Bucket
BUCKET_DAY: Bucket

class TimeRange(_message.Message):
    __slots__ = ("to",)
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: _timestamp_pb2.Timestamp
    def __init__(self, to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., **kwargs) -> None: ...

class GetTemplatePerformanceRequest(_message.Message):
    __slots__ = ("account_id", "template_id", "range")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    range: TimeRange
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ..., range: _Optional[_Union[TimeRange, _Mapping]] = ...) -> None: ...

class ListTemplatePerformanceRequest(_message.Message):
    __slots__ = ("account_id", "range", "channel", "sort_by", "descending")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SORT_BY_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    range: TimeRange
    channel: _common_pb2.Channel
    sort_by: SortBy
    descending: bool
    def __init__(self, account_id: _Optional[int] = ..., range: _Optional[_Union[TimeRange, _Mapping]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., sort_by: _Optional[_Union[SortBy, str]] = ..., descending: _Optional[bool] = ...) -> None: ...

class Revenue(_message.Message):
    __slots__ = ("currency", "amount_minor")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    currency: str
    amount_minor: int
    def __init__(self, currency: _Optional[str] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class GoalPeriod(_message.Message):
    __slots__ = ("goal", "to", "conversions")
    GOAL_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    CONVERSIONS_FIELD_NUMBER: _ClassVar[int]
    goal: _common_pb2.Goal
    to: _timestamp_pb2.Timestamp
    conversions: int
    def __init__(self, goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., conversions: _Optional[int] = ..., **kwargs) -> None: ...

class TemplatePerformance(_message.Message):
    __slots__ = ("template_id", "name", "channel", "goal", "messages_sent", "clicks", "unique_clickers", "friend_clicks", "conversions", "conversion_rate", "shares", "signups", "orders", "revenue", "non_human_hits", "unique_sharers", "unique_signups", "unique_buyers", "conversion_rate_per_clicker", "goal_periods", "counted_range")
    class NonHumanHitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_SENT_FIELD_NUMBER: _ClassVar[int]
    CLICKS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_CLICKERS_FIELD_NUMBER: _ClassVar[int]
    FRIEND_CLICKS_FIELD_NUMBER: _ClassVar[int]
    CONVERSIONS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_RATE_FIELD_NUMBER: _ClassVar[int]
    SHARES_FIELD_NUMBER: _ClassVar[int]
    SIGNUPS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    NON_HUMAN_HITS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_SHARERS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_SIGNUPS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_BUYERS_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_RATE_PER_CLICKER_FIELD_NUMBER: _ClassVar[int]
    GOAL_PERIODS_FIELD_NUMBER: _ClassVar[int]
    COUNTED_RANGE_FIELD_NUMBER: _ClassVar[int]
    template_id: int
    name: str
    channel: _common_pb2.Channel
    goal: _common_pb2.Goal
    messages_sent: int
    clicks: int
    unique_clickers: int
    friend_clicks: int
    conversions: int
    conversion_rate: float
    shares: int
    signups: int
    orders: int
    revenue: _containers.RepeatedCompositeFieldContainer[Revenue]
    non_human_hits: _containers.ScalarMap[str, int]
    unique_sharers: int
    unique_signups: int
    unique_buyers: int
    conversion_rate_per_clicker: float
    goal_periods: _containers.RepeatedCompositeFieldContainer[GoalPeriod]
    counted_range: TimeRange
    def __init__(self, template_id: _Optional[int] = ..., name: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., messages_sent: _Optional[int] = ..., clicks: _Optional[int] = ..., unique_clickers: _Optional[int] = ..., friend_clicks: _Optional[int] = ..., conversions: _Optional[int] = ..., conversion_rate: _Optional[float] = ..., shares: _Optional[int] = ..., signups: _Optional[int] = ..., orders: _Optional[int] = ..., revenue: _Optional[_Iterable[_Union[Revenue, _Mapping]]] = ..., non_human_hits: _Optional[_Mapping[str, int]] = ..., unique_sharers: _Optional[int] = ..., unique_signups: _Optional[int] = ..., unique_buyers: _Optional[int] = ..., conversion_rate_per_clicker: _Optional[float] = ..., goal_periods: _Optional[_Iterable[_Union[GoalPeriod, _Mapping]]] = ..., counted_range: _Optional[_Union[TimeRange, _Mapping]] = ...) -> None: ...

class ListTemplatePerformanceResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[TemplatePerformance]
    def __init__(self, templates: _Optional[_Iterable[_Union[TemplatePerformance, _Mapping]]] = ...) -> None: ...

class GetTemplateTimeSeriesRequest(_message.Message):
    __slots__ = ("account_id", "template_id", "range", "bucket")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    range: TimeRange
    bucket: Bucket
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ..., range: _Optional[_Union[TimeRange, _Mapping]] = ..., bucket: _Optional[_Union[Bucket, str]] = ...) -> None: ...

class TimeSeriesPoint(_message.Message):
    __slots__ = ("start", "messages_sent", "clicks", "unique_clickers", "conversions", "shares", "signups", "orders", "revenue", "non_human_hits")
    START_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_SENT_FIELD_NUMBER: _ClassVar[int]
    CLICKS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_CLICKERS_FIELD_NUMBER: _ClassVar[int]
    CONVERSIONS_FIELD_NUMBER: _ClassVar[int]
    SHARES_FIELD_NUMBER: _ClassVar[int]
    SIGNUPS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    NON_HUMAN_HITS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    messages_sent: int
    clicks: int
    unique_clickers: int
    conversions: int
    shares: int
    signups: int
    orders: int
    revenue: _containers.RepeatedCompositeFieldContainer[Revenue]
    non_human_hits: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., messages_sent: _Optional[int] = ..., clicks: _Optional[int] = ..., unique_clickers: _Optional[int] = ..., conversions: _Optional[int] = ..., shares: _Optional[int] = ..., signups: _Optional[int] = ..., orders: _Optional[int] = ..., revenue: _Optional[_Iterable[_Union[Revenue, _Mapping]]] = ..., non_human_hits: _Optional[int] = ...) -> None: ...

class TemplateTimeSeries(_message.Message):
    __slots__ = ("template_id", "goal", "bucket", "points")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    template_id: int
    goal: _common_pb2.Goal
    bucket: Bucket
    points: _containers.RepeatedCompositeFieldContainer[TimeSeriesPoint]
    def __init__(self, template_id: _Optional[int] = ..., goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., bucket: _Optional[_Union[Bucket, str]] = ..., points: _Optional[_Iterable[_Union[TimeSeriesPoint, _Mapping]]] = ...) -> None: ...

class ExplainConversionRequest(_message.Message):
    __slots__ = ("account_id", "kind", "external_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    kind: _conversions_pb2.ConversionKind
    external_id: str
    def __init__(self, account_id: _Optional[int] = ..., kind: _Optional[_Union[_conversions_pb2.ConversionKind, str]] = ..., external_id: _Optional[str] = ...) -> None: ...

class ClickFacts(_message.Message):
    __slots__ = ("click_id", "stored", "clicked_at", "hit_class", "reasons", "smart_url_id", "link_kind", "link_name")
    CLICK_ID_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    CLICKED_AT_FIELD_NUMBER: _ClassVar[int]
    HIT_CLASS_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    SMART_URL_ID_FIELD_NUMBER: _ClassVar[int]
    LINK_KIND_FIELD_NUMBER: _ClassVar[int]
    LINK_NAME_FIELD_NUMBER: _ClassVar[int]
    click_id: bytes
    stored: bool
    clicked_at: _timestamp_pb2.Timestamp
    hit_class: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    smart_url_id: int
    link_kind: _common_pb2.LinkKind
    link_name: str
    def __init__(self, click_id: _Optional[bytes] = ..., stored: _Optional[bool] = ..., clicked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hit_class: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ..., smart_url_id: _Optional[int] = ..., link_kind: _Optional[_Union[_common_pb2.LinkKind, str]] = ..., link_name: _Optional[str] = ...) -> None: ...

class ConversionExplanation(_message.Message):
    __slots__ = ("conversion", "summary", "click", "share_click", "message_id", "sent_at", "advocate_shortcode", "template_id", "template_name", "goal_at_occurrence", "attribution_window_seconds", "window_ends_at")
    CONVERSION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CLICK_FIELD_NUMBER: _ClassVar[int]
    SHARE_CLICK_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    ADVOCATE_SHORTCODE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_NAME_FIELD_NUMBER: _ClassVar[int]
    GOAL_AT_OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WINDOW_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    conversion: _conversions_pb2.Conversion
    summary: str
    click: ClickFacts
    share_click: ClickFacts
    message_id: str
    sent_at: _timestamp_pb2.Timestamp
    advocate_shortcode: str
    template_id: int
    template_name: str
    goal_at_occurrence: _common_pb2.Goal
    attribution_window_seconds: int
    window_ends_at: _timestamp_pb2.Timestamp
    def __init__(self, conversion: _Optional[_Union[_conversions_pb2.Conversion, _Mapping]] = ..., summary: _Optional[str] = ..., click: _Optional[_Union[ClickFacts, _Mapping]] = ..., share_click: _Optional[_Union[ClickFacts, _Mapping]] = ..., message_id: _Optional[str] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., advocate_shortcode: _Optional[str] = ..., template_id: _Optional[int] = ..., template_name: _Optional[str] = ..., goal_at_occurrence: _Optional[_Union[_common_pb2.Goal, str]] = ..., attribution_window_seconds: _Optional[int] = ..., window_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
