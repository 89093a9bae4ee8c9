"""The catalog's `alerts:` section: when a quota is under pressure, and how far ahead a run-out alerts.

Only the operator judges thresholds (`core.pressure`); Prometheus's rules read the outcome
(`orgquota_organization_alert`) and the run-out horizon (`orgquota_catalog_alert_run_out_days`).
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

HYSTERESIS_POINTS: Final = 5
"""an alert clears this many percentage points below the threshold that raised it"""
DEFAULT_WARNING_PERCENT: Final = 80
DEFAULT_CRITICAL_PERCENT: Final = 100
DEFAULT_RUN_OUT_DAYS: Final = 7
MAX_RUN_OUT_DAYS: Final = 365
"""the forecast gives no run-out further away than a year (SPEC §9), so a longer horizon means nothing"""


class AlertThresholds(BaseModel):
    """Percent of a quota's hard limit; a level is reached at or above its threshold.

    `warningPercent` must exceed the hysteresis (5): a warning at 5 % or less could never clear.
    `criticalPercent` is at most 100: HNC admits usage up to exactly the limit, never above it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    warningPercent: Annotated[StrictInt, Field(gt=HYSTERESIS_POINTS, lt=100)] = DEFAULT_WARNING_PERCENT
    criticalPercent: Annotated[StrictInt, Field(gt=HYSTERESIS_POINTS, le=100)] = DEFAULT_CRITICAL_PERCENT
    runOutDays: Annotated[StrictInt, Field(ge=1, le=MAX_RUN_OUT_DAYS)] = DEFAULT_RUN_OUT_DAYS
    """days ahead within which a forecast run-out alerts (`OrgQuotaRunsOut`)"""

    @model_validator(mode="after")
    def _ordered(self) -> AlertThresholds:
        if self.criticalPercent <= self.warningPercent:
            raise ValueError(
                f"criticalPercent ({self.criticalPercent}) must be above warningPercent ({self.warningPercent})"
            )
        return self
