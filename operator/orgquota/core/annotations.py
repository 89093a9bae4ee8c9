"""The billing annotations of an Organization and the labels of the objects the operator writes.

Billing systems and GitOps repos speak to the operator only through these strings, so their
parsing is strict and every rejected part is reported, never silently dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

PREFIX: Final = "billing.kube-dc.com/"
PLAN_ID: Final = PREFIX + "plan-id"
SUBSCRIPTION: Final = PREFIX + "subscription"
ADDONS: Final = PREFIX + "addons"
SUSPENDED_AT: Final = PREFIX + "suspended-at"
PLAN_NAME: Final = PREFIX + "plan-name"
PROVIDER_SUBSCRIPTION_ID: Final = PREFIX + "provider-subscription-id"
PROVIDER_CUSTOMER_ID: Final = PREFIX + "provider-customer-id"
PROVIDER_EVENT_CREATED: Final = PREFIX + "provider-event-created"
PROVIDER_EVENT_ID: Final = PREFIX + "provider-event-id"
"""with `provider-event-created`, the last provider message applied: messages are ordered by (created, id)"""
BUDGET: Final = PREFIX + "budget"
"""the monthly budget (`core.budget`), written by the billing API and exported by the operator"""
NOTIFY: Final = PREFIX + "notify"
NOTIFIED: Final = PREFIX + "notified"
APPLIED_CALLS: Final = PREFIX + "applied-calls"
WHMCS_CLIENT: Final = PREFIX + "whmcs-client"
"""the WHMCS client (`whmcs-client-<id>`) an organization is bound to: set by its first activation
or by an admin beforehand, and never removed by a call (a termination keeps it)"""
CHECKOUT_SESSION: Final = PREFIX + "checkout-session"
"""the Stripe Checkout Session the billing API last created for the organization: the one a first
subscription may come from (binding, see `api.providers.stripe.binding`)"""
CURRENCY: Final = PREFIX + "currency"
"""the ISO 4217 currency the organization pays in, fixed at its first subscription (a checkout or a trial)"""
TRIAL_ENDS_AT: Final = PREFIX + "trial-ends-at"
"""RFC 3339 end of the organization's one trial; kept after it ends, so a second trial is refused"""
PERIOD_END: Final = PREFIX + "period-end"
"""RFC 3339 end of the period the subscription is paid for, as the provider's messages last said"""

READ_BY_BILLING: Final = frozenset(
    PREFIX + name
    for name in (
        "plan-name",
        "provider-subscription-id",
        "provider-customer-id",
        "provider-event-created",
        "provider-event-id",
        "notify",
        "notified",
        "applied-calls",
        "checkout-session",
        "whmcs-client",
        "currency",
        "period-end",
    )
)
"""Written by billing providers and the billing API (notification addresses, alerts already mailed) for
people and for their own bookkeeping; the operator reads none of them."""

APPLIED_INPUTS: Final = {"planId": PLAN_ID, "subscription": SUBSCRIPTION, "addons": ADDONS}
"""The annotations a quota is computed from, as `status.applied` names them (SPEC §11)."""

MANAGED_LABEL: Final = PREFIX + "auto-managed"
PLAN_LABEL: Final = PREFIX + "plan-id"

MAX_ADDON_QUANTITY: Final = 100
_LABEL_VALUE: Final = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


def billing_annotations(metadata: Mapping[str, Any]) -> dict[str, str]:
    """The annotations under `PREFIX` of an object's metadata: all the operator reads of them."""
    return {k: v for k, v in (metadata.get("annotations") or {}).items() if k.startswith(PREFIX)}


def applied_inputs(annotations: Mapping[str, str]) -> dict[str, str]:
    """The billing inputs of a quota exactly as written (an absent one left out: a merge patch cannot
    store a null), recorded in `status.applied` once the operator has enforced them, so that readers
    can tell a change not yet enforced (pending)."""
    return {name: annotations[key] for name, key in APPLIED_INPUTS.items() if key in annotations}


def is_label_value(value: str) -> bool:
    """Plan and add-on ids end up in label values, so they must be valid ones."""
    return bool(_LABEL_VALUE.match(value))


class Subscription(StrEnum):
    ACTIVE = "active"
    TRIALING = "trialing"
    CANCELING = "canceling"
    PAST_DUE = "past_due"
    SUSPENDED = "suspended"
    CANCELED = "canceled"


FULL_PLAN_STATES: Final = frozenset(
    {Subscription.ACTIVE, Subscription.TRIALING, Subscription.CANCELING, Subscription.PAST_DUE}
)
"""States in which the organization gets its whole plan (an absent annotation counts as active)."""


@dataclass(frozen=True)
class AddonRequest:
    addon_id: str
    quantity: int


@dataclass(frozen=True)
class ParsedAddons:
    requests: tuple[AddonRequest, ...]
    problems: tuple[str, ...]


def parse_addons(raw: str | None) -> ParsedAddons:
    """Well-formed entries of the `addons` annotation, and a problem for each entry that grants nothing.

    Whether an add-on exists is the catalog's business (see `desired`); this checks the shape,
    and that no add-on adds up to more than `MAX_ADDON_QUANTITY` over all its entries (the
    catalog's worst case assumes that bound). Ids are taken exactly as written.
    """
    if raw is None or not raw.strip():
        return ParsedAddons((), ())
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        return ParsedAddons((), (f"{ADDONS} is not valid JSON ({exc.msg}); no add-on is granted",))
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, `[[[[...` nested 100000 deep
        return ParsedAddons((), (f"{ADDONS} cannot be read ({type(exc).__name__}); no add-on is granted",))
    if not isinstance(entries, list):
        return ParsedAddons((), (f"{ADDONS} must be a JSON list of {{addonId, quantity}}; no add-on is granted",))
    requests: list[AddonRequest] = []
    problems: list[str] = []
    totals: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"{ADDONS}[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("addonId"), str) or not entry["addonId"]:
            problems.append(f"{where} has no addonId; ignored")
            continue
        addon_id, quantity = entry["addonId"], entry.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_ADDON_QUANTITY:
            problems.append(
                f"{where} ({addon_id}): quantity {quantity!r} is not a whole number from 1 to "
                f"{MAX_ADDON_QUANTITY}; ignored"
            )
            continue
        total = totals.get(addon_id, 0) + quantity
        if total > MAX_ADDON_QUANTITY:  # the bound is per add-on, not per entry: repeating one must not lift it
            problems.append(
                f"{where} ({addon_id}): quantity {quantity} takes {addon_id} to {total} in all, above "
                f"{MAX_ADDON_QUANTITY}; ignored"
            )
            continue
        totals[addon_id] = total
        requests.append(AddonRequest(addon_id, quantity))
    return ParsedAddons(tuple(requests), tuple(problems))
