"""Fixed-width base62: URL-safe, case-sensitive, no padding characters."""

from __future__ import annotations

import string

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_VALUES = {c: i for i, c in enumerate(ALPHABET)}


# Two characters at a time: half the divisions (minting makes two encodings a link).
_PAIRS = [a + b for a in ALPHABET for b in ALPHABET]


def encode(number: int, width: int) -> str:
    if number < 0 or number >= 62**width:
        raise ValueError(f"{number} does not fit in {width} base62 characters")
    text = ""
    for _ in range(width // 2):
        number, pair = divmod(number, 3844)
        text = _PAIRS[pair] + text
    if width % 2:
        text = ALPHABET[number] + text
    return text


def decode(text: str) -> int:
    """Raises ValueError on any character outside the alphabet."""
    number = 0
    for char in text:
        value = _VALUES.get(char)
        if value is None:
            raise ValueError(f"{char!r} is not a base62 character")
        number = number * 62 + value
    return number
