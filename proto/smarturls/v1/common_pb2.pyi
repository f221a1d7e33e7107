from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_EMAIL: _ClassVar[Channel]
    CHANNEL_SMS: _ClassVar[Channel]

class Goal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GOAL_UNSPECIFIED: _ClassVar[Goal]
    GOAL_ADVOCATE_SHARE: _ClassVar[Goal]
    GOAL_SIGNUPS: _ClassVar[Goal]
    GOAL_ORDERS: _ClassVar[Goal]

class LinkKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINK_KIND_UNSPECIFIED: _ClassVar[LinkKind]
    LINK_KIND_SHARE: _ClassVar[LinkKind]
    LINK_KIND_ENROLLMENT: _ClassVar[LinkKind]
    LINK_KIND_REFERRAL: _ClassVar[LinkKind]
    LINK_KIND_TRACKED: _ClassVar[LinkKind]
    LINK_KIND_SHARED_REFERRAL: _ClassVar[LinkKind]

class ShareNetwork(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARE_NETWORK_UNSPECIFIED: _ClassVar[ShareNetwork]
    SHARE_NETWORK_WHATSAPP: _ClassVar[ShareNetwork]
    SHARE_NETWORK_FACEBOOK: _ClassVar[ShareNetwork]
    SHARE_NETWORK_X: _ClassVar[ShareNetwork]
    SHARE_NETWORK_LINKEDIN: _ClassVar[ShareNetwork]
    SHARE_NETWORK_TELEGRAM: _ClassVar[ShareNetwork]
    SHARE_NETWORK_EMAIL: _ClassVar[ShareNetwork]
    SHARE_NETWORK_SMS: _ClassVar[ShareNetwork]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_EMAIL: Channel
CHANNEL_SMS: Channel
GOAL_UNSPECIFIED: Goal
GOAL_ADVOCATE_SHARE: Goal
GOAL_SIGNUPS: Goal
GOAL_ORDERS: Goal
LINK_KIND_UNSPECIFIED: LinkKind
LINK_KIND_SHARE: LinkKind
LINK_KIND_ENROLLMENT: LinkKind
LINK_KIND_REFERRAL: LinkKind
LINK_KIND_TRACKED: LinkKind
LINK_KIND_SHARED_REFERRAL: LinkKind
SHARE_NETWORK_UNSPECIFIED: ShareNetwork
SHARE_NETWORK_WHATSAPP: ShareNetwork
SHARE_NETWORK_FACEBOOK: ShareNetwork
SHARE_NETWORK_X: ShareNetwork
SHARE_NETWORK_LINKEDIN: ShareNetwork
SHARE_NETWORK_TELEGRAM: ShareNetwork
SHARE_NETWORK_EMAIL: ShareNetwork
SHARE_NETWORK_SMS: ShareNetwork
