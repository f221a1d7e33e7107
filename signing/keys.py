"""Signing keys with one-character ids, so tokens can say which key signed them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from signing.base62 import ALPHABET


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """Keys by id. Mint with `current`; verify against every key still listed."""

    secrets_by_id: dict[str, bytes]
    current: str

    @classmethod
    def parse(cls, text: str) -> SigningKeys:
        """Parses "id:base64secret,id:base64secret"; the first key mints.

        Rotation: put the new key first and keep the old ones listed for as
        long as links signed with them must work.
        """
        secrets_by_id: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key_id, sep, encoded = item.partition(":")
            if not sep or len(key_id) != 1 or key_id not in ALPHABET:
                raise ValueError(f"key {item[:8]!r}...: want 'ID:BASE64' with a one-character id")
            secret = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            if len(secret) < 16:
                raise ValueError(f"key {key_id!r}: secret shorter than 16 bytes")
            if key_id in secrets_by_id:
                raise ValueError(f"key {key_id!r} listed twice")
            secrets_by_id[key_id] = secret
        if not secrets_by_id:
            raise ValueError("no signing keys given")
        return cls(secrets_by_id=secrets_by_id, current=next(iter(secrets_by_id)))

    @classmethod
    def coerce(cls, value: object) -> SigningKeys:
        """Keys as given to a settings object: already parsed, or the text form."""
        return value if isinstance(value, SigningKeys) else cls.parse(str(value))

    def mac(self, key_id: str, purpose: bytes, payload: str) -> bytes:
        # The purpose prefix keeps a token's MAC from ever validating as a source's.
        message = purpose + b":" + key_id.encode() + payload.encode()
        return hmac.digest(self.secrets_by_id[key_id], message, hashlib.sha256)


def generate_key_spec(key_id: str = "A") -> str:
    """A fresh key in the form SigningKeys.parse reads."""
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return f"{key_id}:{secret}"
