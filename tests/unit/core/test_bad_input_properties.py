"""Property-based: the quota computed from bad input is never above the one from the nearest good
input, never absent where that one is present, and never beyond what Kubernetes holds.

"Nearest good input" is the input the mistake was made from: the annotations before a padded,
blanked or mistyped value, or (for a catalog) the last good catalog, which the operator keeps
when a new one is refused. No quota (mode none) counts as unlimited.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orgquota.core.annotations import ADDONS, MAX_ADDON_QUANTITY, PLAN_ID, SUBSCRIPTION, Subscription
from orgquota.core.catalog import Catalog, CatalogError, parse_catalog
from orgquota.core.desired import DesiredQuota, Mode, QuotaSettings, desired_quota
from orgquota.core.limits import MAX_PROJECTS_LIMIT, hard_out_of_range
from tests.support.catalog import CATALOG

GOOD = parse_catalog(CATALOG)
SETTINGS = QuotaSettings(projects_limit=3)
ENABLED = sorted(addon_id for addon_id, addon in GOOD.addons.items() if not addon.disabled)


def never_looser(bad: DesiredQuota, good: DesiredQuota) -> None:
    if good.mode == Mode.NONE:
        return  # no quota is unlimited: nothing is above it
    assert bad.mode != Mode.NONE, f"bad input removed the quota: {bad.message}"
    for key, limit in good.hard.items():
        assert bad.hard[key] <= limit, f"{key}: {bad.hard[key]} > {limit} ({bad.message})"


# --- annotations -------------------------------------------------------------------------

whitespace = st.sampled_from([" ", "\t", "\n", "\u00a0", "\u2003", "\u200b", "\ufeff", "\r\n"])


@st.composite
def mistyped(draw: st.DrawFn, value: str) -> str:
    """`value` as a person or a billing system might get it wrong (never another valid value)."""
    kind = draw(st.sampled_from(["pad-left", "pad-right", "blank", "empty", "case", "inner", "truncate"]))
    if kind == "pad-left":
        return draw(whitespace) + value
    if kind == "pad-right":
        return value + draw(whitespace)
    if kind == "blank":
        return "".join(draw(st.lists(whitespace, min_size=1, max_size=3)))
    if kind == "empty":
        return ""
    if kind == "case" and value != value.upper():
        return value.upper()
    if kind == "inner" and len(value) > 1:
        cut = draw(st.integers(1, len(value) - 1))
        return value[:cut] + draw(whitespace) + value[cut:]
    return value[: draw(st.integers(0, max(len(value) - 1, 0)))]


@st.composite
def good_addons(draw: st.DrawFn) -> list[dict[str, Any]]:
    entries = []
    for addon_id in draw(st.lists(st.sampled_from(ENABLED), unique=True)):
        entries.append({"addonId": addon_id, "quantity": draw(st.integers(1, MAX_ADDON_QUANTITY))})
    return entries


good_annotations = st.fixed_dictionaries(
    {},
    optional={
        PLAN_ID: st.sampled_from(sorted(GOOD.plans)),
        SUBSCRIPTION: st.sampled_from([s.value for s in Subscription]),
        ADDONS: good_addons().map(json.dumps),
    },
)


@st.composite
def bad_addons(draw: st.DrawFn, entries: list[dict[str, Any]]) -> str:
    """The `addons` value with one thing wrong: an id, a quantity, a repeat, or the JSON itself."""
    if not entries:
        entries = [{"addonId": draw(st.sampled_from(ENABLED)), "quantity": 1}]
        return json.dumps([{**entries[0], "addonId": draw(mistyped(entries[0]["addonId"]))}])
    index = draw(st.integers(0, len(entries) - 1))
    entry = dict(entries[index])
    kind = draw(st.sampled_from(["id", "quantity", "repeat", "json", "unreadable"]))
    if kind == "unreadable":  # valid-looking JSON that Python's reader gives up on
        deep = "[" * draw(st.integers(1000, 100_000))
        return draw(st.sampled_from([deep, json.dumps(entries)[:-1] + "," + "9" * 5000 + "]"]))
    if kind == "id":
        entry["addonId"] = draw(mistyped(entry["addonId"]))
    elif kind == "quantity":
        entry["quantity"] = draw(
            st.one_of(
                st.integers(max_value=0),
                st.integers(min_value=MAX_ADDON_QUANTITY + 1),
                st.floats(),
                st.text(max_size=5),
                st.just(str(entry["quantity"])),
                st.none(),
            )
        )
    elif kind == "repeat":  # more of one add-on than its bound, spread over entries
        over = st.integers(MAX_ADDON_QUANTITY - entry["quantity"] + 1, MAX_ADDON_QUANTITY)
        extra = [{"addonId": entry["addonId"], "quantity": draw(over)} for _ in range(draw(st.integers(1, 3)))]
        return json.dumps([*entries, *extra])
    else:
        text = json.dumps(entries)
        return text[: draw(st.integers(0, len(text) - 1))]
    return json.dumps([*entries[:index], entry, *entries[index + 1 :]])


@st.composite
def annotations_and_a_mistake(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str]]:
    good: dict[str, str] = draw(good_annotations)
    key = draw(st.sampled_from([PLAN_ID, SUBSCRIPTION, ADDONS]))
    bad = dict(good)
    if key == ADDONS:
        bad[ADDONS] = draw(bad_addons(json.loads(good.get(ADDONS, "[]"))))
    else:
        bad[key] = draw(mistyped(good.get(key, "pro-pool" if key == PLAN_ID else "active")))
    return good, bad


@settings(max_examples=1000, deadline=None)
@given(annotations_and_a_mistake(), st.sampled_from([0, 3, 50, MAX_PROJECTS_LIMIT]))
def test_a_mistaken_annotation_never_loosens_or_removes_the_quota(
    pair: tuple[dict[str, str], dict[str, str]], projects: int
) -> None:
    good, bad = pair
    quota = QuotaSettings(projects_limit=projects)
    never_looser(desired_quota(bad, GOOD, quota), desired_quota(good, GOOD, quota))


# --- catalog texts -----------------------------------------------------------------------

NUMERIC_FIELDS = [
    ["plans", "pro-pool", "requests", "cpu"],
    ["plans", "pro-pool", "requests", "memory"],
    ["plans", "dev-pool", "requests", "storage"],
    ["plans", "pro-pool", "pods"],
    ["plans", "pro-pool", "servicesLB"],
    ["plans", "burst-pool", "burstRatio"],
    ["plans", "pro-pool", "limitRange", "maxCPU"],
    ["plans", "pro-pool", "limitRange", "maxPVCStorage"],
    ["suspendedPlan", "cpu"],
    ["suspendedPlan", "pods"],
    ["systemOverhead", "cpuPerProject"],
    ["systemOverhead", "memPerProject"],
    ["addons", "turbo-x1", "cpu"],
    ["addons", "turbo-x2", "memory"],
    ["addons", "turbo-x1", "storage"],
]
"""Where a catalog says how much: each is raised to absurd sizes and spelled every way YAML allows."""

digits = st.integers(1, 99999).map(str)
exponents = st.one_of(st.integers(0, 40), st.integers(40, 5000), st.sampled_from([999999999, 2**31, 10**12]))
magnitudes = st.one_of(
    st.builds(lambda d, e: f"{d}e{e}", digits, exponents),
    st.builds(lambda d, e: f"{d}.5e+{e}", digits, exponents),
    st.builds(lambda d, e: f"{d}e-{e}", digits, exponents),
    st.builds(
        lambda d, s: f"{d}{s}", digits, st.sampled_from(["", "m", "k", "M", "G", "T", "P", "E", "Ki", "Pi", "Ei"])
    ),
    st.integers(0, 10**30).map(str),
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.sampled_from([".inf", ".INF", "-.Inf", ".nan", ".NaN", "1:30", "1:30.5", "0x7fffffffffffffff", "0b1", "1_000"]),
)


@st.composite
def catalog_with_an_absurd_number(draw: st.DrawFn) -> tuple[str, str]:
    """(the catalog text, the field changed); the value is written as a plain YAML scalar or a string."""
    path = draw(st.sampled_from(NUMERIC_FIELDS))
    value = draw(magnitudes)
    data = yaml.safe_load(CATALOG)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = "VALUE"
    text = yaml.safe_dump(data).replace("VALUE", value if draw(st.booleans()) else f'"{value}"')
    return text, ".".join(path)


SAMPLE_ORGS: list[Mapping[str, str]] = [
    {},
    {SUBSCRIPTION: "suspended"},
    {PLAN_ID: "no-such-plan"},
    *({PLAN_ID: plan_id} for plan_id in sorted(GOOD.plans)),
    *(
        {PLAN_ID: plan_id, ADDONS: json.dumps([{"addonId": a, "quantity": MAX_ADDON_QUANTITY} for a in ENABLED])}
        for plan_id in sorted(GOOD.plans)
    ),
]


@settings(max_examples=400, deadline=None)
@given(catalog_with_an_absurd_number(), st.sampled_from([0, 50, MAX_PROJECTS_LIMIT]))
def test_an_absurd_catalog_number_is_refused_by_name_or_fits_kubernetes(change: tuple[str, str], projects: int) -> None:
    text, field = change
    quota = QuotaSettings(projects_limit=projects)
    started = time.monotonic()
    problems: list[str] = []
    try:
        catalog: Catalog = parse_catalog(text)
    except CatalogError as exc:
        catalog, problems = GOOD, exc.problems  # the operator keeps enforcing the last good catalog
    if catalog is GOOD:
        assert any(p.startswith(("plans.yaml: not valid YAML", *_prefixes(field))) for p in problems), problems
    assert time.monotonic() - started < 2, "an absurd number must be refused before it is expanded"
    for org in SAMPLE_ORGS:
        result = desired_quota(org, catalog, quota)
        assert not hard_out_of_range(result.hard), (org, result.message)
        good = desired_quota(org, GOOD, quota)
        assert (result.mode == Mode.NONE) == (good.mode == Mode.NONE)


def _prefixes(field: str) -> tuple[str, ...]:
    """Problems that rightly follow from a change of `field`: the field itself, or the plan
    fields whose worst case it drives, or the floor field it is compared with."""
    section = field.split(".")[0]
    if section == "plans":
        plan = ".".join(field.split(".")[:2])
        return (field, plan + ".", "suspendedPlan.")
    if section == "suspendedPlan":
        return (field,)
    return (field, "plans.")
