"""Property-based: caps survive their own round trip, any text is either caps Kubernetes holds or a
named refusal, and the pods a check names are exactly what keeps a project above its cap."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orgquota.core.cap_usage import Consumer, below_usage, pod_consumer
from orgquota.core.limits import HARD_UNITS, above_maximum
from orgquota.core.project_caps import CAP_KEYS, CapsError, caps_annotation, parse_cap, parse_caps, with_cap

LIMIT = 5
namespaces = st.from_regex(r"acme-[a-z0-9]{1,8}", fullmatch=True)
cpu = st.one_of(
    st.integers(0, 10**6).map(lambda m: f"{m}m"),
    st.integers(0, 10**4).map(str),
    st.decimals(0, 10**4, places=3, allow_nan=False, allow_infinity=False).map(str),
)
memory = st.tuples(st.integers(0, 10**6), st.sampled_from(["", "Ki", "Mi", "Gi", "k", "M", "G"])).map(
    lambda pair: f"{pair[0]}{pair[1]}"
)
cap_entries = st.fixed_dictionaries(
    {}, optional={"cpu": cpu, "memory": memory, "storage": memory, "pods": st.integers(0, 10**6)}
).filter(bool)


@given(st.dictionaries(namespaces, cap_entries, max_size=LIMIT))
def test_written_caps_read_back_the_same(entries: dict[str, dict[str, Any]]) -> None:
    parsed = parse_caps(json.dumps(entries), organization="acme", projects_limit=LIMIT)
    again = parse_caps(caps_annotation(parsed), organization="acme", projects_limit=LIMIT)
    assert {ns: dict(cap.hard) for ns, cap in again.items()} == {ns: dict(cap.hard) for ns, cap in parsed.items()}
    assert set(parsed) == set(entries)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=12,
)


@given(st.one_of(st.text(max_size=60), json_values.map(json.dumps)))
def test_any_text_is_caps_kubernetes_holds_or_a_named_refusal(raw: str) -> None:
    problems: list[str] = []
    try:
        parsed = parse_caps(raw, organization="acme", projects_limit=LIMIT)
    except CapsError as exc:
        parsed, problems = {}, exc.problems
        assert problems
    assert all(problem.startswith("billing.kube-dc.com/project-caps") for problem in problems)
    assert len(parsed) <= LIMIT
    for cap in parsed.values():
        assert cap.hard
        assert set(cap.hard) <= set(CAP_KEYS.values())
        for key, value in cap.hard.items():
            assert value.value >= 0
            assert above_maximum(HARD_UNITS[key], value.value) is None


@given(namespaces, cap_entries, st.dictionaries(namespaces, cap_entries, max_size=LIMIT - 1))
def test_setting_a_cap_changes_that_project_only(namespace: str, entry: dict[str, Any], others: dict[str, Any]) -> None:
    raw = json.dumps(others)
    before = parse_caps(raw, organization="acme", projects_limit=LIMIT)
    after = parse_caps(
        with_cap(raw, namespace, parse_cap(entry), organization="acme", projects_limit=LIMIT),
        organization="acme",
        projects_limit=LIMIT,
    )
    assert dict(after[namespace].hard) == dict(parse_cap(entry).hard)
    assert {ns: dict(c.hard) for ns, c in after.items() if ns != namespace} == {
        ns: dict(c.hard) for ns, c in before.items() if ns != namespace
    }


pods = st.lists(
    st.tuples(st.integers(0, 50), st.integers(0, 4000)).map(lambda p: (f"2026-11-01T00:00:{p[0]:02d}Z", p[1])),
    max_size=12,
)


@given(pods, st.integers(0, 8000))
def test_the_named_pods_are_what_keeps_the_project_above_its_cap(raw: list[tuple[str, int]], millicores: int) -> None:
    consumers = [pod_consumer(f"p{i}", created, Fraction(m, 1000), Fraction(0)) for i, (created, m) in enumerate(raw)]
    cap = parse_cap({"cpu": f"{millicores}m"})
    found = [v for v in below_usage(cap, consumers) if v.resource == "requests.cpu"]
    total = sum((c.uses["requests.cpu"] for c in consumers), Fraction(0))
    assert bool(found) == (total > Fraction(millicores, 1000))
    named = set(found[0].pods) if found else set()
    kept: list[Consumer] = [c for c in consumers if c.name not in named]
    assert sum((c.uses["requests.cpu"] for c in kept), Fraction(0)) <= Fraction(millicores, 1000)
    assert all(c.uses["requests.cpu"] > 0 for c in consumers if c.name in named)
    if found:  # the oldest named one is where the running total first went over: it could not stay
        oldest = min((c for c in consumers if c.name in named), key=lambda c: (c.created, c.name))
        before = [c for c in consumers if (c.created, c.name) <= (oldest.created, oldest.name)]
        assert sum((c.uses["requests.cpu"] for c in before), Fraction(0)) > Fraction(millicores, 1000)
