"""The worked signature example of docs/providers.md is what the module and the API compute."""

from __future__ import annotations

import re
from pathlib import Path

from orgquota.api.providers.whmcs.signature import signature, verify
from tests.support.whmcs_client import sign

PROVIDERS_PAGE = Path(__file__).resolve().parents[4] / "docs" / "providers.md"


def example() -> dict[str, str]:
    section = PROVIDERS_PAGE.read_text().split("## WHMCS", 1)[1].split("\n## ", 1)[0]
    fields = dict(re.findall(r"^(secret|timestamp|body|signature): +(\S.*)$", section, re.MULTILINE))
    assert set(fields) == {"secret", "timestamp", "body", "signature"}, fields
    return fields


def test_the_documented_example_signature_is_right() -> None:
    fields = example()
    body = fields["body"].encode()
    assert sign(fields["secret"], fields["timestamp"], body) == fields["signature"]
    assert "sha256=" + signature(fields["secret"].encode(), fields["timestamp"], body) == fields["signature"]
    sent, _ = verify(
        fields["secret"].encode(), fields["timestamp"], fields["signature"], body, int(fields["timestamp"])
    )
    assert sent == int(fields["timestamp"])
