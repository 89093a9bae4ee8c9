"""A WHMCS module call (`{action, organization, planId, serviceId, clientId, configurableOptions?}`)
and the billing fact it stands for.

WHMCS calls the module on a service's life events; each action is one fact of the shared state
machine (`orgquota.core.billing_facts`). The service and client ids are WHMCS's; they are
written as `whmcs-svc-<serviceId>` / `whmcs-client-<clientId>` so they never collide with
another provider's. Configurable options become add-ons through the catalog's
`whmcs.configurableOptions` (option name -> add-on id, the option's value is the quantity).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from orgquota.api.envelope import ApiError
from orgquota.core import annotations as ann
from orgquota.core.annotations import MAX_ADDON_QUANTITY, AddonRequest, parse_addons
from orgquota.core.billing_facts import BillingFact, Ended, PlanChanged, Renewed, Subscribed, Terminated
from orgquota.core.catalog import Catalog
from orgquota.core.topology import is_dns_label

SERVICE_PREFIX: Final = "whmcs-svc-"
CLIENT_PREFIX: Final = "whmcs-client-"
REQUIRED: Final = ("action", "organization", "planId", "serviceId", "clientId")
_ID: Final = re.compile(r"^[0-9]{1,19}$")


class Action(StrEnum):
    ACTIVATE = "activate"
    UNSUSPEND = "unsuspend"
    SUSPEND = "suspend"
    TERMINATE = "terminate"
    CHANGE = "change"
    RENEW = "renew"


WRITES_PLAN: Final = frozenset({Action.ACTIVATE, Action.UNSUSPEND, Action.CHANGE})
"""actions whose planId becomes the organization's plan (so it must be a catalog plan)"""


class CallRejected(ApiError):
    """A call that cannot be applied: answered 400, naming the problem."""

    def __init__(self, message: str, details: dict[str, Any]) -> None:
        super().__init__(400, message, details)


@dataclass(frozen=True)
class Call:
    action: Action
    organization: str
    plan_id: str
    service_id: str
    client_id: str
    options: Mapping[str, Any] | None
    """configurableOptions as sent; None when the module sent none"""

    @property
    def subscription_id(self) -> str:
        return SERVICE_PREFIX + self.service_id

    @property
    def customer_id(self) -> str:
        return CLIENT_PREFIX + self.client_id


def _shown(value: Any, limit: int = 40) -> str:
    """A sent value for a message, cut short (a body may carry anything)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _id(field: str, value: Any) -> str:
    """A WHMCS id (a positive whole number, sent as a number or a string of digits)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _ID.match(text) or int(text) == 0:
        raise CallRejected(f"{field}: must be a positive whole number (got {_shown(value)})", {"field": field})
    return str(int(text))


def parse_call(body: bytes) -> Call:
    """The call in a request body (already known to be signed); CallRejected naming what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CallRejected(f"the request body is not valid JSON: {exc}", {}) from exc
    if not isinstance(data, dict):
        raise CallRejected("the request body must be a JSON object", {})
    missing = [field for field in REQUIRED if data.get(field) in (None, "")]
    if missing:
        raise CallRejected(f"missing fields: {', '.join(missing)}", {"missing": missing})
    action = data["action"]
    if not isinstance(action, str) or action not in set(Action):
        known = [a.value for a in Action]
        raise CallRejected(
            f"unknown action {_shown(action)} (known: {', '.join(known)})", {"action": action, "known": known}
        )
    for field in ("organization", "planId"):
        if not isinstance(data[field], str):
            raise CallRejected(f"{field}: must be a string (got {_shown(data[field])})", {"field": field})
    if not is_dns_label(data["organization"]):
        raise CallRejected(
            f"organization: {_shown(data['organization'])} is not an Organization name (a DNS label)",
            {"field": "organization"},
        )
    options = data.get("configurableOptions")
    if options == []:  # PHP's json_encode writes an empty array for no options
        options = {}
    if options is not None and not isinstance(options, dict):
        raise CallRejected(
            "configurableOptions: must be an object of option name -> value", {"field": "configurableOptions"}
        )
    return Call(
        Action(action),
        data["organization"],
        data["planId"],
        _id("serviceId", data["serviceId"]),
        _id("clientId", data["clientId"]),
        options,
    )


def _quantity(name: str, value: Any) -> int:
    """An option's value as a quantity: a whole number (also as a string), or a yes/no option's true/false."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 3:
        value = int(value.strip())
    if not isinstance(value, int) or not 0 <= value <= MAX_ADDON_QUANTITY:
        raise CallRejected(
            f"configurableOptions.{name}: {_shown(value)} is not a quantity from 0 to {MAX_ADDON_QUANTITY}",
            {"field": f"configurableOptions.{name}"},
        )
    return value


