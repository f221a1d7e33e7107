import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from smarturls.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    __slots__ = ("account_id", "range", "channel")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    range: TimeRange
    channel: _common_pb2.Channel
    def __init__(self, account_id: _Optional[int] = ..., range: _Optional[_Union[TimeRange, _Mapping]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class Revenue(_message.Message):
    __slots__ = ("currency", "amount_minor")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    currency: str
    amount_minor: int
    def __init__(self, currency: _Optional[str] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class TemplatePerformance(_message.Message):
    __slots__ = ("template_id", "name", "channel", "goal", "messages_sent", "clicks", "unique_clickers", "friend_clicks", "conversions", "conversion_rate", "shares", "signups", "orders", "revenue", "non_human_hits")
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
    def __init__(self, template_id: _Optional[int] = ..., name: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., messages_sent: _Optional[int] = ..., clicks: _Optional[int] = ..., unique_clickers: _Optional[int] = ..., friend_clicks: _Optional[int] = ..., conversions: _Optional[int] = ..., conversion_rate: _Optional[float] = ..., shares: _Optional[int] = ..., signups: _Optional[int] = ..., orders: _Optional[int] = ..., revenue: _Optional[_Iterable[_Union[Revenue, _Mapping]]] = ..., non_human_hits: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ListTemplatePerformanceResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[TemplatePerformance]
    def __init__(self, templates: _Optional[_Iterable[_Union[TemplatePerformance, _Mapping]]] = ...) -> None: ...
