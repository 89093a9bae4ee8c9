"""A project's usage against a cap and against its organization's quota.

A cap below what already runs evicts nothing (HNC only refuses what comes next), so before one
is written the org-admin is told which pods (and volume claims) it leaves above the cap: taken
oldest first, the ones the cap would not have let in had it been there when they came.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from orgquota.core.project_caps import CAP_KEYS, ProjectCap
from orgquota.core.quantity import Quantity


@dataclass(frozen=True)
class Consumer:
    """A pod or a PersistentVolumeClaim of the project, and what quota counts of it."""

    kind: Literal["pod", "claim"]
    name: str
    """as the answer names it: `web-1`, or `sub/web-1` in a namespace below the project"""
    created: str
    """RFC 3339 creation time: the order in which the cap would have met them"""
    uses: Mapping[str, Fraction]
    """by HRQ resource: `requests.cpu` in cores, `requests.memory` in bytes, `pods` 1, ..."""


def pod_consumer(name: str, created: str, cpu: Fraction, memory: Fraction) -> Consumer:
    return Consumer("pod", name, created, {"requests.cpu": cpu, "requests.memory": memory, "pods": Fraction(1)})


def claim_consumer(name: str, created: str, storage: Fraction) -> Consumer:
    return Consumer("claim", name, created, {"requests.storage": storage})


@dataclass(frozen=True)
class Violation:
    resource: str
    """the HRQ resource, `requests.cpu`"""
    used: Quantity
    cap: Quantity
    pods: tuple[str, ...]
    """the pods above the cap (for pods, cpu and memory)"""
    claims: tuple[str, ...]
    """the volume claims above the cap (for storage)"""

    def answer(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "used": str(self.used),
            "cap": str(self.cap),
            "pods": list(self.pods),
            "claims": list(self.claims),
        }


def below_usage(cap: ProjectCap, consumers: Iterable[Consumer]) -> list[Violation]:
    """Each resource the project uses more of than `cap` allows, with what is above it."""
    ordered = sorted(consumers, key=lambda consumer: (consumer.created, consumer.name))
    violations = []
    for key, limit in cap.hard.items():
        total, above = Fraction(0), []
        for consumer in ordered:
            amount = consumer.uses.get(key, Fraction(0))
            if not amount:
                continue
            total += amount
            if total > limit.value:
                above.append(consumer)
        if total > limit.value:
            used = Quantity(total, binary=limit.binary, plain=limit.plain)
            pods = tuple(c.name for c in above if c.kind == "pod")
            claims = tuple(c.name for c in above if c.kind == "claim")
            violations.append(Violation(key, used, limit, pods, claims))
    return violations


def project_usage(consumers: Iterable[Consumer]) -> dict[str, Fraction]:
    """What the consumers add up to, per HRQ resource a cap can name."""
    total = {key: Fraction(0) for key in CAP_KEYS.values()}
    for consumer in consumers:
        for key, amount in consumer.uses.items():
            if key in total:
                total[key] += amount
    return total


def share(used: Mapping[str, Fraction], hard: Mapping[str, Fraction]) -> dict[str, Fraction | None]:
    """Each cap field's usage as a fraction of the organization's enforced quota (None: no such quota,
    or a zero one)."""
    shares: dict[str, Fraction | None] = {}
    for field, key in CAP_KEYS.items():
        limit = hard.get(key)
        shares[field] = used.get(key, Fraction(0)) / limit if limit else None
    return shares
