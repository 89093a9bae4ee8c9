"""Projects (namespaces) the caller may see: `/projects` and `/project/{namespace}/overview`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from typing_extensions import TypeAliasType

from orgquota.api.schema.envelope import AnswerModel


class Compute(AnswerModel):
    """What the namespace's unfinished pods request."""

    pods: int
    cpu: float
    """cores"""
    memory: float
    """GiB"""


class Project(AnswerModel):
    namespace: str
    organization: str
    """the root of the namespace's HNC tree"""
    usage: Compute


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
