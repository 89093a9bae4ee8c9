"""Plan advice: upgrade, add-ons, downgrade or nothing, from the forecasts and the example catalog's prices."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from orgquota.core.advice import (
    LASTING,
    RESOURCES,
    SOON,
    Kind,
    Suggestion,
    advise,
    cost_currency,
    covers,
    lasts,
    monthly_cost,
    quota_of,
)
from orgquota.core.annotations import ADDONS, PLAN_ID, AddonRequest
from orgquota.core.catalog import Catalog, parse_catalog
from orgquota.core.desired import QuotaSettings, desired_quota
from orgquota.core.forecast import ResourceForecast, Sample, forecast
from orgquota.core.quantity import Quantity
from tests.support.catalog import WORKED_EXAMPLE
from tests.support.files import CATALOG_FILE

NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)
TODAY = datetime(2027, 3, 10, tzinfo=UTC)
SETTINGS = QuotaSettings(projects_limit=3)
GI = 1024**3


def example(edit: Any = None) -> Catalog:
    """The example catalog (dev-pool 49, pro-pool 199, scale-pool 599 USD, enterprise unpriced and not
    self-service; turbo-x1 +2 cores for 29, turbo-x2 +4 cores for 55), after `edit(plans_yaml_dict)`."""
    plans = yaml.safe_load(yaml.safe_load(CATALOG_FILE.read_text())["data"]["plans.yaml"])
    if edit is not None:
        edit(plans)
    return parse_catalog(yaml.safe_dump(plans))


EXAMPLE = example()


def growing(used: Fraction | int, per_day: Fraction | int, limit: Fraction | None, days: int = 30) -> ResourceForecast:
    """A forecast of usage that grew by `per_day` to `used` now, sampled at 23:00 of each of the last `days` days."""
    samples: list[Sample] = []
    for before in range(1, days + 1):
        moment = TODAY - timedelta(days=before) + timedelta(hours=23)
        samples.append((moment.timestamp(), used + per_day * Fraction(int((moment - NOW).total_seconds()), 86400)))
    return forecast(samples, used=used, limit=limit, now=NOW)


def forecasts_on(
    plan_id: str, addons: Mapping[str, int], usage: Mapping[str, tuple[Fraction | int, Fraction | int]]
) -> dict[str, ResourceForecast]:
    """Forecasts of every resource against the quota the organization holds: `usage` gives (used, per day);
    a resource not named is flat at 0."""
    limits = quota_of(EXAMPLE, plan_id, addons, SETTINGS)
    assert limits is not None
    return {name: growing(*usage.get(name, (0, 0)), limit=limits[name]) for name in RESOURCES}


def test_quota_of_is_what_the_operator_enforces() -> None:
    """pro-pool + 1 x turbo-x1, overhead 100m/128Mi, projects limit 3: the worked example, and pro-pool's 1 EIp."""
    limits = quota_of(EXAMPLE, "pro-pool", {"turbo-x1": 1}, SETTINGS)
    desired = desired_quota(
        {PLAN_ID: "pro-pool", ADDONS: '[{"addonId": "turbo-x1", "quantity": 1}]'}, EXAMPLE, SETTINGS
    )
    assert limits == {
        "cpu": Quantity.parse(WORKED_EXAMPLE["requests.cpu"]).value,
        "memory": Quantity.parse(WORKED_EXAMPLE["requests.memory"]).value,
        "storage": Quantity.parse("180Gi").value,
        "pods": 200,
        "services_loadbalancers": 100,
        "public_ipv4": 1,
    }
    assert limits["cpu"] == desired.hard["requests.cpu"].value
    assert quota_of(EXAMPLE, "pro-pool", {"retired": 1}, SETTINGS) is None  # an add-on that grants nothing
    assert quota_of(EXAMPLE, "no-such-plan", {}, SETTINGS) is None
    assert quota_of(EXAMPLE, "enterprise", {}, SETTINGS) is not None  # assignable, only not sold
    assert quota_of(EXAMPLE, "enterprise", {}, SETTINGS)["public_ipv4"] is None  # type: ignore[index]


