"""The envelope every answer comes in: `Success[T]` (`{"success": true, "data": T}`) and `ErrorAnswer`."""

from __future__ import annotations

from typing import Any, Final, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

DataT = TypeVar("DataT")


class AnswerModel(BaseModel):
    """A part of an answer: exactly these fields (an undeclared one fails validation), JSON types kept.

    Strict, so a number written as a string (or the reverse) does not validate either.
    """

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)


class Success(AnswerModel, Generic[DataT]):
    """Every 2xx answer but `/config`'s: `data` is what the route answers."""

    success: Literal[True]
    data: DataT


class ErrorAnswer(AnswerModel):
    """Every 4xx and 5xx answer, including validation errors and unknown routes under /api/billing."""

    success: Literal[False]
    error: str
    """what went wrong, in words a caller can act on"""
    details: dict[str, Any]
    """what the error is about (e.g. `availablePlans`, `problems`); `{}` when nothing more is known"""
    timestamp: AwareDatetime
    """when the error was answered (RFC 3339, UTC)"""


ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    "4XX": {
        "model": ErrorAnswer,
        "description": "Refused, e.g. 400 unreadable body or unknown plan, 401 no valid token, 403 not allowed, "
        "404 not found, 409 conflicting change, 413 body too large, 422 invalid body",
    },
    "5XX": {
        "model": ErrorAnswer,
        "description": "Not answered: 500 an unexpected error, 502 the billing service failed, "
        "503 the Kubernetes API or the billing service is unreachable, or no plan catalog was read",
    },
}
"""The error envelope for every route (`APIRouter(responses=...)`); it also stands in for FastAPI's
default 422 schema (`HTTPValidationError`), a shape this API never sends."""
