"""Fixed-width base62: URL-safe, case-sensitive, no padding characters."""

from __future__ import annotations

import string

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
_VALUES = {c: i for i, c in enumerate(ALPHABET)}


def encode(number: int, width: int) -> str:
    if number < 0 or number >= 62**width:
        raise ValueError(f"{number} does not fit in {width} base62 characters")
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def decode(text: str) -> int:
    """Raises ValueError on any character outside the alphabet."""
    number = 0
    for char in text:
        value = _VALUES.get(char)
        if value is None:
            raise ValueError(f"{char!r} is not a base62 character")
        number = number * 62 + value
    return number
