"""A cap below what runs: which pods and claims are above it; a project's share of the quota."""

from __future__ import annotations

from fractions import Fraction

from orgquota.core.cap_usage import below_usage, claim_consumer, pod_consumer, project_usage, share
from orgquota.core.project_caps import parse_cap

GIB = 1024**3


def test_the_newest_pods_beyond_the_cap_are_named() -> None:
    pods = [
        pod_consumer("c", "2026-11-03T10:00:00Z", Fraction(1), Fraction(GIB)),
        pod_consumer("a", "2026-11-01T10:00:00Z", Fraction(1), Fraction(GIB)),
        pod_consumer("b", "2026-11-02T10:00:00Z", Fraction(1), Fraction(GIB)),
    ]
    violations = below_usage(parse_cap({"cpu": "1500m", "memory": "8Gi", "pods": 2}), pods)
    assert [v.answer() for v in violations] == [
        {"resource": "requests.cpu", "used": "3", "cap": "1500m", "pods": ["b", "c"], "claims": []},
        {"resource": "pods", "used": "3", "cap": "2", "pods": ["c"], "claims": []},
    ]


def test_used_is_spelled_like_the_cap_and_claims_are_named_for_storage() -> None:
    claims = [
        claim_consumer("data", "2026-11-01T10:00:00Z", Fraction(8 * GIB)),
        claim_consumer("logs", "2026-11-02T10:00:00Z", Fraction(4 * GIB)),
    ]
    pods = [pod_consumer("web", "2026-11-01T10:00:00Z", Fraction(1, 2), Fraction(3 * GIB))]
    violations = below_usage(parse_cap({"storage": "10Gi", "memory": "2Gi", "cpu": "1"}), claims + pods)
    assert [v.answer() for v in violations] == [
        {"resource": "requests.memory", "used": "3Gi", "cap": "2Gi", "pods": ["web"], "claims": []},
        {"resource": "requests.storage", "used": "12Gi", "cap": "10Gi", "pods": [], "claims": ["logs"]},
    ]


def test_at_the_cap_is_not_below_it_and_what_uses_nothing_is_never_named() -> None:
    pods = [
        pod_consumer("a", "2026-11-01T10:00:00Z", Fraction(2), Fraction(0)),
        pod_consumer("idle", "2026-11-02T10:00:00Z", Fraction(0), Fraction(0)),
    ]
    assert below_usage(parse_cap({"cpu": "2"}), pods) == []
    assert [v.pods for v in below_usage(parse_cap({"cpu": "0"}), pods)] == [("a",)]


def test_a_project_uses_the_sum_and_its_share_is_of_the_enforced_quota() -> None:
    consumers = [
        pod_consumer("a", "t1", Fraction(1), Fraction(GIB)),
        pod_consumer("b", "t2", Fraction(3), Fraction(GIB)),
        claim_consumer("data", "t3", Fraction(5 * GIB)),
    ]
    used = project_usage(consumers)
    assert used == {"requests.cpu": 4, "requests.memory": 2 * GIB, "requests.storage": 5 * GIB, "pods": 2}
    hard = {"requests.cpu": Fraction(8), "requests.memory": Fraction(0), "pods": Fraction(200)}
    assert share(used, hard) == {"cpu": Fraction(1, 2), "memory": None, "storage": None, "pods": Fraction(1, 100)}
