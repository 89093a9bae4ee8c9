"""RFC 3339 timestamps as Kubernetes writes them (UTC, whole seconds, `Z`)."""

from __future__ import annotations

from datetime import UTC, datetime


def format_rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
