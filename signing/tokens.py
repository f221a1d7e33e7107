"""Smart URL tokens: 12 characters, key id + link id + truncated HMAC.

Layout (design notes): 1 key-id character, 6 base62 characters of link id
(56.8 billion links), 5 base62 characters of MAC (about 29.8 bits). A forged
or mistyped token fails the MAC check before any cache or backend is touched.
"""

from __future__ import annotations

import hmac

from signing import base62
from signing.keys import SigningKeys

TOKEN_LENGTH = 12
_ID_WIDTH = 6
_MAC_WIDTH = 5
_MAC_SPACE = 62**_MAC_WIDTH
_PURPOSE = b"smart-url-token"
MAX_LINK_ID = 62**_ID_WIDTH - 1


def _mac_chars(keys: SigningKeys, key_id: str, id_chars: str) -> str:
    digest = keys.mac(key_id, _PURPOSE, id_chars)
    return base62.encode(int.from_bytes(digest[:8], "big") % _MAC_SPACE, _MAC_WIDTH)


def mint_token(keys: SigningKeys, link_id: int, key_id: str | None = None) -> str:
    key_id = key_id or keys.current
    id_chars = base62.encode(link_id, _ID_WIDTH)
    return key_id + id_chars + _mac_chars(keys, key_id, id_chars)


def verify_token(keys: SigningKeys, token: str) -> int | None:
    """Returns the link id, or None for anything not minted under a listed key."""
    if len(token) != TOKEN_LENGTH or not token.isascii():
        return None
    key_id, id_chars, mac = token[0], token[1 : 1 + _ID_WIDTH], token[1 + _ID_WIDTH :]
    if key_id not in keys.secrets_by_id:
        return None
    try:
        link_id = base62.decode(id_chars)
        base62.decode(mac)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac_chars(keys, key_id, id_chars)):
        return None
    return link_id
