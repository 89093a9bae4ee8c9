"""The billing API's answer envelope, as tests check it."""

from __future__ import annotations

from typing import Any


def assert_data(response: Any) -> Any:
    """The response is a 200 in the success envelope; its data."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["data"]


def assert_error(response: Any, status: int, *words: str) -> dict[str, Any]:
    """The response is `status` in the error envelope and its message names each of `words`; its body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert set(body) - {"code"} == {"success", "error", "details", "timestamp"}  # a code where SPEC names one
    assert body["timestamp"].endswith("Z")
    for word in words:
        assert word in body["error"], body["error"]
    return dict(body)