def test_monthly_cost_is_exact_decimal() -> None:
    priced = example(lambda p: p["plans"]["pro-pool"].update(price="199.99"))
    assert monthly_cost(priced, "pro-pool", {"turbo-x1": 3, "turbo-x2": 1}) == Decimal("341.99")
    assert monthly_cost(EXAMPLE, "enterprise", {}) is None


def test_a_resource_running_out_asks_for_the_cheapest_plan_that_lasts() -> None:
    """Pods run out in 5 days on pro-pool; add-ons add no pods; scale-pool holds 1,000, enough past 90 days."""
    result = advise(forecasts_on("pro-pool", {}, {"pods": (190, 2)}), "pro-pool", [], EXAMPLE, SETTINGS)
    assert result.kind == Kind.UPGRADE
    assert result.plan_id == "scale-pool"
    assert result.addons == ()
    assert result.monthly_cost_delta == Decimal(400)
    assert result.reason == "The pod quota runs out around 15 March 2027; Scale Pool lasts beyond 8 June 2027."


def test_an_upgrade_keeps_the_current_addons_and_their_cost() -> None:
    held = {"turbo-x1": 1}
    result = advise(
        forecasts_on("pro-pool", held, {"pods": (190, 2)}), "pro-pool", [("turbo-x1", 1)], EXAMPLE, SETTINGS
    )
    assert (result.kind, result.plan_id) == (Kind.UPGRADE, "scale-pool")
    assert result.addons == (AddonRequest("turbo-x1", 1),)
    assert result.monthly_cost_delta == Decimal(400)


def test_addons_cheaper_than_an_upgrade_win() -> None:
    """CPU: 8 of 8.3 cores, +0.1 a day: 17 cores in 90 days, so 10 more cores: 2 x turbo-x2 + 1 x turbo-x1 (139 USD)
    is the cheapest way (5 x turbo-x1 is 145, 3 x turbo-x2 165), and cheaper than scale-pool (+400)."""
    result = advise(forecasts_on("pro-pool", {}, {"cpu": (8, Fraction(1, 10))}), "pro-pool", [], EXAMPLE, SETTINGS)
    assert result.kind == Kind.ADDON
    assert result.plan_id == "pro-pool"
    assert result.addons == (AddonRequest("turbo-x1", 1), AddonRequest("turbo-x2", 2))
    assert result.monthly_cost_delta == Decimal(139)
    assert result.reason == (
        "The CPU quota runs out around 13 March 2027; adding 1 x Turbo x1, 2 x Turbo x2 to Pro Pool lasts beyond "
        "8 June 2027, for less than Scale Pool."
    )


def priced_in(currency: str, amounts: Mapping[str, Decimal | int]) -> Callable[[dict[str, Any]], None]:
    """A catalog edit (for `example`) that also prices each plan or add-on named in `amounts` in `currency`."""

    def edit(plans: dict[str, Any]) -> None:
        for item, amount in amounts.items():
            plans["plans" if item in plans["plans"] else "addons"][item]["prices"] = {currency: str(amount)}

    return edit


YEN: Final = {"dev-pool": 8000, "pro-pool": 30000, "scale-pool": 40000, "turbo-x1": 5000, "turbo-x2": 9000}
in_yen = priced_in("JPY", YEN)
"""yen prices whose order differs from the dollar ones: scale-pool only 10,000 above pro-pool"""


def test_advice_compares_in_the_currency_the_organization_pays_in() -> None:
    """The same forecast: in USD add-ons (+139) beat scale-pool (+400); in JPY scale-pool (+10,000) beats
    the same add-ons (+23,000), and the money is in yen."""
    catalog = example(in_yen)
    forecasts = forecasts_on("pro-pool", {}, {"cpu": (8, Fraction(1, 10))})
    dollars = advise(forecasts, "pro-pool", [], catalog, SETTINGS)
    assert (dollars.kind, dollars.monthly_cost_delta) == (Kind.ADDON, Decimal(139))
    yen = advise(forecasts, "pro-pool", [], catalog, SETTINGS, "JPY")
    assert (yen.kind, yen.plan_id, yen.monthly_cost_delta) == (Kind.UPGRADE, "scale-pool", Decimal(10000))
    assert monthly_cost(catalog, "pro-pool", {"turbo-x1": 1}, "JPY") == Decimal(35000)
    assert cost_currency(catalog, "pro-pool", "JPY") == "JPY"
    assert cost_currency(catalog, "pro-pool", "EUR") == "USD"  # not sold in it: the plan's own


