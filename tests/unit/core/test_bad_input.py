"""Bad input never removes or loosens a quota: ids are taken exactly, and no quota exceeds what Kubernetes holds."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from orgquota.core.annotations import ADDONS, PLAN_ID, SUBSCRIPTION, SUSPENDED_AT
from orgquota.core.catalog import Catalog, CatalogError, parse_catalog
from orgquota.core.checks import check_annotations, unknown_keys
from orgquota.core.desired import Mode, QuotaSettings, Reason, desired_quota
from orgquota.core.lifecycle import Clock, grace_clock
from orgquota.core.limits import INT64_MAX
from orgquota.core.quantity import Quantity, QuantityError
from tests.support.catalog import CATALOG, FLOOR

THREE = QuotaSettings(projects_limit=3)
BOUNDLESS = """
plans:
  big:
    requests: {cpu: "CPU", memory: MEMORY, storage: STORAGE}
    pods: PODS
    servicesLB: 1
    limitRange: {}
suspendedPlan: {cpu: "0", memory: "0", pods: 0, servicesLB: 0}
"""
"""A catalog with no add-ons and no overhead, so a plan's own values are its quota."""


def written(hard: object) -> dict[str, str]:
    assert isinstance(hard, dict)
    return {key: str(value) for key, value in hard.items()}


@pytest.mark.parametrize("plan_id", ["", " ", "\t", "pro-pool ", " pro-pool", "pro-pool\n", "Pro-Pool", "pro_pool"])
def test_a_present_plan_id_that_is_not_exactly_a_plan_is_an_unknown_plan(catalog: Catalog, plan_id: str) -> None:
    result = desired_quota({PLAN_ID: plan_id}, catalog, THREE)
    assert (result.mode, result.reason, result.ready) == (Mode.FLOOR, Reason.PLAN_NOT_FOUND, False)
    assert written(result.hard) == FLOOR
    assert f"{PLAN_ID}: {plan_id!r} is not a plan of the catalog" in result.message  # whitespace visible


def test_only_an_absent_plan_id_means_no_plan(catalog: Catalog) -> None:
    assert desired_quota({}, catalog, THREE).mode == Mode.NONE
    assert desired_quota({SUBSCRIPTION: "active"}, catalog, THREE).mode == Mode.NONE


@pytest.mark.parametrize(
    "subscription", ["", " ", " active", "active ", "Active", "ACTIVE", " suspended", "canceled\n"]
)
@pytest.mark.parametrize("plan_id", ["pro-pool", None])
def test_a_present_subscription_that_is_not_exactly_a_state_is_unknown(
    catalog: Catalog, subscription: str, plan_id: str | None
) -> None:
    annotations = {SUBSCRIPTION: subscription} | ({PLAN_ID: plan_id} if plan_id else {})
    result = desired_quota(annotations, catalog, THREE)
    assert (result.mode, result.reason) == (Mode.FLOOR, Reason.UNKNOWN_SUBSCRIPTION)
    assert written(result.hard) == FLOOR  # even with no plan-id: a padded `suspended` keeps the floor
    assert f"{SUBSCRIPTION}: {subscription!r} is not one of active" in result.message


def test_padded_add_on_ids_grant_nothing(catalog: Catalog) -> None:
    raw = json.dumps([{"addonId": " turbo-x1", "quantity": 1}, {"addonId": "turbo-x2 ", "quantity": 1}])
    result = desired_quota({PLAN_ID: "pro-pool", ADDONS: raw}, catalog, THREE)
    assert result.hard == desired_quota({PLAN_ID: "pro-pool"}, catalog, THREE).hard
    assert result.reason == Reason.INVALID_ADDONS
    assert "add-on ' turbo-x1' is not in the catalog" in result.message


def test_repeating_an_add_on_cannot_lift_its_bound_of_100(catalog: Catalog) -> None:
    raw = json.dumps([{"addonId": "turbo-x1", "quantity": 60}] * 3)
    result = desired_quota({PLAN_ID: "pro-pool", ADDONS: raw}, catalog, THREE)
    hundred = json.dumps([{"addonId": "turbo-x1", "quantity": 60}, {"addonId": "turbo-x1", "quantity": 40}])
    assert (
        result.hard
        == desired_quota(
            {PLAN_ID: "pro-pool", ADDONS: json.dumps([{"addonId": "turbo-x1", "quantity": 60}])}, catalog, THREE
        ).hard
    )
    assert "takes turbo-x1 to 120 in all, above 100; ignored" in result.message
    assert str(desired_quota({PLAN_ID: "pro-pool", ADDONS: hundred}, catalog, THREE).hard["requests.cpu"]) == "208300m"


