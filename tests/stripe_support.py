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
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import pytest

from localcluster.controlplane import free_ports
from localcluster.procs import spawn, stop_child, wait_until

WEBHOOK_SECRET: Final = "whsec_test_orgquota"
SECRET_KEY: Final = "sk_test_123"
FIXTURE_PRICE: Final = "price_1PgafmB7WZ01zgkW6dKueIc5"
"""the price of the one item of every subscription stripe-mock returns"""
AUTH: Final = {"Authorization": f"Bearer {SECRET_KEY}"}


STRIPE_MOCK_BINARY: Final = Path.home() / ".cache" / "orgquota" / "stripe-mock" / "v0.203.0" / "stripe-mock"
# TODO(platform): once localcluster.stripe_mock is merged, `stripe_mock` becomes
# `with StripeMock(workdir) as mock: yield mock.api_base` (it also builds the binary on a fresh machine).
LOOPBACK: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(api_base: str) -> bool:
    try:
        with LOOPBACK.open(urllib.request.Request(f"{api_base}/v1/customers", headers=AUTH), timeout=2):
            return True
    except OSError:
        return False


@contextmanager
def stripe_mock(workdir: Path) -> Iterator[str]:
    """stripe-mock's API base address for the duration (loopback only)."""
    if not STRIPE_MOCK_BINARY.is_file():
        pytest.fail(f"stripe-mock is not built at {STRIPE_MOCK_BINARY}")
    (port,) = free_ports(1)
    api_base = f"http://127.0.0.1:{port}"
    (https_port,) = free_ports(1)
    args = [str(STRIPE_MOCK_BINARY), "-http-addr", f"127.0.0.1:{port}", "-https-addr", f"127.0.0.1:{https_port}"]
    proc = spawn(args, workdir / "stripe-mock.log", detached=False)
    try:
        assert wait_until(lambda: _answers(api_base), 30), (workdir / "stripe-mock.log").read_text()
        yield api_base
    finally:
        stop_child(proc)


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
