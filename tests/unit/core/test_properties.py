"""Property-based tests: no input crashes the parser or the computation, and bad input never grants more."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orgquota.core.annotations import ADDONS, PLAN_ID, SUBSCRIPTION
from orgquota.core.catalog import Catalog, CatalogError, parse_catalog
from orgquota.core.desired import Mode, QuotaSettings, desired_quota
from tests.support.catalog import CATALOG

GOOD = parse_catalog(CATALOG)
SETTINGS = QuotaSettings(projects_limit=3)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["8", "24Gi", "500m", "-1", "1e3", "abc", "", "0", "1.5Gi", ".inf"]),
)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)


def mutated(path: list[str], value: Any) -> str:
    data = yaml.safe_load(CATALOG)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return yaml.safe_dump(data)


catalog_fields = st.sampled_from(
    [
        ["plans", "pro-pool", "requests", "cpu"],
        ["plans", "pro-pool", "requests"],
        ["plans", "pro-pool", "pods"],
        ["plans", "pro-pool", "burstRatio"],
        ["plans", "pro-pool", "limitRange"],
        ["plans", "pro-pool", "limitRange", "maxCPU"],
        ["suspendedPlan"],
        ["suspendedPlan", "memory"],
        ["systemOverhead", "cpuPerProject"],
        ["addons"],
        ["addons", "turbo-x1", "storage"],
        ["eipQuota"],
        ["plans"],
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_is_rejected_cleanly(text: str) -> None:
    problems = _problems(text)
    assert problems is None or (problems and all(problems))


@settings(max_examples=300, deadline=None)
@given(catalog_fields, trees)
def test_any_field_value_parses_or_names_a_field(path: list[str], value: Any) -> None:
    problems = _problems(mutated(path, value)) or []
    assert all(":" in problem for problem in problems), problems


def _problems(text: str) -> list[str] | None:
    """None if `text` is a catalog; else what is wrong with it (any other exception fails the test)."""
    try:
        assert isinstance(parse_catalog(text), Catalog)
    except CatalogError as exc:
        return exc.problems
    return None


addon_entries = st.lists(
    st.fixed_dictionaries(
        {"addonId": st.one_of(st.sampled_from(["turbo-x1", "turbo-x2", "retired", "nope", ""]), trees)},
        optional={"quantity": st.one_of(st.integers(-5, 200), trees)},
    )
    | trees,
    max_size=5,
)
addon_annotations = st.one_of(addon_entries.map(json.dumps), st.text(max_size=40), trees.map(json.dumps))


@settings(max_examples=400, deadline=None)
@given(addon_annotations)
def test_addons_never_grant_more_than_their_valid_entries(raw: str) -> None:
    plan_only = desired_quota({PLAN_ID: "pro-pool"}, GOOD, SETTINGS)
    result = desired_quota({PLAN_ID: "pro-pool", ADDONS: raw}, GOOD, SETTINGS)
    assert result.mode == Mode.PLAN
    for key, value in result.hard.items():
        assert value >= plan_only.hard[key]  # add-ons only add
    if result.problems:
        assert result.reason == "InvalidAddons"
    valid = [e for e in _entries(raw) if _grants(e)]
    if not valid:
        assert dict(result.hard) == dict(plan_only.hard)


def _entries(raw: str) -> list[Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def _grants(entry: Any) -> bool:
    quantity = entry.get("quantity") if isinstance(entry, dict) else None
    return (
        isinstance(entry, dict)
        and entry.get("addonId") in ("turbo-x1", "turbo-x2")
        and isinstance(quantity, int)
        and not isinstance(quantity, bool)
        and 1 <= quantity <= 100
    )


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from([PLAN_ID, SUBSCRIPTION, ADDONS, "other"]), st.text(max_size=20), max_size=4))
def test_unknown_input_falls_to_the_floor_or_nothing(annotations: dict[str, str]) -> None:
    result = desired_quota(annotations, GOOD, SETTINGS)
    plan_id = annotations.get(PLAN_ID, "").strip()
    subscription = annotations.get(SUBSCRIPTION, "").strip() or "active"
    if result.mode == Mode.PLAN:
        assert plan_id in GOOD.plans
        assert subscription in ("active", "trialing", "canceling", "past_due")
    elif result.mode == Mode.NONE:
        assert not plan_id
    else:
        assert dict(result.hard) == dict(desired_quota({SUBSCRIPTION: "suspended"}, GOOD, SETTINGS).hard)
