import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Account(_message.Message):
    __slots__ = ("account_id", "name", "smart_urls_enabled", "share_domain", "created_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SMART_URLS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    SHARE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    name: str
    smart_urls_enabled: bool
    share_domain: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[int] = ..., name: _Optional[str] = ..., smart_urls_enabled: _Optional[bool] = ..., share_domain: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAccountRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("account_id",)
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    def __init__(self, account_id: _Optional[int] = ...) -> None: ...

class SetSmartUrlsEnabledRequest(_message.Message):
    __slots__ = ("account_id", "enabled")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    enabled: bool
    def __init__(self, account_id: _Optional[int] = ..., enabled: _Optional[bool] = ...) -> None: ...

class SetShareDomainRequest(_message.Message):
    __slots__ = ("account_id", "share_domain")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    share_domain: str
    def __init__(self, account_id: _Optional[int] = ..., share_domain: _Optional[str] = ...) -> None: ...

class GetCallerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCallerResponse(_message.Message):
    __slots__ = ("key_id", "role", "key_name", "account")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    role: str
    key_name: str
    account: Account
    def __init__(self, key_id: _Optional[str] = ..., role: _Optional[str] = ..., key_name: _Optional[str] = ..., account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...
