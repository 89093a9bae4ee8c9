"""RFC 3339 timestamps: written as Kubernetes writes them (UTC, `Z`), read with their zone."""

from __future__ import annotations

from datetime import UTC, datetime


def format_rfc3339(when: datetime, *, millis: bool = False) -> str:
    """Whole seconds as in Kubernetes objects; `millis` for log lines and error answers."""
    stamp = when.astimezone(UTC)
    if millis:
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(raw: str) -> datetime:
    """An RFC 3339 time with its zone; ValueError otherwise."""
    when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if when.tzinfo is None or "T" not in raw.upper():
        raise ValueError(f"{raw!r} is not an RFC 3339 time")
    return when
