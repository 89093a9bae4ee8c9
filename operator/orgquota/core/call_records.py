"""Which signed calls an Organization has had applied: the record that refuses a copy of one, on
whichever API replica it arrives.

A provider whose messages are signed requests rather than events with ids (WHMCS) keeps in the
Organization it applied a call to a short id of each call, a hash of the call's signature (so
the record holds no signature), until the call would be refused as too old anyway. The id is
written in the same write as the call's facts, conditional on the version read, so of two
replicas handed the same call at once one applies it and the other then finds it recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Final

from orgquota.core.annotations import APPLIED_CALLS

ID_HEX_DIGITS: Final = 32


def call_id(signature: bytes) -> str:
    """The id a call is recorded by: its signature hashed again, shortened."""
    return hashlib.sha256(signature).hexdigest()[:ID_HEX_DIGITS]


def recorded(annotations: Mapping[str, str]) -> dict[str, int]:
    """The calls recorded, by id, with the time (Unix seconds) until which each is kept; an
    unreadable record counts as empty (the signatures' freshness window still holds)."""
    try:
        found = json.loads(annotations.get(APPLIED_CALLS) or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(key): value for key, value in found.items() if isinstance(value, int)}


def applied(annotations: Mapping[str, str], call: str) -> bool:
    return call in recorded(annotations)


def with_call(annotations: Mapping[str, str], call: str, until: int, now: float) -> str:
    """The record with `call` kept until `until`, and without the calls whose time is past."""
    kept = {key: value for key, value in recorded(annotations).items() if value >= now}
    kept[call] = until
    return json.dumps(dict(sorted(kept.items())), separators=(",", ":"))
