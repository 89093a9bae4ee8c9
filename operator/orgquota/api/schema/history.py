"""Usage over time (org-admin, from Prometheus): `/usage-history`, `/forecast` and `/recommendations`.

Values are in the units people read, named by `unit`; money is a number in major units.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from orgquota.api.schema.envelope import AnswerModel
from orgquota.api.schema.organization import AddonQuantity, Simulation
from orgquota.core.advice import Kind

Unit = Literal["cores", "GiB", "count"]
Point = tuple[int, float]
"""[unix seconds, value]"""


class UsageHistory(AnswerModel):
    resource: str
    """`cpu`, `memory`, `storage`, `pods`, `services_loadbalancers` or `public_ipv4`"""
    unit: Unit
    range: str
    """the range answered, in seconds (`604800s`)"""
    step: str
    """the step between points, in seconds (`3600s`)"""
    used: list[Point]
    limit: list[Point]
    """the enforced limit over the same range (empty while no limit applies)"""


class Band(AnswerModel):
    """When the slope's 95 % confidence bounds reach the limit."""

    earliest: AwareDatetime | None
    latest: AwareDatetime | None
    """null when the lower bound of the slope is not above 0"""


class ResourceForecast(AnswerModel):
    unit: Unit
    used: float
    limit: float | None
    ratePerDay: float | None
    """the least-squares slope through the daily maxima; null without enough history"""
    runsOutAt: AwareDatetime | None
    """when the line reaches `limit`; null when it never does within 365 days, or without a limit or enough history"""
    band: Band
    fit: float | None
    """r² of the line"""
    enoughHistory: bool
    """at least 7 of the last 30 days have a sample"""


class Forecast(AnswerModel):
    generatedAt: AwareDatetime
    method: str
    """the fixed method's name (`daily-max-ols-30d`)"""
    windowDays: int
    resources: dict[str, ResourceForecast]
    """by resource, as `/usage-history` names them"""


class CurrentCost(AnswerModel):
    planId: str | None
    monthlyCost: float
    """plan + add-ons per month (0 without a plan), in `currency`"""
    currency: str | None
    """the organization's currency when the plan is priced in it, else the plan's; null without a priced plan"""


class Suggestion(AnswerModel):
    kind: Kind
    planId: str | None
    """the plan suggested (the current one for `addon` and `none`); null without a plan"""
    addons: list[AddonQuantity]
    """every add-on the organization would hold"""
    monthlyCostDelta: float
    """suggested monthly cost - current monthly cost, in `current.currency`"""
    reason: str
    simulate: Simulation | None
    """`/simulate-downgrade`'s answer for `planId` with `addons`; null without a plan"""


class Recommendations(AnswerModel):
    current: CurrentCost
    suggestion: Suggestion
