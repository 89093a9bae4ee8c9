"""Who is told of an organization's alerts, and which alert states were already mailed.

Both live in annotations the billing API writes: `billing.kube-dc.com/notify` (a JSON list of
addresses, set by an org-admin) and `billing.kube-dc.com/notified` (the keys of the last
`NOTIFIED_KEPT` alert states mailed, so a redelivery by Alertmanager, or the same delivery to
another API replica, mails nothing again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

MAX_ADDRESSES: Final = 10
NOTIFIED_KEPT: Final = 50
MAX_ADDRESS_LENGTH: Final = 254
"""RFC 5321's limit on a forward path, less the angle brackets"""
_LOCAL: Final = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL: Final = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class AddressError(ValueError):
    """Addresses that must not be stored; the message names the first bad one (cut short)."""


def address_problem(address: Any) -> str | None:
    """Why `address` is not a plain mailbox (`local@domain.tld`, no display name, no quoting), or None."""
    if not isinstance(address, str):
        return "an address must be a string"
    shown = address[:64] + ("..." if len(address) > 64 else "")
    if len(address) > MAX_ADDRESS_LENGTH:
        return f"{shown!r} is longer than {MAX_ADDRESS_LENGTH} characters"
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or len(local) > 64
        or not _LOCAL.match(local)
        or len(labels) < 2
        or not all(_DOMAIN_LABEL.match(label) for label in labels)
    ):
        return f"{shown!r} is not an e-mail address (name@example.com)"
    return None


def valid_addresses(addresses: Any) -> list[str]:
    """The addresses to store: a list of at most `MAX_ADDRESSES` valid ones, duplicates (any case) dropped."""
    if not isinstance(addresses, list):
        raise AddressError("emails must be a list of addresses")
    if len(addresses) > MAX_ADDRESSES:
        raise AddressError(f"at most {MAX_ADDRESSES} addresses (got {len(addresses)})")
    kept: list[str] = []
    for address in addresses:
        problem = address_problem(address)
        if problem:
            raise AddressError(problem)
        if address.lower() not in {known.lower() for known in kept}:
            kept.append(address)
    return kept


def notify_annotation(addresses: Sequence[str]) -> str:
    return json.dumps(list(addresses), separators=(",", ":"))


def parse_notify(raw: str | None) -> list[str]:
    """The stored addresses; an unreadable annotation (or unreadable entries) counts as none."""
    try:
        found = json.loads(raw) if raw else []
    except (ValueError, RecursionError):
        return []
    if not isinstance(found, list):
        return []
    return [address for address in found[:MAX_ADDRESSES] if address_problem(address) is None]


_STAMP: Final = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def alert_key(fingerprint: str, starts_at: str, status: str) -> str:
    """One state of one alert: Alertmanager's fingerprint, when it started and whether it fires. The
    start is kept to the millisecond: Alertmanager writes nanoseconds in its webhook and milliseconds in
    its API, and either is the same start."""
    stamp = _STAMP.match(starts_at)
    if stamp is not None:
        starts_at = f"{stamp[1]}.{((stamp[2] or '') + '000')[:3]}{stamp[3]}"
    return f"{fingerprint[:32]}/{starts_at[:40]}/{status[:16]}"


def parse_notified(raw: str | None) -> list[str]:
    try:
        found = json.loads(raw) if raw else []
    except (ValueError, RecursionError):
        return []
    return [key for key in found if isinstance(key, str)][-NOTIFIED_KEPT:] if isinstance(found, list) else []


def notified_annotation(before: Sequence[str], added: Iterable[str]) -> str:
    """The last `NOTIFIED_KEPT` keys, oldest first, each once."""
    new = list(dict.fromkeys(added))
    keys = [key for key in before if key not in set(new)] + new
    return json.dumps(keys[-NOTIFIED_KEPT:], separators=(",", ":"))
