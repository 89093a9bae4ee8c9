from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from orgquota.core.catalog import CatalogError, parse_catalog, parse_configmap_data
from orgquota.core.quantity import Quantity
from tests.support.catalog import CATALOG

ROOT = Path(__file__).resolve().parents[3]


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text)
    return caught.value.problems


def edited(path: str, value: object) -> str:
    """The test catalog with one field set (dotted path); None deletes it."""
    data = yaml.safe_load(CATALOG)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return yaml.safe_dump(data)


def test_parses_the_catalog(catalog: object) -> None:
    parsed = parse_catalog(CATALOG)
    assert parsed.plans["pro-pool"].requests.memory == Quantity.parse("24Gi")
    assert parsed.plans["burst-pool"].burstRatio == Decimal("1.5")
    assert parsed.suspendedPlan.storage == Quantity(0)
    assert parsed.addons["retired"].disabled


def test_the_example_catalog_is_valid() -> None:
    configmap = yaml.safe_load((ROOT / "examples/organization/04-billing-plans-configmap.yaml").read_text())
    catalog = parse_configmap_data(configmap["data"])
    assert {"dev-pool", "pro-pool", "scale-pool"} <= set(catalog.plans)
    assert {"turbo-x1", "turbo-x2"} <= set(catalog.addons)


def test_alert_thresholds_default_when_absent_and_are_read_when_set() -> None:
    absent = parse_catalog(CATALOG).alerts
    assert (absent.warningPercent, absent.criticalPercent, absent.runOutDays) == (80, 100, 7)
    partial = parse_catalog(edited("alerts", {"warningPercent": 70, "runOutDays": 14})).alerts
    assert (partial.warningPercent, partial.criticalPercent, partial.runOutDays) == (70, 100, 14)


def test_burst_ratio_is_read_without_floats() -> None:
    assert parse_catalog(edited("plans.burst-pool.burstRatio", "placeholder").replace("placeholder", "1.1")).plans[
        "burst-pool"
    ].burstRatio == Decimal("1.1")


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "plans.pro-pool.limitRange.maxCPU",
            "abc",
            "plans.pro-pool.limitRange.maxCPU: 'abc' is not a quantity",
        ),
        ("plans.pro-pool.requests.memory", "-1Gi", "plans.pro-pool.requests.memory: '-1Gi' is negative"),
        ("plans.pro-pool.requests.cpu", None, "plans.pro-pool.requests.cpu: required"),
        ("plans.pro-pool.burstRatio", 0, "plans.pro-pool.burstRatio: Input should be greater than 0"),
        ("plans.pro-pool.burstRatio", -1, "plans.pro-pool.burstRatio: Input should be greater than 0"),
        ("plans.pro-pool.pods", "many", "plans.pro-pool.pods: Input should be a valid integer"),
        (
            "plans.pro-pool.servicesLB",
            -1,
            "plans.pro-pool.servicesLB: Input should be greater than or equal to 0",
        ),
        ("plans.pro-pool.limits", {}, "plans.pro-pool.limits: unknown field"),
        ("plans.pro-pool.limitRange", None, "plans.pro-pool.limitRange: required"),
        ("suspendedPlan", None, "suspendedPlan: required"),
        ("plans", None, "plans: required"),
        ("plans", {}, "plans: Dictionary should have at least 1 item"),
        ("addons.turbo-x1.cpu", "2 cores", "addons.turbo-x1.cpu: '2 cores' is not a quantity"),
        ("eipQuota.gold", 1, "eipQuota.gold: not a plan in plans"),
        (
            "systemOverhead.cpuPerProject",
            "100m",
            "systemOverhead.cpuPerProject: Input should be a valid integer",
        ),
        ("alerts", {"warningPercent": 5}, "alerts.warningPercent: Input should be greater than 5"),
        ("alerts", {"warningPercent": 80.5}, "alerts.warningPercent: Input should be a valid integer"),
        ("alerts", {"criticalPercent": 101}, "alerts.criticalPercent: Input should be less than or equal to 100"),
        ("alerts", {"warningPercent": 90, "criticalPercent": 90}, "alerts: criticalPercent (90) must be above"),
        ("alerts", {"runOutDays": 0}, "alerts.runOutDays: Input should be greater than or equal to 1"),
        ("alerts", {"runOutDays": 366}, "alerts.runOutDays: Input should be less than or equal to 365"),
        ("alerts", {"criticalPct": 90}, "alerts.criticalPct: unknown field"),
    ],
)
def test_bad_fields_are_named(path: str, value: object, expected: str) -> None:
    assert any(problem.startswith(expected) for problem in problems_of(edited(path, value))), problems_of(
        edited(path, value)
    )