@pytest.mark.parametrize("raw", ["[" * 100_000, '[{"addonId": "turbo-x1", "quantity": ' + "9" * 5000 + "}]", "", "  "])
def test_an_unreadable_addons_value_grants_nothing_and_crashes_nothing(catalog: Catalog, raw: str) -> None:
    result = desired_quota({PLAN_ID: "pro-pool", ADDONS: raw}, catalog, THREE)
    assert result.hard == desired_quota({PLAN_ID: "pro-pool"}, catalog, THREE).hard
    if raw.strip():
        assert "billing.kube-dc.com/addons cannot be read" in result.message
        assert check_annotations({ADDONS: raw}, {}, catalog) == [
            f"{ADDONS} cannot be read ({'RecursionError' if raw[1] == '[' else 'ValueError'})"
        ]


def test_admission_says_what_the_operator_says(catalog: Catalog) -> None:
    for given in ({PLAN_ID: " "}, {PLAN_ID: "pro-pool "}, {PLAN_ID: ""}, {SUBSCRIPTION: " active"}):
        problems = check_annotations(given, {}, catalog)
        message = desired_quota(given, catalog, THREE).message
        assert len(problems) == 1
        assert message.startswith(problems[0]), (problems, message)


def test_an_unknown_subscription_keeps_the_grace_clock(catalog: Catalog) -> None:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    started = {SUSPENDED_AT: "2026-11-28T00:00:00Z"}
    day, hour = timedelta(days=7), timedelta(hours=1)
    assert grace_clock(started | {SUBSCRIPTION: " suspended"}, now, day, hour).action == Clock.NOTHING
    assert grace_clock(started | {SUBSCRIPTION: "active"}, now, day, hour).action == Clock.CLEAR


def boundless(cpu: str = "1", memory: str = "1Gi", storage: str = "1Gi", pods: str = "1") -> str:
    return BOUNDLESS.replace("CPU", cpu).replace("MEMORY", memory).replace("STORAGE", storage).replace("PODS", pods)


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogError) as error:
        parse_catalog(text)
    return error.value.problems


def test_the_64_bit_limits_are_accepted_exactly() -> None:
    catalog = parse_catalog(boundless(f"{INT64_MAX}m", str(INT64_MAX), str(INT64_MAX), str(INT64_MAX // 1000)))
    hard = written(desired_quota({PLAN_ID: "big"}, catalog, QuotaSettings(projects_limit=50)).hard)
    assert hard["requests.cpu"] == hard["limits.cpu"] == f"{INT64_MAX}m"
    assert hard["requests.memory"] == hard["requests.storage"] == str(INT64_MAX)
    assert hard["pods"] == "9223372036854775"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (boundless(cpu="1e1000"), "plans.big.requests.cpu: '1e1000' is above 9223372036854775807m (64-bit millicores)"),
        (boundless(cpu=f"{INT64_MAX + 1}m"), "plans.big.requests.cpu: '9223372036854775808m' is above"),
        (boundless(memory="8Ei"), "plans.big.requests.memory: '8Ei' is above 9223372036854775807 (64-bit bytes)"),
        (boundless(storage="1e19"), "plans.big.requests.storage: '1e19' is above 9223372036854775807"),
        (
            boundless(pods="99999999999999999999999999"),
            "plans.big.pods: 99999999999999999999999999 is above 9223372036854775",
        ),
        (boundless(pods="9223372036854776"), "plans.big.pods: 9223372036854776 is above 9223372036854775"),
        (boundless(cpu="1e999999999"), "plans.big.requests.cpu: '1e999999999' is out of range"),
        (boundless(cpu="1e-999999999"), "plans.big.requests.cpu: '1e-999999999' is out of range"),
        (boundless(pods="9" * 5000), "is too long a number (5000 digits)"),
        (
            boundless().replace("limitRange: {}", "limitRange: {maxCPU: 1e30}"),
            "plans.big.limitRange.maxCPU: '1e30' is above",
        ),
        (
            boundless().replace("limitRange: {}", "limitRange: {}\n    burstRatio: .INF"),
            "'.INF' is not a finite decimal",
        ),
        (
            boundless().replace("limitRange: {}", "limitRange: {}\n    burstRatio: .NaN"),
            "'.NaN' is not a finite decimal",
        ),
        (
            boundless().replace("limitRange: {}", "limitRange: {}\n    burstRatio: 1.0e999999999"),
            "plans.big.burstRatio: 1.0E+999999999 is out of range",
        ),
        (
            boundless().replace("servicesLB: 1", "servicesLB: 1\n    ipv4: 99999999999999999999"),
            "plans.big.ipv4: 99999999999999999999 is above",
        ),
    ],
)
def test_a_value_kubernetes_cannot_hold_makes_the_catalog_invalid(text: str, problem: str) -> None:
    started = time.monotonic()
    problems = problems_of(text)
    assert any(problem in p for p in problems), problems
    assert time.monotonic() - started < 1  # refused before any absurd number is expanded


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "burstRatio: 1.5",
            "burstRatio: 1e15",
            "plans.burst-pool.requests.cpu: with 100 x each enabled add-on (turbo-x1, turbo-x2) and the overhead "
            "of 10000 projects, limits.cpu (burstRatio 1E+15) would be",
        ),
        (
            'turbo-x1: {cpu: "2"',
            'turbo-x1: {cpu: "1e14"',
            "plans.dev-pool.requests.cpu: with 100 x each enabled add-on",
        ),
        (
            "memPerProject: 128",
            "memPerProject: 900000000000",
            "plans.pro-pool.requests.memory: with 100 x each enabled add-on",
        ),
        ("cpuPerProject: 100", "cpuPerProject: 922337203685478", "above 9223372036854775807m (64-bit millicores)"),
    ],
)
def test_the_worst_case_after_add_ons_overhead_and_burst_must_fit(old: str, new: str, problem: str) -> None:
    assert old in CATALOG
    problems = problems_of(CATALOG.replace(old, new, 1))
    assert any(problem in p for p in problems), problems


