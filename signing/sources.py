"""`mbsy_source`: an opaque, signed id of one click.

It carries the click id and the Smart URL id under a MAC, so the control plane
can attribute a conversion that arrives before the click's batch is stored,
and nobody can fabricate one. Layout: key id (1) + link id (6) + click UUID
(22) + MAC (8, about 47 bits) = 37 base62 characters.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from signing import base62
from signing.keys import SigningKeys

SOURCE_LENGTH = 37
_ID_WIDTH = 6
_CLICK_WIDTH = 22
_MAC_WIDTH = 8
_MAC_SPACE = 62**_MAC_WIDTH
_PURPOSE = b"mbsy-source"


@dataclass(frozen=True, slots=True)
class ClickSource:
    smart_url_id: int
    click_id: uuid.UUID


def _mac_chars(keys: SigningKeys, key_id: str, payload: str) -> str:
    digest = keys.mac(key_id, _PURPOSE, payload)
    return base62.encode(int.from_bytes(digest[:8], "big") % _MAC_SPACE, _MAC_WIDTH)


def mint_source(keys: SigningKeys, smart_url_id: int, click_id_int: int) -> str:
    key_id = keys.current
    payload = base62.encode(smart_url_id, _ID_WIDTH) + base62.encode(click_id_int, _CLICK_WIDTH)
    return key_id + payload + _mac_chars(keys, key_id, payload)


def verify_source(keys: SigningKeys, source: str) -> ClickSource | None:
    """Returns what the source names, or None when it was not minted by us."""
    if len(source) != SOURCE_LENGTH or not source.isascii() or source[0] not in keys.secrets_by_id:
        return None
    key_id, payload, mac = source[0], source[1:-_MAC_WIDTH], source[-_MAC_WIDTH:]
    try:
        smart_url_id = base62.decode(payload[:_ID_WIDTH])
        click_int = base62.decode(payload[_ID_WIDTH:])
    except ValueError:
        return None
    if click_int >= 1 << 128 or not hmac.compare_digest(mac, _mac_chars(keys, key_id, payload)):
        return None
    return ClickSource(smart_url_id=smart_url_id, click_id=uuid.UUID(int=click_int))
