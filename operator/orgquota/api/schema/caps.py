"""Project caps: the answers about them (`PUT`/`DELETE /project/{namespace}/cap`, `/projects`).

Quantities are as Kubernetes writes them (strings, `"2"`, `"4Gi"`), pods a number; a cap field
that is null caps nothing.
"""

from __future__ import annotations

from orgquota.api.schema.envelope import AnswerModel


class CapValues(AnswerModel):
    cpu: str | None
    memory: str | None
    storage: str | None
    pods: int | None


class CapViolation(AnswerModel):
    """A resource the project already uses more of than the cap allows."""

    resource: str
    """the HRQ resource: `requests.cpu`, `requests.memory`, `requests.storage`, `pods`"""
    used: str
    cap: str
    pods: list[str]
    """the pods above the cap: oldest first, those it would not have let in (`sub/name` below the project)"""
    claims: list[str]
    """the PersistentVolumeClaims above a storage cap, named likewise"""


class PlanExcess(AnswerModel):
    resource: str
    capsTotal: str
    """all the organization's caps of this resource added up"""
    quota: str
    """the organization's enforced quota (its HRQ plan-quota)"""


class CapChange(AnswerModel):
    """What a cap's change did (or, with `dryRun`, would do)."""

    namespace: str
    cap: CapValues | None
    """the project's cap now (null: none)"""
    dryRun: bool
    changed: bool
    """whether the organization's caps were (would be) changed"""
    violations: list[CapViolation]
    """what already runs above the new cap (accepted with `belowUsage`)"""
    capsTotal: CapValues
    """all the organization's caps added up"""
    exceedsPlan: list[PlanExcess]
    """resources whose caps add up to more than the organization's quota: allowed, since a cap bounds
    one project and reserves nothing"""
    message: str


class ProjectShare(AnswerModel):
    """The project's usage as a fraction of the organization's enforced quota (null: no such quota)."""

    cpu: float | None
    memory: float | None
    storage: float | None
    pods: float | None
