"""What can be bought: `/plans` and `/addons`, as the billing page shows them.

Kubernetes quantities are strings as the catalog writes them (`"8"`, `"24Gi"`); figures for
people are numbers (cores, GiB); prices are numbers in the plan's currency.
"""

from __future__ import annotations

from orgquota.api.schema.envelope import AnswerModel


class Resources(AnswerModel):
    """Resources for people: cores and GiB."""

    cpu: float
    """cores"""
    memory: float
    """GiB"""
    storage: float
    """GiB"""


class PlanRequests(AnswerModel):
    """The plan's requests quota as Kubernetes quantities."""

    cpu: str
    memory: str
    storage: str


class Plan(AnswerModel):
    id: str
    displayName: str
    """the catalog's display name, else the id"""
    description: str
    price: float
    """per month, in `currency`; 0 when the catalog gives none"""
    currency: str
    recommended: bool
    objectStorage: str | None
    """a Kubernetes quantity; null when the plan has none"""
    ipv4: int | None
    """public IPv4 addresses the plan advertises; null when the catalog does not say"""
    features: list[str]
    requests: PlanRequests
    pods: int
    servicesLB: int
    """LoadBalancer services"""
    burstRatio: float
    """limits.cpu and limits.memory = requests x this ratio"""
    resources: Resources
    """`requests` for people"""


class Addon(AnswerModel):
    id: str
    displayName: str
    """the catalog's display name, else the id"""
    description: str
    price: float
    """per month and unit, in `currency`; 0 when the catalog gives none"""
    currency: str
    cpu: str
    """what one unit adds, as a Kubernetes quantity"""
    memory: str
    storage: str
