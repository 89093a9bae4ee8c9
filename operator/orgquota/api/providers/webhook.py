"""`POST /api/billing/webhook`: one pipeline for every provider's signed messages.

Capped body read → verify (the provider, on the raw bytes, before anything is parsed) → facts
(the provider: the message as billing facts for one organization, with the provider's ordering
key) → the one annotation writer (`apply.apply_facts`) → an answer and one count in
`orgquota_webhook_events{provider, type, outcome}`. A provider fills in its half (`Webhook`):
how it verifies and reads a message, and the words of its answers; which outcome is counted
for what, and that nothing is written before a message is verified, are the pipeline's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orgquota.api.metrics import WEBHOOK_EVENTS
from orgquota.api.providers.apply import KubernetesUnavailable, OrganizationNotFound, apply_facts
from orgquota.kube.billing_annotations import Decide, Recorded, Stamp
from orgquota.kube.client import Kube

if TYPE_CHECKING:
    from orgquota.api.providers.interface import ProviderContext

ERROR = "error"
"""the outcome of a message that failed (a 5xx, or a 4xx the provider should retry once fixed)"""


@dataclass(eq=False)
class Settled(Exception):
    """The message's answer, decided without a write (a refusal, or nothing to do): counted with
    `outcome`, and with `kind` as its type when the provider knows better than the pipeline."""

    outcome: str
    answer: Response
    kind: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A verified message, read: its facts for one organization."""

    kind: str
    """the message's type, as counted"""
    organization: str
    decide: Decide
    """the facts, given the organization's billing annotations (may raise Settled: nothing is written)"""
    created: int | None
    """when the provider created the message (its ordering key), None: not from an ordered stream"""


M = TypeVar("M")
D = TypeVar("D", bound=Delivery)


class Webhook(ABC, Generic[M, D]):
    """A provider's half of the pipeline: `M` is a verified message, `D` what it says."""

    provider: ClassVar[str]
    """the `provider` label of the count"""
    unverified: ClassVar[str]
    """the `type` label of a message that was not read (its claimed type is not trusted)"""
    max_body_bytes: ClassVar[int]
    """anyone may post here: no more than this is read before the signature is checked"""
    summary: ClassVar[str]
    openapi: ClassVar[dict[str, Any] | None] = None
    """the request as the OpenAPI document shows it (the body is read raw, so FastAPI cannot tell)"""

    @abstractmethod
    def oversized(self) -> Settled:
        """The answer to a body over `max_body_bytes` (413)."""

    @abstractmethod
    def verify(self, headers: Mapping[str, str], body: bytes) -> M:
        """The message, if `body` is provably the provider's; else Settled."""

    def kind(self, message: M) -> str:
        """The type of a verified message, as counted until it is read."""
        return self.unverified

    @abstractmethod
    async def delivery(self, message: M) -> D:
        """What the message says; Settled when it says nothing to write (or cannot be applied)."""

    @abstractmethod
    def written(self, delivery: D, recorded: Recorded) -> Response:
        """The answer once the facts are applied (`recorded.changes` empty: they changed nothing)."""

    @abstractmethod
    def missing(self, delivery: D) -> Settled:
        """The answer when the organization does not exist."""

    @abstractmethod
    def failed(self, delivery: D, problem: KubernetesUnavailable) -> Response:
        """The answer when the apiserver failed: nothing was written, the provider should retry."""

    def finished(self, message: M, answer: Response | None) -> None:
        """Called once a verified message is answered (`answer` None: with an ApiError)."""

    def message_id(self, delivery: D) -> str:
        """The message's id: orders messages created in the same second (with `Delivery.created`)."""
        return ""

    def stamp(self, delivery: D) -> Stamp | None:
        """The provider's record of the message, written with its facts (even when they change nothing)."""
        return None


async def capped_body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None once it exceeds `limit` bytes (read no further: nobody is verified yet)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def receive(hook: Webhook[M, D], kube: Kube, request: Request) -> Response:
    """The pipeline, counted once whatever happens (an ApiError raised by a step is counted as an
    error and answered by the API's error handler)."""
    kind, outcome = hook.unverified, ERROR
    message: M | None = None
    answer: Response | None = None
    try:
        try:
            body = await capped_body(request, hook.max_body_bytes)
            if body is None:
                raise hook.oversized()
            message = hook.verify(request.headers, body)
            kind = hook.kind(message)
            delivery = await hook.delivery(message)
            kind = delivery.kind
            outcome, answer = await _write(hook, kube, delivery)
        except Settled as settled:
            outcome, answer, kind = settled.outcome, settled.answer, settled.kind or kind
        return answer
    finally:
        if message is not None:
            hook.finished(message, answer)
        WEBHOOK_EVENTS.labels(hook.provider, kind, outcome).inc()


async def _write(hook: Webhook[M, D], kube: Kube, delivery: D) -> tuple[str, Response]:
    try:
        recorded = await apply_facts(
            kube,
            delivery.organization,
            delivery.decide,
            created=delivery.created,
            stamp=hook.stamp(delivery),
            event_id=hook.message_id(delivery),
        )
    except OrganizationNotFound:
        raise hook.missing(delivery) from None
    except KubernetesUnavailable as exc:
        return ERROR, hook.failed(delivery, exc)
    return ("applied" if recorded.changes else "unchanged"), hook.written(delivery, recorded)


def webhook_router(hook: Webhook[Any, Any], context: ProviderContext) -> APIRouter:
    router = APIRouter()

    @router.post("/webhook", summary=hook.summary, openapi_extra=hook.openapi)
    async def webhook(request: Request) -> Response:
        return await receive(hook, context.kube, request)

    return router
