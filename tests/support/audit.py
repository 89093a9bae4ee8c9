"""The audit lines a test's requests left (`orgquota.api.audit`), as the fields the JSON log writes."""

from __future__ import annotations

from typing import Any

import pytest


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [dict(record.fields) for record in caplog.records if record.name == "orgquota.api.audit"]  # type: ignore[attr-defined]
