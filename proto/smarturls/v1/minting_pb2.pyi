import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from smarturls.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RevokeMessageRequest(_message.Message):
    __slots__ = ("account_id", "message_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    message_id: str
    def __init__(self, account_id: _Optional[int] = ..., message_id: _Optional[str] = ...) -> None: ...

class RevokeMessageResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: int
    def __init__(self, revoked: _Optional[int] = ...) -> None: ...

class MintSmartUrlsRequest(_message.Message):
    __slots__ = ("account_id", "template_id", "message_id", "advocate_shortcode", "sent_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ADVOCATE_SHORTCODE_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    message_id: str
    advocate_shortcode: str
    sent_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ..., message_id: _Optional[str] = ..., advocate_shortcode: _Optional[str] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MintedLink(_message.Message):
    __slots__ = ("name", "kind", "url")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: _common_pb2.LinkKind
    url: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.LinkKind, str]] = ..., url: _Optional[str] = ...) -> None: ...

class MintError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class MintSmartUrlsResponse(_message.Message):
    __slots__ = ("message_id", "links", "replayed", "error")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    links: _containers.RepeatedCompositeFieldContainer[MintedLink]
    replayed: bool
    error: MintError
    def __init__(self, message_id: _Optional[str] = ..., links: _Optional[_Iterable[_Union[MintedLink, _Mapping]]] = ..., replayed: _Optional[bool] = ..., error: _Optional[_Union[MintError, _Mapping]] = ...) -> None: ...

class MintBatch(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[MintSmartUrlsRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[MintSmartUrlsRequest, _Mapping]]] = ...) -> None: ...

class MintBatchResult(_message.Message):
    __slots__ = ("responses",)
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[MintSmartUrlsResponse]
    def __init__(self, responses: _Optional[_Iterable[_Union[MintSmartUrlsResponse, _Mapping]]] = ...) -> None: ...
