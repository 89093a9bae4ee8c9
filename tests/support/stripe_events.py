"""Stripe for tests: stripe-mock on a free loopback port, and events built and signed as Stripe sends them.

stripe-mock checks every call against Stripe's API description but keeps nothing and sends no
webhooks, so webhook deliveries are built here: the JSON shape of Stripe's event objects, signed with
Stripe's scheme (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`),
written out here rather than with the SDK under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Final

import httpx

from tests.support.billing_api import BillingApi

WEBHOOK_SECRET: Final = "whsec_test_orgquota"
SECRET_KEY: Final = "sk_test_123"
FIXTURE_PRICE: Final = "price_1PgafmB7WZ01zgkW6dKueIc5"
"""the price of the one item of every subscription stripe-mock returns"""


def signature(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_type: str, obj: dict[str, Any], created: int, event_id: str = "") -> bytes:
    """The raw body of a Stripe event delivery."""
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": created,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": obj},
        }
    ).encode()


def subscription(
    subscription_id: str,
    items: list[tuple[str, int]],
    *,
    organization: str | None,
    status: str = "active",
    cancel_at_period_end: bool = False,
    customer: str = "cus_test_1",
) -> dict[str, Any]:
    """A Subscription object with items `(price id, quantity)`; our metadata names `organization`."""
    return {
        "id": subscription_id,
        "object": "subscription",
        "status": status,
        "customer": customer,
        "cancel_at_period_end": cancel_at_period_end,
        "cancel_at": 1_900_000_000 if cancel_at_period_end else None,
        "metadata": {"organization": organization} if organization else {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{index}_{subscription_id}",
                    "object": "subscription_item",
                    "price": {"id": price, "object": "price"},
                    "quantity": quantity,
                    "current_period_end": 1_900_000_000,
                }
                for index, (price, quantity) in enumerate(items)
            ],
        },
    }


def invoice(subscription_id: str, organization: str | None) -> dict[str, Any]:
    """An Invoice of a subscription, in the current shape (`parent.subscription_details`)."""
    return {
        "id": f"in_{uuid.uuid4().hex[:16]}",
        "object": "invoice",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": subscription_id,
                "metadata": {"organization": organization} if organization else {},
            },
        },
    }


def checkout_session(session_id: str, subscription_id: str, organization: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "subscription",
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": organization,
        "metadata": {"organization": organization},
        "subscription": subscription_id,
        "customer": "cus_test_1",
    }


def deliver(api: BillingApi, body: bytes, header: str | None = "") -> httpx.Response:
    """POST a Stripe event as Stripe does (signed now with the endpoint's secret, unless `header`)."""
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header or signature(body)
    return api.http.post("/api/billing/webhook", content=body, headers=headers)