def test_limit_range_order_is_checked() -> None:
    problems = problems_of(edited("plans.pro-pool.limitRange.defaultCPU", "6"))
    assert problems == ["plans.pro-pool.limitRange: defaultCPU (6) must not exceed maxCPU (4)"]


def test_ids_must_be_label_values() -> None:
    text = CATALOG.replace("  turbo-x2:", "  turbo x2:")
    assert any("'turbo x2' cannot be used as an id" in p for p in problems_of(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plans: [", "plans.yaml: not valid YAML"),
        ("- a\n- b", "plans.yaml: must be a mapping"),
        ("", "plans.yaml: must be a mapping"),
        (CATALOG.replace("burstRatio: 1.5", "burstRatio: .inf"), "plans.yaml: not valid YAML"),
    ],
)
def test_unreadable_catalogs(text: str, expected: str) -> None:
    assert problems_of(text)[0].startswith(expected)


def test_configmap_without_the_key() -> None:
    with pytest.raises(CatalogError, match=r"data.plans.yaml: missing"):
        parse_configmap_data({"other.yaml": ""})
    with pytest.raises(CatalogError, match=r"data.plans.yaml: missing"):
        parse_configmap_data(None)


def test_every_problem_is_reported_at_once() -> None:
    text = edited("plans.pro-pool.requests.cpu", "x").replace("pods: 100", "pods: -5")
    assert len(problems_of(text)) == 2


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("plans.pro-pool.displayName", "Pro Pool (new)"),
        ("plans.pro-pool.price", "99.90"),
        ("plans.pro-pool.features", ["priority support"]),
        ("addons.turbo-x1.description", "two more cores"),
    ],
)
def test_presentation_edits_enforce_the_same(path: str, value: object) -> None:
    assert parse_catalog(edited(path, value)).enforced() == parse_catalog(CATALOG).enforced()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("plans.pro-pool.requests.cpu", "9"),
        ("plans.pro-pool.selfService", False),
        ("addons.turbo-x1.cpu", "3"),
        ("eipQuota.pro-pool", 2),
        ("alerts", {"warningPercent": 90}),
    ],
)
def test_quota_edits_enforce_something_else(path: str, value: object) -> None:
    assert parse_catalog(edited(path, value)).enforced() != parse_catalog(CATALOG).enforced()


def test_whmcs_configurable_options_map_to_addons() -> None:
    text = CATALOG + '\nwhmcs:\n  configurableOptions: {"Turbo x1 cores": turbo-x1, "Turbo x2": turbo-x2}\n'
    assert parse_catalog(text).whmcs.configurableOptions == {"Turbo x1 cores": "turbo-x1", "Turbo x2": "turbo-x2"}
    assert parse_catalog(CATALOG).whmcs.configurableOptions == {}


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ('{configurableOptions: {"Turbo": turbo-x9}}', "whmcs.configurableOptions.Turbo: 'turbo-x9' is not an add-on"),
        (
            '{configurableOptions: {"": turbo-x1}}',
            "whmcs.configurableOptions..[key]: String should have at least 1 character",
        ),
        ("{configurableOptions: {Turbo: 3}}", "whmcs.configurableOptions.Turbo: Input should be a valid string"),
        ("{options: {}}", "whmcs.options: unknown field"),
    ],
)
def test_bad_whmcs_sections_are_named(section: str, expected: str) -> None:
    problems = problems_of(CATALOG + f"\nwhmcs: {section}\n")
    assert any(problem.startswith(expected) for problem in problems), problems
