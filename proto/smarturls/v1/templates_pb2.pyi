import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from smarturls.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TemplateLink(_message.Message):
    __slots__ = ("name", "kind", "destination_url", "network", "share_text", "share_subject", "og_title", "og_description", "og_image_url")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_URL_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    SHARE_TEXT_FIELD_NUMBER: _ClassVar[int]
    SHARE_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    OG_TITLE_FIELD_NUMBER: _ClassVar[int]
    OG_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OG_IMAGE_URL_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: _common_pb2.LinkKind
    destination_url: str
    network: _common_pb2.ShareNetwork
    share_text: str
    share_subject: str
    og_title: str
    og_description: str
    og_image_url: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[_common_pb2.LinkKind, str]] = ..., destination_url: _Optional[str] = ..., network: _Optional[_Union[_common_pb2.ShareNetwork, str]] = ..., share_text: _Optional[str] = ..., share_subject: _Optional[str] = ..., og_title: _Optional[str] = ..., og_description: _Optional[str] = ..., og_image_url: _Optional[str] = ...) -> None: ...

class GoalChange(_message.Message):
    __slots__ = ("goal", "effective_from")
    GOAL_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    goal: _common_pb2.Goal
    effective_from: _timestamp_pb2.Timestamp
    def __init__(self, goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Template(_message.Message):
    __slots__ = ("template_id", "account_id", "name", "channel", "goal", "links", "goal_history", "created_at", "version", "attribution_window_seconds")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    GOAL_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    template_id: int
    account_id: int
    name: str
    channel: _common_pb2.Channel
    goal: _common_pb2.Goal
    links: _containers.RepeatedCompositeFieldContainer[TemplateLink]
    goal_history: _containers.RepeatedCompositeFieldContainer[GoalChange]
    created_at: _timestamp_pb2.Timestamp
    version: int
    attribution_window_seconds: int
    def __init__(self, template_id: _Optional[int] = ..., account_id: _Optional[int] = ..., name: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., links: _Optional[_Iterable[_Union[TemplateLink, _Mapping]]] = ..., goal_history: _Optional[_Iterable[_Union[GoalChange, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., attribution_window_seconds: _Optional[int] = ...) -> None: ...

class CreateTemplateRequest(_message.Message):
    __slots__ = ("account_id", "name", "channel", "goal", "links", "attribution_window_seconds")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    name: str
    channel: _common_pb2.Channel
    goal: _common_pb2.Goal
    links: _containers.RepeatedCompositeFieldContainer[TemplateLink]
    attribution_window_seconds: int
    def __init__(self, account_id: _Optional[int] = ..., name: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., goal: _Optional[_Union[_common_pb2.Goal, str]] = ..., links: _Optional[_Iterable[_Union[TemplateLink, _Mapping]]] = ..., attribution_window_seconds: _Optional[int] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("account_id", "template_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ...) -> None: ...

class SetTemplateGoalRequest(_message.Message):
    __slots__ = ("account_id", "template_id", "goal")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    goal: _common_pb2.Goal
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ..., goal: _Optional[_Union[_common_pb2.Goal, str]] = ...) -> None: ...

class UpdateTemplateLinkRequest(_message.Message):
    __slots__ = ("account_id", "template_id", "link")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    link: TemplateLink
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ..., link: _Optional[_Union[TemplateLink, _Mapping]] = ...) -> None: ...

class SetAttributionWindowRequest(_message.Message):
    __slots__ = ("account_id", "template_id", "attribution_window_seconds")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    template_id: int
    attribution_window_seconds: int
    def __init__(self, account_id: _Optional[int] = ..., template_id: _Optional[int] = ..., attribution_window_seconds: _Optional[int] = ...) -> None: ...
