"""WHMCS calls: the body's contract, and the billing fact each action stands for."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgquota.api.providers.whmcs.calls import (
    REQUIRED,
    Call,
    CallRejected,
    Checked,
    check,
    fact_of,
    parse_call,
    refusal,
)
from orgquota.core import annotations as ann
from orgquota.core.annotations import AddonRequest
from orgquota.core.billing_facts import Ended, PlanChanged, Renewed, Subscribed, Terminated
from orgquota.core.catalog import Catalog, parse_catalog
from tests.support.api_cluster import CATALOG_TEXT
from tests.support.whmcs_client import call_body

OPTIONS = '{"Turbo x1": turbo-x1, "Turbo x2": turbo-x2, "Extra x1": turbo-x1, "Old turbo": retired}'
CATALOG = parse_catalog(CATALOG_TEXT + f"\nwhmcs:\n  configurableOptions: {OPTIONS}\n")
CURRENT = {ann.ADDONS: '[{"addonId":"turbo-x2","quantity":3}]', ann.PROVIDER_SUBSCRIPTION_ID: "whmcs-svc-42"}


def parsed(**overrides: Any) -> Call:
    body = {**call_body("activate", "acme"), **overrides}
    return parse_call(json.dumps({k: v for k, v in body.items() if v is not None}).encode())


def rejected(body: bytes | dict[str, Any], catalog: Catalog = CATALOG) -> CallRejected:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(CallRejected) as caught:
        check(parse_call(raw), catalog)
    return caught.value


def test_ids_are_written_with_the_providers_prefix() -> None:
    call = parsed(serviceId="0042", clientId=7)
    assert (call.subscription_id, call.customer_id) == ("whmcs-svc-42", "whmcs-client-7")


@pytest.mark.parametrize(
    ("action", "fact"),
    [
        (
            "activate",
            Subscribed("pro-pool", "Pro Pool", "whmcs-svc-42", "whmcs-client-7", (AddonRequest("turbo-x1", 3),)),
        ),
        (
            "unsuspend",
            Subscribed("pro-pool", "Pro Pool", "whmcs-svc-42", "whmcs-client-7", (AddonRequest("turbo-x1", 3),)),
        ),
        ("suspend", Ended()),
        ("terminate", Terminated()),
        ("change", PlanChanged("pro-pool", "Pro Pool", (AddonRequest("turbo-x1", 3),))),
        ("renew", Renewed()),
    ],
)
def test_each_action_is_one_billing_fact(action: str, fact: object) -> None:
    options = {"Turbo x1": "1", "Extra x1": 2, "Turbo x2": 0, "Datacenter": "Frankfurt"}
    checked = check(parsed(action=action, configurableOptions=options), CATALOG)
    assert fact_of(checked, CURRENT) == fact
    assert checked.ignored_options == ["Datacenter"]


def test_without_configurable_options_the_addons_are_kept() -> None:
    checked = check(parsed(action="unsuspend"), CATALOG)
    fact = fact_of(checked, CURRENT)
    assert isinstance(fact, Subscribed)
    assert fact.addons == (AddonRequest("turbo-x2", 3),)
    assert fact_of(check(parsed(action="change", planId="dev-pool"), CATALOG), CURRENT) == PlanChanged(
        "dev-pool", "Dev Pool", None
    )


@pytest.mark.parametrize("empty", [{}, []])
def test_no_options_at_all_means_no_addons(empty: object) -> None:
    fact = fact_of(check(parsed(configurableOptions=empty), CATALOG), CURRENT)
    assert isinstance(fact, Subscribed)
    assert fact.addons == ()


def test_yes_no_options_count_as_one_or_none() -> None:
    fact = fact_of(check(parsed(configurableOptions={"Turbo x1": True, "Turbo x2": False}), CATALOG), {})
    assert isinstance(fact, Subscribed)
    assert fact.addons == (AddonRequest("turbo-x1", 1),)


@pytest.mark.parametrize(
    ("body", "message", "details"),
    [
        (b"not json", "the request body is not valid JSON", {}),
        (b"[1]", "the request body must be a JSON object", {}),
        (
            {"action": "activate", "organization": "acme"},
            "missing fields: planId, serviceId, clientId",
            {"missing": ["planId", "serviceId", "clientId"]},
        ),
        ({**call_body("activate", "acme"), "action": ""}, "missing fields: action", {"missing": ["action"]}),
        (
            call_body("upgrade", "acme"),
            "unknown action 'upgrade' (known: activate, unsuspend, suspend, terminate, change, renew)",
            {"action": "upgrade"},
        ),
        ({**call_body("activate", "acme"), "action": ["activate"]}, "unknown action ['activate']", {}),
        (
            call_body("activate", "acme", options={"Turbo x1": "9" * 5000}),
            "configurableOptions.Turbo x1: '99999",
            {},
        ),
        (call_body("activate", "Acme Corp"), "organization: 'Acme Corp' is not an Organization name", {}),
        (call_body("activate", "acme", plan_id=5), "planId: must be a string (got 5)", {}),  # type: ignore[arg-type]
        (call_body("activate", "acme", service_id=-1), "serviceId: must be a positive whole number (got -1)", {}),
        (call_body("activate", "acme", client_id="7a"), "clientId: must be a positive whole number (got '7a')", {}),  # type: ignore[arg-type]
        (
            call_body("activate", "acme", plan_id="gold"),
            "planId: 'gold' is not a plan of the catalog (plans: dev-pool, internal, pro-pool)",
            {"planId": "gold"},
        ),
        (call_body("change", "acme", plan_id="gold"), "planId: 'gold' is not a plan of the catalog", {}),
        (
            call_body("activate", "acme", options=["Turbo x1"]),  # type: ignore[arg-type]
            "configurableOptions: must be an object",
            {},
        ),
        (
            call_body("activate", "acme", options={"Turbo x1": "lots"}),
            "configurableOptions.Turbo x1: 'lots' is not a quantity from 0 to 100",
            {},
        ),
        (
            call_body("activate", "acme", options={"Turbo x1": 60, "Extra x1": 41}),
            "configurableOptions: 101 x turbo-x1 in all, more than 100",
            {},
        ),
        (
            call_body("activate", "acme", options={"Old turbo": 1}),
            "configurableOptions.Old turbo: add-on 'retired' is disabled in the catalog",
            {"addonId": "retired"},
        ),
    ],
)
def test_bad_calls_are_refused_naming_the_problem(
    body: bytes | dict[str, Any], message: str, details: dict[str, Any]
) -> None:
    problem = rejected(body)
    assert problem.status == 400
    assert problem.message.startswith(message), problem.message
    assert details.items() <= problem.details.items()


@pytest.mark.parametrize("action", ["suspend", "terminate", "renew"])
def test_ending_a_service_whose_plan_left_the_catalog_is_allowed(action: str) -> None:
    checked = check(parsed(action=action, planId="retired-plan"), CATALOG)
    assert checked.plan_name == "retired-plan"


BOUND = {**CURRENT, ann.WHMCS_CLIENT: "whmcs-client-7"}


def test_an_organization_belongs_to_its_client_and_its_one_service() -> None:
    for action in ("activate", "unsuspend", "suspend", "terminate", "change", "renew"):
        assert refusal(parsed(action=action), BOUND) is None
        assert refusal(parsed(action=action, serviceId=43), BOUND) == (
            "organization 'acme' holds WHMCS service whmcs-svc-42, not whmcs-svc-43"
        )
        assert refusal(parsed(action=action, clientId=8), BOUND) == (
            "organization 'acme' is bound to WHMCS client whmcs-client-7, not whmcs-client-8"
        )
    terminated = {ann.WHMCS_CLIENT: "whmcs-client-7"}  # the client stays bound once its service is gone
    assert refusal(parsed(action="activate", serviceId=43), terminated) is None
    assert refusal(parsed(action="activate", clientId=8), terminated) is not None


def test_only_activate_binds_a_client() -> None:
    assert refusal(parsed(action="activate", clientId=8), {}) is None
    assert refusal(parsed(action="suspend"), {}) == (
        "organization 'acme' is bound to no WHMCS client yet: only activate binds one"
    )
    bound_before = {ann.PROVIDER_CUSTOMER_ID: "whmcs-client-7"}  # bound before whmcs-client was written
    assert refusal(parsed(action="suspend"), bound_before) is None
    assert refusal(parsed(action="suspend", clientId=8), bound_before) is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from([*REQUIRED, "configurableOptions"])


@given(st.dictionaries(fields, json_values) | json_values, st.booleans())
def test_any_body_is_a_call_or_a_named_refusal(body: Any, complete: bool) -> None:
    if complete and isinstance(body, dict):
        body = {**call_body("activate", "acme"), **body}
    outcome: Checked | CallRejected
    try:
        outcome = check(parse_call(json.dumps(body).encode()), CATALOG)
    except CallRejected as exc:
        outcome = exc
    if isinstance(outcome, CallRejected):
        assert (outcome.status, bool(outcome.message)) == (400, True)
    else:
        assert outcome.call.organization
