"""The audit trail: one line for every write a caller asks for, whoever asks and however it ends.

Who (`sub`, `preferred_username`), on which organization, what (the action and its inputs) and
the outcome (`done`, or the refusal's status and words, or `failed`) — in the `orgquota.api.audit`
log, at INFO whatever ORGQUOTA_ACCESS_LOG says. A route that reads its body itself names what it
read with `noted`, so the line says what was asked and not only where.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, ParamSpec, TypeVar

from pydantic import BaseModel
from starlette.requests import Request

from orgquota.api.auth import Caller
from orgquota.api.envelope import ApiError

audit_log: Final = logging.getLogger("orgquota.api.audit")
P = ParamSpec("P")
R = TypeVar("R")


def audit(caller: Caller | None, action: str, outcome: str, inputs: dict[str, Any]) -> None:
    audit_log.info(
        "%s for %s by %s: %s",
        action,
        getattr(caller, "org", "") or "-",
        getattr(caller, "username", "") or getattr(caller, "sub", "") or "-",
        outcome,
        extra={
            "fields": {
                "audit": action,
                "sub": getattr(caller, "sub", ""),
                "preferred_username": getattr(caller, "username", ""),
                "organization": getattr(caller, "org", ""),
                "outcome": outcome,
                "inputs": inputs,
            }
        },
    )


def noted(request: Request, **inputs: Any) -> None:
    """Inputs a route read from the body, for its audit line (bounded: the body is, `guard.RequestGuard`)."""
    request.state.audit_inputs = {**getattr(request.state, "audit_inputs", {}), **inputs}


def audited(action: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """A write route whose every call is audited (its `caller` parameter says who; the others, what)."""

    def wrap(route: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(route)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            caller = kwargs.get("caller")
            caller = caller if isinstance(caller, Caller) else None
            request = kwargs.get("request")
            inputs = {name: _plain(value) for name, value in kwargs.items() if name not in ("caller", "request")}

            def line(outcome: str) -> None:
                read = getattr(request.state, "audit_inputs", None) if isinstance(request, Request) else None
                audit(caller, action, outcome, {**inputs, **read} if read else inputs)

            try:
                answer = await route(*args, **kwargs)
            except ApiError as refused:
                line(f"refused {refused.status}: {refused.message}")
                raise
            except Exception as exc:
                line(f"failed ({type(exc).__name__})")
                raise
            line("done")
            return answer

        return run

    return wrap


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True) if isinstance(value, BaseModel) else value
