import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from smarturls.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchInvalidationsRequest(_message.Message):
    __slots__ = ("lookback_seconds",)
    LOOKBACK_SECONDS_FIELD_NUMBER: _ClassVar[int]
    lookback_seconds: int
    def __init__(self, lookback_seconds: _Optional[int] = ...) -> None: ...

class TemplateVersion(_message.Message):
    __slots__ = ("template_id", "version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: int
    version: int
    def __init__(self, template_id: _Optional[int] = ..., version: _Optional[int] = ...) -> None: ...

class Invalidation(_message.Message):
    __slots__ = ("smart_url_ids", "templates")
    SMART_URL_IDS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    smart_url_ids: _containers.RepeatedScalarFieldContainer[int]
    templates: _containers.RepeatedCompositeFieldContainer[TemplateVersion]
    def __init__(self, smart_url_ids: _Optional[_Iterable[int]] = ..., templates: _Optional[_Iterable[_Union[TemplateVersion, _Mapping]]] = ...) -> None: ...

class ResolveTokenRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class ResolveTokensRequest(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tokens: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolveTokensResponse(_message.Message):
    __slots__ = ("resolutions",)
    RESOLUTIONS_FIELD_NUMBER: _ClassVar[int]
    resolutions: _containers.RepeatedCompositeFieldContainer[TokenResolution]
    def __init__(self, resolutions: _Optional[_Iterable[_Union[TokenResolution, _Mapping]]] = ...) -> None: ...

class TokenResolution(_message.Message):
    __slots__ = ("link",)
    LINK_FIELD_NUMBER: _ClassVar[int]
    link: ResolvedLink
    def __init__(self, link: _Optional[_Union[ResolvedLink, _Mapping]] = ...) -> None: ...

class ResolvedLink(_message.Message):
    __slots__ = ("smart_url_id", "account_id", "share_domain", "kind", "destination_head", "destination_tail", "append_source", "template_id", "template_version", "og_title", "og_description", "og_image_url")
    SMART_URL_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_HEAD_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_TAIL_FIELD_NUMBER: _ClassVar[int]
    APPEND_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    OG_TITLE_FIELD_NUMBER: _ClassVar[int]
    OG_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OG_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    smart_url_id: int
    account_id: int
    share_domain: str
    kind: _common_pb2.LinkKind
    destination_head: str
    destination_tail: str
    append_source: bool
    template_id: int
    template_version: int
    og_title: str
    og_description: str
    og_image_url: str
    def __init__(self, smart_url_id: _Optional[int] = ..., account_id: _Optional[int] = ..., share_domain: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.LinkKind, str]] = ..., destination_head: _Optional[str] = ..., destination_tail: _Optional[str] = ..., append_source: _Optional[bool] = ..., template_id: _Optional[int] = ..., template_version: _Optional[int] = ..., og_title: _Optional[str] = ..., og_description: _Optional[str] = ..., og_image_url: _Optional[str] = ...) -> None: ...

class Click(_message.Message):
    __slots__ = ("click_id", "smart_url_id", "clicked_at", "method", "user_agent", "ip_prefix", "referer", "hit_class", "reasons")
    CLICK_ID_FIELD_NUMBER: _ClassVar[int]
    SMART_URL_ID_FIELD_NUMBER: _ClassVar[int]
    CLICKED_AT_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_PREFIX_FIELD_NUMBER: _ClassVar[int]
    REFERER_FIELD_NUMBER: _ClassVar[int]
    HIT_CLASS_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    click_id: bytes
    smart_url_id: int
    clicked_at: _timestamp_pb2.Timestamp
    method: str
    user_agent: str
    ip_prefix: str
    referer: str
    hit_class: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, click_id: _Optional[bytes] = ..., smart_url_id: _Optional[int] = ..., clicked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., method: _Optional[str] = ..., user_agent: _Optional[str] = ..., ip_prefix: _Optional[str] = ..., referer: _Optional[str] = ..., hit_class: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class ClickBatch(_message.Message):
    __slots__ = ("batch_seq", "clicks", "columns")
    BATCH_SEQ_FIELD_NUMBER: _ClassVar[int]
    CLICKS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    batch_seq: int
    clicks: _containers.RepeatedCompositeFieldContainer[Click]
    columns: ClickColumns
    def __init__(self, batch_seq: _Optional[int] = ..., clicks: _Optional[_Iterable[_Union[Click, _Mapping]]] = ..., columns: _Optional[_Union[ClickColumns, _Mapping]] = ...) -> None: ...

class ClickColumns(_message.Message):
    __slots__ = ("click_ids", "smart_url_ids", "clicked_at_us", "strings", "method", "user_agent", "ip_prefix", "referer", "hit_class", "reasons")
    CLICK_IDS_FIELD_NUMBER: _ClassVar[int]
    SMART_URL_IDS_FIELD_NUMBER: _ClassVar[int]
    CLICKED_AT_US_FIELD_NUMBER: _ClassVar[int]
    STRINGS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    IP_PREFIX_FIELD_NUMBER: _ClassVar[int]
    REFERER_FIELD_NUMBER: _ClassVar[int]
    HIT_CLASS_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    click_ids: bytes
    smart_url_ids: _containers.RepeatedScalarFieldContainer[int]
    clicked_at_us: _containers.RepeatedScalarFieldContainer[int]
    strings: _containers.RepeatedScalarFieldContainer[str]
    method: _containers.RepeatedScalarFieldContainer[int]
    user_agent: _containers.RepeatedScalarFieldContainer[int]
    ip_prefix: _containers.RepeatedScalarFieldContainer[int]
    referer: _containers.RepeatedScalarFieldContainer[int]
    hit_class: _containers.RepeatedScalarFieldContainer[int]
    reasons: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, click_ids: _Optional[bytes] = ..., smart_url_ids: _Optional[_Iterable[int]] = ..., clicked_at_us: _Optional[_Iterable[int]] = ..., strings: _Optional[_Iterable[str]] = ..., method: _Optional[_Iterable[int]] = ..., user_agent: _Optional[_Iterable[int]] = ..., ip_prefix: _Optional[_Iterable[int]] = ..., referer: _Optional[_Iterable[int]] = ..., hit_class: _Optional[_Iterable[int]] = ..., reasons: _Optional[_Iterable[int]] = ...) -> None: ...

class ClickBatchAck(_message.Message):
    __slots__ = ("batch_seq", "stored", "duplicates", "expired")
    BATCH_SEQ_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    batch_seq: int
    stored: int
    duplicates: int
    expired: int
    def __init__(self, batch_seq: _Optional[int] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ..., expired: _Optional[int] = ...) -> None: ...
