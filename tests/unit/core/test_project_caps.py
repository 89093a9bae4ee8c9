"""The `project-caps` annotation read strictly, written canonically, and the HRQ a cap becomes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orgquota.core.checks import check_annotations, unknown_keys
from orgquota.core.limits import INT64_MAX
from orgquota.core.project_caps import (
    CAP_NAME,
    ORGANIZATION_LABEL,
    PROJECT_CAPS,
    CapsError,
    ProjectCap,
    cap_labels,
    cap_manifest,
    caps_annotation,
    caps_total,
    parse_cap,
    parse_caps,
    with_cap,
)
from orgquota.core.quantity import Quantity

EXAMPLE = {"acme-dev": {"cpu": "2", "memory": "4Gi", "storage": "10Gi", "pods": 20}}


def caps(raw: Any, limit: int = 3) -> dict[str, ProjectCap]:
    text = raw if raw is None or isinstance(raw, str) else json.dumps(raw)
    return parse_caps(text, organization="acme", projects_limit=limit)


def problems(raw: Any, limit: int = 3) -> list[str]:
    with pytest.raises(CapsError) as caught:
        caps(raw, limit)
    return caught.value.problems


def test_the_example_becomes_requests_and_pods_and_is_written_back_the_same() -> None:
    parsed = caps(EXAMPLE)
    assert dict(parsed["acme-dev"].hard) == {
        "requests.cpu": Quantity.parse("2"),
        "requests.memory": Quantity.parse("4Gi"),
        "requests.storage": Quantity.parse("10Gi"),
        "pods": Quantity.count(20),
    }
    assert json.loads(caps_annotation(parsed) or "") == EXAMPLE


def test_absent_or_blank_means_no_caps_and_no_caps_removes_the_annotation() -> None:
    assert caps(None) == {} == caps("  ")
    assert caps_annotation({}) is None


def test_a_cap_may_name_some_resources_only_and_numbers_are_exact() -> None:
    parsed = caps('{"acme-dev": {"cpu": 0.5}, "acme-prod": {"pods": 0}}')
    assert parsed["acme-dev"].written() == {"cpu": "500m"}
    assert parsed["acme-dev"].shown() == {"cpu": "500m", "memory": None, "storage": None, "pods": None}
    assert parsed["acme-prod"].written() == {"pods": 0}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ('{"a": {"cpu": NaN}}', "cannot be read"),
        ('{"a": {"cpu": 1' + "0" * 5000 + "}}", "cannot be read"),
        ("[" * 100_000, "cannot be read"),
        ('["acme-dev"]', "must be a JSON object of caps by namespace"),
        ('{"acme-dev": 2}', "[acme-dev] must be an object of cpu, memory, storage, pods"),
        ('{"acme-dev": {}}', "[acme-dev] names no resource"),
        ('{"acme-dev": {"cpus": "2"}}', "unknown field 'cpus'"),
        ('{"acme-dev": {"cpu": "2 cores"}}', "'2 cores' is not a quantity"),
        ('{"acme-dev": {"cpu": "-1"}}', "[acme-dev].cpu: '-1' is negative"),
        ('{"acme-dev": {"memory": "1e1000"}}', "[acme-dev].memory: about 10^1000 is above 9223372036854775807"),
        ('{"acme-dev": {"memory": "8Ei"}}', "[acme-dev].memory: 8Ei is above 9223372036854775807 (64-bit bytes)"),
        ('{"acme-dev": {"pods": "20"}}', "[acme-dev].pods: '20' is not a whole number of pods"),
        ('{"acme-dev": {"pods": 20.0}}', "is not a whole number of pods"),
        ('{"acme-dev": {"pods": true}}', "True is not a whole number of pods"),
        ('{"acme-dev": {"pods": -1}}', "[acme-dev].pods: -1 is negative"),
        ('{"acme-dev": {"pods": 10000000000000000000000000}}', "above 9223372036854775 (a count"),
        ('{"acme-dev": {"cpu": "1"}, "acme-dev": {"cpu": "2"}}', "'acme-dev' is given more than once"),
        ('{"Acme_Dev": {"cpu": "1"}}', "'Acme_Dev' is not a namespace name"),
        ('{"acme": {"cpu": "1"}}', "acme is the organization's own namespace, not a project"),
    ],
)
def test_a_bad_annotation_is_refused_whole_with_the_part_named(raw: str, expected: str) -> None:
    found = problems(raw)
    assert any(expected in problem for problem in found), found
    assert all(problem.startswith(PROJECT_CAPS) for problem in found), found


def test_every_bad_part_is_named_and_good_entries_do_not_survive_beside_them() -> None:
    found = problems({"acme-dev": {"cpu": "2"}, "acme-prod": {"cpu": "x", "pods": -2}, "acme": {"cpu": "1"}})
    assert len(found) == 3, found


def test_more_caps_than_the_projects_limit_is_refused() -> None:
    raw = {f"acme-p{i}": {"pods": 1} for i in range(4)}
    assert any("more than the projects limit (3)" in problem for problem in problems(raw, limit=3))
    assert len(caps(raw, limit=4)) == 4


def test_the_largest_values_kubernetes_holds_are_accepted() -> None:
    largest = {"cpu": f"{INT64_MAX}m", "memory": str(INT64_MAX), "storage": str(INT64_MAX), "pods": INT64_MAX // 1000}
    parsed = caps({"acme-dev": largest})
    assert parsed["acme-dev"].written() == {**largest, "cpu": "9223372036854775807m"}


def test_setting_and_removing_one_cap_keeps_the_others() -> None:
    raw = caps_annotation(caps(EXAMPLE))
    both = with_cap(raw, "acme-prod", parse_cap({"cpu": "1"}), organization="acme", projects_limit=3)
    assert json.loads(both or "") == {**EXAMPLE, "acme-prod": {"cpu": "1"}}
    assert with_cap(both, "acme-prod", None, organization="acme", projects_limit=3) == raw
    assert with_cap(raw, "acme-dev", None, organization="acme", projects_limit=3) is None
    assert with_cap(raw, "nowhere", None, organization="acme", projects_limit=3) == raw


def test_an_unreadable_annotation_is_not_rewritten_and_the_limit_holds() -> None:
    with pytest.raises(CapsError, match="not valid JSON"):
        with_cap("{", "acme-dev", None, organization="acme", projects_limit=3)
    with pytest.raises(CapsError, match="more than the projects limit"):
        with_cap(
            caps_annotation(caps(EXAMPLE)), "acme-prod", parse_cap({"cpu": "1"}), organization="acme", projects_limit=1
        )
    with pytest.raises(CapsError, match="own namespace"):
        with_cap(None, "acme", parse_cap({"cpu": "1"}), organization="acme", projects_limit=1)


def test_a_cap_becomes_an_hrq_with_the_managed_labels_and_its_organization() -> None:
    manifest = cap_manifest(caps(EXAMPLE)["acme-dev"], cap_labels("pro-pool", "acme"))
    assert manifest["metadata"] == {
        "name": CAP_NAME,
        "labels": {
            "billing.kube-dc.com/auto-managed": "true",
            "billing.kube-dc.com/plan-id": "pro-pool",
            ORGANIZATION_LABEL: "acme",
        },
    }
    assert manifest["spec"]["hard"] == {
        "requests.cpu": "2",
        "requests.memory": "4Gi",
        "requests.storage": "10Gi",
        "pods": "20",
    }
    assert "limits.cpu" not in manifest["spec"]["hard"]  # a cap holds requests only (module docstring)


def test_the_caps_add_up_per_resource() -> None:
    total = caps_total(caps({"acme-dev": {"cpu": "2", "pods": 5}, "acme-prod": {"cpu": "500m"}}))
    assert total == {"requests.cpu": Quantity.parse("2500m").value, "pods": 5}


def test_admission_refuses_a_bad_caps_annotation_it_is_asked_to_set_with_the_operators_words() -> None:
    bad = {PROJECT_CAPS: '{"acme-dev": {"cpu": "lots"}, "acme": {"pods": 1}}'}
    found = check_annotations(bad, {}, None, organization="acme", projects_limit=3)
    assert found == problems(bad[PROJECT_CAPS])
    assert len(found) == 2
    assert check_annotations(bad, bad, None, organization="acme", projects_limit=3) == []  # unchanged: not judged
    good = {PROJECT_CAPS: json.dumps(EXAMPLE)}
    assert check_annotations(good, {}, None, organization="acme", projects_limit=3) == []
    assert unknown_keys(good, {}) == []
