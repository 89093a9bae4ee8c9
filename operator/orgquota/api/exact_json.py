"""JSON with money written exactly: a Decimal becomes a JSON number with the decimal's own digits.

JSON encoders write only ints and floats as numbers, and a float cannot hold `0.1` or
`12345678901.995`; so each Decimal is first written as a unique placeholder string (the encoder's
speed is kept) and the placeholder is then replaced by the decimal's plain digits (`179.00`,
`28000`, `55.125`). orjson writes the rest: a history's thousands of floats cost the standard
library's encoder more than the rest of the request.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

import orjson


def plain(value: Decimal) -> str:
    """The decimal's digits without an exponent (`1E+3` → `1000`); a JSON number."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite amount")
    return format(value, "f")


def dumps(content: Any) -> bytes:
    """JSON without spaces, non-ASCII kept, with every Decimal written exactly as a number."""
    written: list[bytes] = []
    token = secrets.token_hex(8)

    def placeholder(value: object) -> str:
        if isinstance(value, Decimal):
            written.append(plain(value).encode())
            return f"{token}:{len(written) - 1}"
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    try:
        text = orjson.dumps(content, default=placeholder, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # an integer wider than 64 bits: the standard library writes it
        text = json.dumps(
            content, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=placeholder
        ).encode()
    if not written:
        return text
    return re.sub(f'"{token}:([0-9]+)"'.encode(), lambda found: written[int(found.group(1))], text)