def addons_of(options: Mapping[str, Any], catalog: Catalog) -> tuple[tuple[AddonRequest, ...], list[str]]:
    """The add-ons the options stand for, and the options no add-on is mapped to (not ours: ignored)."""
    mapping = catalog.whmcs.configurableOptions
    totals: dict[str, int] = {}
    ignored: list[str] = []
    for name, value in options.items():
        addon_id = mapping.get(name)
        if addon_id is None:
            ignored.append(name)
            continue
        quantity = _quantity(name, value)
        if quantity and catalog.addons[addon_id].disabled:
            raise CallRejected(
                f"configurableOptions.{name}: add-on {addon_id!r} is disabled in the catalog",
                {"field": f"configurableOptions.{name}", "addonId": addon_id},
            )
        if quantity:
            totals[addon_id] = totals.get(addon_id, 0) + quantity
    for addon_id, total in totals.items():
        if total > MAX_ADDON_QUANTITY:
            raise CallRejected(
                f"configurableOptions: {total} x {addon_id} in all, more than {MAX_ADDON_QUANTITY}",
                {"field": "configurableOptions", "addonId": addon_id},
            )
    return tuple(AddonRequest(addon_id, total) for addon_id, total in sorted(totals.items())), sorted(ignored)


def check_plan(call: Call, catalog: Catalog) -> str:
    """The plan's display name; CallRejected when an action that assigns the plan names no catalog plan."""
    plan = catalog.plans.get(call.plan_id)
    if plan is None:
        if call.action in WRITES_PLAN:
            raise CallRejected(
                f"planId: {_shown(call.plan_id)} is not a plan of the catalog"
                f" (plans: {', '.join(sorted(catalog.plans))})",
                {"field": "planId", "planId": call.plan_id},
            )
        return call.plan_id
    return plan.displayName or call.plan_id


def bound_client(current: Mapping[str, str]) -> str | None:
    """The WHMCS client the organization is bound to: its `whmcs-client`, else (bound before that
    annotation existed) the WHMCS customer id it records."""
    customer = current.get(ann.PROVIDER_CUSTOMER_ID) or ""
    return current.get(ann.WHMCS_CLIENT) or (customer if customer.startswith(CLIENT_PREFIX) else None)


def refusal(call: Call, current: Mapping[str, str]) -> str | None:
    """Why the call must not touch the organization (None: it may).

    The call's `organization` is whatever the module was given, so it proves nothing: an
    organization belongs to the WHMCS client that first activated it (or that an admin set), and
    to the one service it holds; only `activate` binds a client, and only an organization holding
    no service (none yet, or terminated) takes another service.
    """
    bound = bound_client(current)
    if bound is None:
        if call.action == Action.ACTIVATE:
            return None
        return f"organization {call.organization!r} is bound to no WHMCS client yet: only activate binds one"
    if bound != call.customer_id:
        return f"organization {call.organization!r} is bound to WHMCS client {bound}, not {call.customer_id}"
    own = current.get(ann.PROVIDER_SUBSCRIPTION_ID)
    if own is not None and own != call.subscription_id:
        return f"organization {call.organization!r} holds WHMCS service {own}, not {call.subscription_id}"
    return None


@dataclass(frozen=True)
class Checked:
    """A call checked against the catalog: what it would write, before the organization is read."""

    call: Call
    plan_name: str
    addons: tuple[AddonRequest, ...] | None
    """None: the module sent no configurableOptions (the organization's add-ons are kept)"""
    ignored_options: list[str]


def check(call: Call, catalog: Catalog) -> Checked:
    """CallRejected for a plan or an option the catalog cannot take."""
    plan_name = check_plan(call, catalog)
    if call.options is None:
        return Checked(call, plan_name, None, [])
    addons, ignored = addons_of(call.options, catalog)
    return Checked(call, plan_name, addons, ignored)


def fact_of(checked: Checked, current: Mapping[str, str]) -> BillingFact:
    """The billing fact of the call, given the organization's billing annotations."""
    call = checked.call
    match call.action:
        case Action.ACTIVATE | Action.UNSUSPEND:
            addons = checked.addons
            if addons is None:
                addons = parse_addons(current.get(ann.ADDONS)).requests
            return Subscribed(call.plan_id, checked.plan_name, call.subscription_id, call.customer_id, addons)
        case Action.SUSPEND:
            return Ended()
        case Action.TERMINATE:
            return Terminated()
        case Action.CHANGE:
            return PlanChanged(call.plan_id, checked.plan_name, checked.addons)
        case Action.RENEW:
            return Renewed()
