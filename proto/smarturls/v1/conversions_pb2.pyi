import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConversionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVERSION_KIND_UNSPECIFIED: _ClassVar[ConversionKind]
    CONVERSION_KIND_SHARE: _ClassVar[ConversionKind]
    CONVERSION_KIND_SIGNUP: _ClassVar[ConversionKind]
    CONVERSION_KIND_ORDER: _ClassVar[ConversionKind]

class UnattributedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNATTRIBUTED_REASON_UNSPECIFIED: _ClassVar[UnattributedReason]
    UNATTRIBUTED_REASON_NO_SOURCE: _ClassVar[UnattributedReason]
    UNATTRIBUTED_REASON_UNKNOWN_SOURCE: _ClassVar[UnattributedReason]
    UNATTRIBUTED_REASON_SHORTCODE_MISMATCH: _ClassVar[UnattributedReason]
    UNATTRIBUTED_REASON_WINDOW_EXPIRED: _ClassVar[UnattributedReason]
    UNATTRIBUTED_REASON_NON_HUMAN_CLICK: _ClassVar[UnattributedReason]
    UNATTRIBUTED_REASON_SENT_BEFORE_SMART_URLS: _ClassVar[UnattributedReason]
CONVERSION_KIND_UNSPECIFIED: ConversionKind
CONVERSION_KIND_SHARE: ConversionKind
CONVERSION_KIND_SIGNUP: ConversionKind
CONVERSION_KIND_ORDER: ConversionKind
UNATTRIBUTED_REASON_UNSPECIFIED: UnattributedReason
UNATTRIBUTED_REASON_NO_SOURCE: UnattributedReason
UNATTRIBUTED_REASON_UNKNOWN_SOURCE: UnattributedReason
UNATTRIBUTED_REASON_SHORTCODE_MISMATCH: UnattributedReason
UNATTRIBUTED_REASON_WINDOW_EXPIRED: UnattributedReason
UNATTRIBUTED_REASON_NON_HUMAN_CLICK: UnattributedReason
UNATTRIBUTED_REASON_SENT_BEFORE_SMART_URLS: UnattributedReason

class RecordSignupRequest(_message.Message):
    __slots__ = ("account_id", "signup_id", "mbsy_source", "occurred_at", "customer_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNUP_ID_FIELD_NUMBER: _ClassVar[int]
    MBSY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    signup_id: str
    mbsy_source: str
    occurred_at: _timestamp_pb2.Timestamp
    customer_id: str
    def __init__(self, account_id: _Optional[int] = ..., signup_id: _Optional[str] = ..., mbsy_source: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class RecordOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "mbsy_source", "shortcode", "amount_minor", "currency", "occurred_at", "customer_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MBSY_SOURCE_FIELD_NUMBER: _ClassVar[int]
    SHORTCODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    order_id: str
    mbsy_source: str
    shortcode: str
    amount_minor: int
    currency: str
    occurred_at: _timestamp_pb2.Timestamp
    customer_id: str
    def __init__(self, account_id: _Optional[int] = ..., order_id: _Optional[str] = ..., mbsy_source: _Optional[str] = ..., shortcode: _Optional[str] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "occurred_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    order_id: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[int] = ..., order_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RefundOrderRequest(_message.Message):
    __slots__ = ("account_id", "order_id", "refund_id", "amount_minor", "occurred_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    order_id: str
    refund_id: str
    amount_minor: int
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[int] = ..., order_id: _Optional[str] = ..., refund_id: _Optional[str] = ..., amount_minor: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Conversion(_message.Message):
    __slots__ = ("conversion_id", "account_id", "kind", "external_id", "attributed", "unattributed_reason", "message_id", "template_id", "smart_url_id", "click_id", "amount_minor", "currency", "occurred_at", "replayed", "customer_id", "cancelled_at", "refunded_minor", "counted")
    CONVERSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTED_FIELD_NUMBER: _ClassVar[int]
    UNATTRIBUTED_REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    SMART_URL_ID_FIELD_NUMBER: _ClassVar[int]
    CLICK_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_MINOR_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FIELD_NUMBER: _ClassVar[int]
    conversion_id: int
    account_id: int
    kind: ConversionKind
    external_id: str
    attributed: bool
    unattributed_reason: UnattributedReason
    message_id: str
    template_id: int
    smart_url_id: int
    click_id: bytes
    amount_minor: int
    currency: str
    occurred_at: _timestamp_pb2.Timestamp
    replayed: bool
    customer_id: str
    cancelled_at: _timestamp_pb2.Timestamp
    refunded_minor: int
    counted: bool
    def __init__(self, conversion_id: _Optional[int] = ..., account_id: _Optional[int] = ..., kind: _Optional[_Union[ConversionKind, str]] = ..., external_id: _Optional[str] = ..., attributed: _Optional[bool] = ..., unattributed_reason: _Optional[_Union[UnattributedReason, str]] = ..., message_id: _Optional[str] = ..., template_id: _Optional[int] = ..., smart_url_id: _Optional[int] = ..., click_id: _Optional[bytes] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replayed: _Optional[bool] = ..., customer_id: _Optional[str] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refunded_minor: _Optional[int] = ..., counted: _Optional[bool] = ...) -> None: ...