def test_a_downgrade_says_what_it_saves_in_the_organizations_currency() -> None:
    usage = {"cpu": (3, 0), "memory": (4 * GI, 0), "storage": (30 * GI, 0), "pods": (50, 0)}
    result = advise(forecasts_on("pro-pool", {}, usage), "pro-pool", [], example(in_yen), SETTINGS, "JPY")
    assert (result.kind, result.plan_id, result.monthly_cost_delta) == (Kind.DOWNGRADE, "dev-pool", Decimal(-22000))
    assert result.reason.endswith("it costs 22000 JPY a month less.")


def test_an_upgrade_cheaper_than_addons_wins() -> None:
    cheap_scale = example(lambda p: p["plans"]["scale-pool"].update(price=300))  # +101 < 139 of add-ons
    limits = quota_of(cheap_scale, "pro-pool", {}, SETTINGS)
    assert limits is not None
    forecasts = {name: growing(0, 0, limits[name]) for name in RESOURCES} | {
        "cpu": growing(8, Fraction(1, 10), limits["cpu"])
    }
    result = advise(forecasts, "pro-pool", [], cheap_scale, SETTINGS)
    assert (result.kind, result.plan_id, result.monthly_cost_delta) == (Kind.UPGRADE, "scale-pool", Decimal(101))


def test_a_full_quota_is_full_now() -> None:
    result = advise(
        forecasts_on("pro-pool", {}, {"services_loadbalancers": (100, 0)}), "pro-pool", [], EXAMPLE, SETTINGS
    )
    assert (result.kind, result.plan_id) == (Kind.UPGRADE, "scale-pool")
    assert result.reason.startswith("The load balancer quota is full;")


def test_an_upgrade_beats_a_downgrade() -> None:
    """Everything but load balancers would fit dev-pool; load balancers run out, so the advice is to grow."""
    usage = {"cpu": (1, 0), "memory": (GI, 0), "services_loadbalancers": (99, 1)}
    result = advise(forecasts_on("pro-pool", {}, usage), "pro-pool", [], EXAMPLE, SETTINGS)
    assert (result.kind, result.plan_id) == (Kind.UPGRADE, "scale-pool")


def test_nothing_self_service_lasts_gives_none() -> None:
    def nothing_bigger_for_sale(plans: dict[str, Any]) -> None:
        plans["plans"]["scale-pool"]["selfService"] = False

    catalog = example(nothing_bigger_for_sale)
    limits = quota_of(catalog, "pro-pool", {}, SETTINGS)
    assert limits is not None
    forecasts = {name: growing(0, 0, limits[name]) for name in RESOURCES} | {"pods": growing(190, 2, limits["pods"])}
    result = advise(forecasts, "pro-pool", [], catalog, SETTINGS)
    assert result.kind == Kind.NONE
    assert result.plan_id == "pro-pool"
    assert result.monthly_cost_delta == 0
    assert result.reason == (
        "The pod quota runs out around 15 March 2027, and no self-service plan or add-on lasts beyond 8 June 2027."
    )


def test_small_steady_usage_is_advised_the_cheaper_plan() -> None:
    usage = {
        "cpu": (3, 0),
        "memory": (4 * GI, 0),
        "storage": (30 * GI, 0),
        "pods": (50, 0),
        "services_loadbalancers": (1, 0),
    }
    held = {"turbo-x1": 1}
    result = advise(forecasts_on("pro-pool", held, usage), "pro-pool", [("turbo-x1", 1)], EXAMPLE, SETTINGS)
    assert result == Suggestion(
        Kind.DOWNGRADE,
        "dev-pool",
        (AddonRequest("turbo-x1", 1),),
        Decimal(-150),
        "The last 30 days' peak fits Dev Pool with 15 % to spare and lasts beyond 8 June 2027; "
        "it costs 150 USD a month less.",
    )