def test_a_disabled_add_on_is_not_in_the_worst_case() -> None:
    parse_catalog(CATALOG.replace('retired: {cpu: "100"', 'retired: {cpu: "1e14"'))


def test_the_worst_case_just_fits() -> None:
    """pro-pool cpu + 100 x (2 + 4) + 10000 x 100m is exactly the 64-bit maximum: accepted."""
    pro_cpu = Quantity(Quantity.parse(f"{INT64_MAX}m").value - 600 - 1000)
    text = CATALOG.replace('requests: {cpu: "8", memory: 24Gi', f'requests: {{cpu: "{pro_cpu}", memory: 24Gi', 1)
    catalog = parse_catalog(text)
    addons = json.dumps([{"addonId": "turbo-x1", "quantity": 100}, {"addonId": "turbo-x2", "quantity": 100}])
    worst = desired_quota({PLAN_ID: "pro-pool", ADDONS: addons}, catalog, QuotaSettings(projects_limit=10_000))
    assert str(worst.hard["limits.cpu"]) == f"{INT64_MAX}m"
    problems = problems_of(text.replace("cpuPerProject: 100", "cpuPerProject: 101"))
    assert problems[0].startswith("plans.pro-pool.requests.cpu: with 100 x each enabled add-on"), problems


def test_the_floor_must_not_exceed_a_plan() -> None:
    problems = problems_of(CATALOG.replace("suspendedPlan: {cpu: 500m", "suspendedPlan: {cpu: 5"))
    assert problems == [
        "suspendedPlan.cpu: 5 is more than plan dev-pool gives (requests.cpu 4); the floor must be the least quota, "
        "or a mistyped plan id would get more than its plan"
    ]


def test_the_computation_itself_falls_to_the_floor_when_a_quota_would_overflow(catalog: Catalog) -> None:
    """Unreachable through the catalog and the settings; the guard stays in case a bound is lifted."""
    result = desired_quota({PLAN_ID: "pro-pool"}, catalog, QuotaSettings(projects_limit=10**20))
    assert (result.mode, result.reason, result.ready) == (Mode.FLOOR, Reason.OUT_OF_RANGE, False)
    assert written(result.hard) == FLOOR
    assert "requests.cpu would be 10000000000000000008, above 9223372036854775807m" in result.message


def test_a_yaml_alias_bomb_gets_a_short_message_at_once() -> None:
    """1.6 KB of YAML aliases is ten million strings: the message about it must not spell them out."""
    bomb = "x0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    for level in range(1, 8):
        bomb += f"x{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]\n"
    text = "lols:\n" + "".join(f"  {line}\n" for line in bomb.splitlines())
    text += CATALOG.replace("displayName: Dev Pool", "displayName: Dev Pool\n    features: *l7")
    started = time.monotonic()
    problems = problems_of(text)
    assert time.monotonic() - started < 2
    assert "lols: unknown field" in problems
    assert sum(len(p) for p in problems) < 10_000


@pytest.mark.parametrize("raw", ["1e999999999", "1e" + "9" * 5000, "9" * 5000, "1e-999999999", "8E99999999"])
def test_absurd_exponents_are_refused_at_once(raw: str) -> None:
    started = time.monotonic()
    with pytest.raises(QuantityError, match="out of range"):
        Quantity.parse(raw)
    assert time.monotonic() - started < 0.5


def test_a_mistyped_annotation_key_is_warned_about_at_admission() -> None:
    warnings = unknown_keys({"billing.kube-dc.com/plan_id": "pro-pool", "billing.kube-dc.com/plan-name": "Pro"}, {})
    assert warnings == [
        "billing.kube-dc.com/plan_id is not a billing annotation, nothing reads it (known: addons, applied-calls, "
        "budget, checkout-session, currency, notified, notify, period-end, plan-id, plan-name, project-caps, "
        "provider-customer-id, provider-event-created, provider-event-id, provider-subscription-id, subscription, "
        "suspended-at, trial-ends-at, whmcs-client)"
    ]
    assert unknown_keys({"billing.kube-dc.com/plan_id": "x"}, {"billing.kube-dc.com/plan_id": "y"}) == []
