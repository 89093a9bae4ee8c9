"""Projects (namespaces) the caller may see: `/projects` and `/project/{namespace}/overview`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypeAliasType

from orgquota.api.schema.caps import CapValues, ProjectShare
from orgquota.api.schema.envelope import AnswerModel


class Compute(AnswerModel):
    """What the namespace's unfinished pods request."""

    pods: int
    cpu: float
    """cores"""
    memory: float
    """GiB"""


class ProjectUsage(Compute):
    storage: float
    """GiB requested by the namespace's PersistentVolumeClaims"""


class Project(AnswerModel):
    namespace: str
    organization: str
    """the root of the namespace's HNC tree"""
    usage: ProjectUsage
    cap: CapValues | None
    """the project's cap (`PUT /project/{namespace}/cap`); null: none, or the organization's caps cannot be read"""
    share: ProjectShare


class ProjectOverview(AnswerModel):
    """The overview from the namespace itself (no billing service is configured)."""

    namespace: str
    compute: Compute
    billing: None
    """always null here: billing data comes only from the billing service"""


Overview = TypeAliasType(
    "Overview",
    ProjectOverview
    | Annotated[
        dict[str, Any],
        Field(description="the billing service's answer, passed through (BILLING_API_URL is set)"),
    ],
)