@pytest.mark.parametrize(
    ("cpu_peak", "kind"),
    [(Fraction("3.739"), Kind.DOWNGRADE), (Fraction("3.74"), Kind.NONE)],  # 1.15 x 3.74 = 4.301 > 4.3 cores
)
def test_a_downgrade_keeps_15_percent_headroom_over_the_peak(cpu_peak: Fraction, kind: Kind) -> None:
    limits = quota_of(EXAMPLE, "pro-pool", {}, SETTINGS)
    assert limits is not None
    forecasts = {name: growing(0, 0, limits[name]) for name in RESOURCES}
    spike = [((TODAY - timedelta(days=3)).timestamp(), cpu_peak)]
    forecasts["cpu"] = forecast(
        spike + [((TODAY - timedelta(days=d)).timestamp(), 1) for d in range(1, 30)], 1, limits["cpu"], NOW
    )
    assert advise(forecasts, "pro-pool", [], EXAMPLE, SETTINGS).kind == kind


@pytest.mark.parametrize(("stored", "kind"), [(10 * GI, Kind.DOWNGRADE), (70 * GI, Kind.NONE)])
def test_a_resource_without_history_is_judged_on_its_current_usage(stored: int, kind: Kind) -> None:
    forecasts = forecasts_on("pro-pool", {}, {"cpu": (1, 0)})
    assert forecasts["storage"].limit is not None
    forecasts["storage"] = forecast([], used=stored, limit=forecasts["storage"].limit, now=NOW)
    assert advise(forecasts, "pro-pool", [], EXAMPLE, SETTINGS).kind == kind


def test_public_ips_held_count_like_any_quota() -> None:
    """1 of pro-pool's 1 IP is a full quota; on scale-pool, 1 IP held keeps it: dev-pool grants none and pro-pool's
    1 leaves no 15 % to spare."""
    full = advise(forecasts_on("pro-pool", {}, {"public_ipv4": (1, 0)}), "pro-pool", [], EXAMPLE, SETTINGS)
    assert (full.kind, full.plan_id) == (Kind.UPGRADE, "scale-pool")
    for held, kind in ((1, Kind.NONE), (0, Kind.DOWNGRADE)):
        forecasts = forecasts_on("scale-pool", {}, {"cpu": (1, 0), "public_ipv4": (held, 0)})
        assert advise(forecasts, "scale-pool", [], EXAMPLE, SETTINGS).kind == kind


def test_no_priced_plan_or_no_usage_gives_none() -> None:
    forecasts = forecasts_on("pro-pool", {}, {})
    assert advise(forecasts, None, [], EXAMPLE, SETTINGS).kind == Kind.NONE
    assert advise(forecasts, "enterprise", [], EXAMPLE, SETTINGS).kind == Kind.NONE
    assert advise({}, "pro-pool", [], EXAMPLE, SETTINGS).kind == Kind.NONE


def test_lasting_and_covering() -> None:
    limits = quota_of(EXAMPLE, "dev-pool", {}, SETTINGS)
    assert limits is not None
    assert lasts(growing(0, 0, limits["public_ipv4"]), limits["public_ipv4"], LASTING)  # 0 of 0: nothing used
    assert not lasts(growing(1, 0, Fraction(1)), Fraction(1), SOON)  # 1 of 1: full
    assert lasts(growing(1, 0, Fraction(1)), None, LASTING)
    assert covers(growing(2, 0, None), Fraction("2.3"))
    assert not covers(growing(2, 0, None), Fraction("2.29"))


# Whatever the usage, the advice keeps its own rules.

