"""Project caps: how much of the plan an org-admin lets one project (a namespace of the tree) take.

Caps live on the Organization as the `project-caps` annotation, JSON by namespace
(`{"acme-dev": {"cpu": "2", "memory": "4Gi", "storage": "10Gi", "pods": 20}}`), and each one is
enforced as an HRQ `project-cap` in its namespace, beside the organization's `plan-quota` (HNC
enforces both). The annotation is read all or nothing: a hand edit that does not parse changes
no cap, because a half-read map would lift the caps of the entries it drops.

A cap holds requests only (`requests.cpu`, `requests.memory`, `requests.storage`, `pods`), the
figures a plan sells; limits are not capped per project (burst stays bounded by the
organization's `limits.*`), so a pod is never refused by a project's cap for its limits alone.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from orgquota.core.annotations import PREFIX
from orgquota.core.limits import HARD_UNITS, above_maximum, briefly
from orgquota.core.manifests import hrq_manifest, managed_labels
from orgquota.core.quantity import Quantity, QuantityError, shown

PROJECT_CAPS: Final = PREFIX + "project-caps"
CAP_NAME: Final = "project-cap"
"""the HRQ that enforces a project's cap, in the project's namespace"""
ORGANIZATION_LABEL: Final = PREFIX + "organization"
"""on a `project-cap` HRQ: the namespace of the organization whose cap it is (its owner)"""

CAP_KEYS: Final = {"cpu": "requests.cpu", "memory": "requests.memory", "storage": "requests.storage", "pods": "pods"}
"""a cap's fields and the HRQ resources they become"""
_NAMESPACE: Final = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class CapsError(ValueError):
    """Caps that must not be written or enforced; `problems` name each bad part."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ProjectCap:
    hard: Mapping[str, Quantity]
    """`spec.hard` of the project's HRQ: only the resources the cap names"""

    def written(self) -> dict[str, str | int]:
        """The cap as the annotation (and the API) spell it: quantities as strings, pods a number."""
        spelled: dict[str, str | int] = {}
        for field, key in CAP_KEYS.items():
            if key in self.hard:
                value = self.hard[key]
                spelled[field] = value.value.numerator if field == "pods" else str(value)
        return spelled

    def shown(self) -> dict[str, str | int | None]:
        """Every field, null where the cap says nothing."""
        written = self.written()
        return {field: written.get(field) for field in CAP_KEYS}


def parse_cap(entry: Any, where: str = "cap") -> ProjectCap:
    """One cap, `{cpu?, memory?, storage?, pods?}`: at least one, none negative, each a value
    Kubernetes holds exactly (`limits`); CapsError naming every bad field."""
    fields = ", ".join(CAP_KEYS)
    if not isinstance(entry, dict):
        raise CapsError([f"{where} must be an object of {fields}"])
    problems = [f"{where}: unknown field {shown(key)} (fields: {fields})" for key in entry if key not in CAP_KEYS]
    if not entry:
        problems.append(f"{where} names no resource ({fields}); remove the cap instead")
    hard: dict[str, Quantity] = {}
    for field, key in CAP_KEYS.items():
        if field not in entry:
            continue
        raw = entry[field]
        try:
            value = _count(raw) if field == "pods" else Quantity.parse(raw)
        except QuantityError as exc:
            problems.append(f"{where}.{field}: {exc}")
            continue
        if value.value < 0:
            problems.append(f"{where}.{field}: {shown(raw)} is negative")
        elif why := above_maximum(HARD_UNITS[key], value.value):
            problems.append(f"{where}.{field}: {briefly(value)} is {why}")
        else:
            hard[key] = value
    if problems:
        raise CapsError(problems)
    return ProjectCap(hard)


def _count(raw: Any) -> Quantity:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise QuantityError(f"{shown(raw)} is not a whole number of pods")
    return Quantity.count(raw)


def namespace_problem(namespace: str, organization: str) -> str | None:
    """Why `namespace` cannot carry a cap of `organization` (its tree is the operator's and the API's check)."""
    if not _NAMESPACE.match(namespace):
        return f"{shown(namespace)} is not a namespace name"
    if namespace == organization:
        return f"{namespace} is the organization's own namespace, not a project: its quota is the plan"
    return None


def parse_caps(raw: str | None, *, organization: str, projects_limit: int) -> dict[str, ProjectCap]:
    """The caps of the annotation by namespace (absent or blank: none); CapsError when any part is bad."""
    if raw is None or not raw.strip():
        return {}
    where = PROJECT_CAPS
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(items)
        if len(found) < len(items):
            counts = Counter(key for key, _ in items)
            duplicates.extend(sorted(key for key, count in counts.items() if count > 1))
        return found

    try:
        entries = json.loads(raw, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise CapsError([f"{where} is not valid JSON ({exc.msg})"]) from exc
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, `[[[[...` nested 100000 deep
        raise CapsError([f"{where} cannot be read ({type(exc).__name__}: {str(exc)[:80]})"]) from exc
    if not isinstance(entries, dict):
        raise CapsError([f"{where} must be a JSON object of caps by namespace"])
    problems = [f"{where}: {shown(key)} is given more than once" for key in duplicates]
    if len(entries) > projects_limit:
        problems.append(f"{where} caps {len(entries)} projects, more than the projects limit ({projects_limit})")
    caps: dict[str, ProjectCap] = {}
    for namespace, entry in entries.items():
        problem = namespace_problem(namespace, organization)
        if problem:
            problems.append(f"{where}: {problem}")
            continue
        try:
            caps[namespace] = parse_cap(entry, f"{where}[{namespace}]")
        except CapsError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CapsError(problems)
    return caps


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def caps_annotation(caps: Mapping[str, ProjectCap]) -> str | None:
    """The annotation's value for `caps` (None: no caps, the annotation is removed)."""
    if not caps:
        return None
    written = {namespace: caps[namespace].written() for namespace in sorted(caps)}
    return json.dumps(written, separators=(",", ":"))


def with_cap(
    raw: str | None, namespace: str, cap: ProjectCap | None, *, organization: str, projects_limit: int
) -> str | None:
    """The annotation with `namespace`'s cap set (None: removed); CapsError when the annotation as it is
    cannot be read (nothing may be rewritten from it) or the result caps more than the projects limit."""
    caps = dict(parse_caps(raw, organization=organization, projects_limit=projects_limit))
    if cap is None:
        caps.pop(namespace, None)
    else:
        problem = namespace_problem(namespace, organization)
        if problem:
            raise CapsError([problem])
        caps[namespace] = cap
    if len(caps) > projects_limit:
        raise CapsError([f"{len(caps)} capped projects would be more than the projects limit ({projects_limit})"])
    return caps_annotation(caps)


def caps_total(caps: Mapping[str, ProjectCap]) -> dict[str, Fraction]:
    """What the caps add up to, per HRQ resource some cap names."""
    total: dict[str, Fraction] = {}
    for cap in caps.values():
        for key, value in cap.hard.items():
            total[key] = total.get(key, Fraction(0)) + value.value
    return total


def cap_labels(plan_id: str, organization: str) -> dict[str, str]:
    """The managed labels, and the organization whose cap it is (the HRQ cannot have it as an owner:
    owners must live in the namespace of what they own)."""
    return managed_labels(plan_id) | {ORGANIZATION_LABEL: organization}


def cap_manifest(cap: ProjectCap, labels: Mapping[str, str]) -> dict[str, Any]:
    return hrq_manifest(cap.hard, labels, None, CAP_NAME)