rates = st.fractions(min_value=0, max_value=5, max_denominator=10)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["dev-pool", "pro-pool", "scale-pool"]),
    st.integers(0, 3),
    st.fixed_dictionaries(
        {},
        optional={
            "cpu": st.tuples(st.fractions(0, 40, max_denominator=10), rates),
            "memory": st.tuples(st.integers(0, 100 * GI), st.integers(0, 2 * GI)),
            "pods": st.tuples(st.integers(0, 1000), st.integers(0, 20)),
            "services_loadbalancers": st.tuples(st.integers(0, 200), st.integers(0, 2)),
        },
    ),
)
def test_the_advice_follows_its_rules(
    plan_id: str, turbo: int, usage: dict[str, tuple[Fraction | int, Fraction | int]]
) -> None:
    held = {"turbo-x1": turbo} if turbo else {}
    forecasts = forecasts_on(plan_id, held, usage)
    result = advise(forecasts, plan_id, sorted(held.items()), EXAMPLE, SETTINGS)
    event(result.kind.value)

    def holding(plan_id: str, addons: Mapping[str, int], peak: bool = False) -> bool:
        limits = quota_of(EXAMPLE, plan_id, addons, SETTINGS)
        assert limits is not None
        return all(lasts(f, limits[n], LASTING) and (not peak or covers(f, limits[n])) for n, f in forecasts.items())

    costs = {
        other: monthly_cost(EXAMPLE, other, held) or Decimal(0) for other in ("dev-pool", "pro-pool", "scale-pool")
    }
    soon = any(not lasts(f, f.limit, SOON) for f in forecasts.values())
    new_addons = {request.addon_id: request.quantity for request in result.addons}
    assert result.plan_id is not None
    if result.kind != Kind.ADDON:
        assert new_addons == held
    if result.kind == Kind.NONE:
        assert (result.plan_id, result.monthly_cost_delta) == (plan_id, Decimal(0))
        if soon:
            assert not any(holding(other, held) for other in costs)
            assert not holding(plan_id, {"turbo-x1": 100, "turbo-x2": 100})
        else:
            assert not any(costs[other] < costs[plan_id] and holding(other, held, peak=True) for other in costs)
        return
    assert holding(result.plan_id, new_addons, peak=result.kind == Kind.DOWNGRADE)
    assert result.monthly_cost_delta == (monthly_cost(EXAMPLE, result.plan_id, new_addons) or 0) - costs[plan_id]
    assert (result.kind == Kind.DOWNGRADE) == (not soon)
    if result.kind == Kind.DOWNGRADE:
        assert result.monthly_cost_delta < 0
        assert not any(costs[other] < costs[result.plan_id] and holding(other, held, peak=True) for other in costs)
    if result.kind == Kind.UPGRADE:
        assert not any(costs[other] < costs[result.plan_id] and holding(other, held) for other in costs)
    if result.kind == Kind.ADDON:
        assert result.plan_id == plan_id
        assert all(new_addons.get(addon_id, 0) >= quantity for addon_id, quantity in held.items())
        assert result.monthly_cost_delta > 0
        assert not any(
            costs[other] - costs[plan_id] <= result.monthly_cost_delta and holding(other, held)
            for other in costs
            if other != plan_id
        )


KWD_AMOUNTS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999999999.999"), places=3)
PRICED: Final = ("dev-pool", "pro-pool", "scale-pool", "turbo-x1", "turbo-x2")


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries(dict.fromkeys(PRICED, KWD_AMOUNTS)),
    st.tuples(st.fractions(0, 40, max_denominator=10), st.fractions(-1, 1, max_denominator=10)),
    st.integers(0, 3),
)
def test_advice_money_is_exact_in_any_currency(
    kwd: dict[str, Decimal], cpu: tuple[Fraction, Fraction], turbo: int
) -> None:
    """Dinar prices of up to 14 digits (3 decimals): the difference advised is exactly the difference of the
    two monthly costs in dinars, with floats trapped (a Decimal made from or compared with a float raises)."""
    catalog = example(priced_in("KWD", kwd))
    held = {"turbo-x1": turbo} if turbo else {}
    limits = quota_of(catalog, "pro-pool", held, SETTINGS)
    assert limits is not None
    forecasts = {name: growing(0, 0, limits[name]) for name in RESOURCES} | {"cpu": growing(*cpu, limits["cpu"])}
    with decimal.localcontext() as context:
        context.traps[decimal.FloatOperation] = True
        result = advise(forecasts, "pro-pool", sorted(held.items()), catalog, SETTINGS, "KWD")
        current = monthly_cost(catalog, "pro-pool", held, "KWD")
        assert current is not None
        assert result.plan_id is not None
        suggested = monthly_cost(catalog, result.plan_id, {a.addon_id: a.quantity for a in result.addons}, "KWD")
        assert suggested is not None
        assert result.monthly_cost_delta == suggested - current
    assert result.monthly_cost_delta == result.monthly_cost_delta.quantize(Decimal("0.001"))
    if result.kind == Kind.DOWNGRADE:
        assert result.reason.endswith(f"it costs {-result.monthly_cost_delta} KWD a month less.")
