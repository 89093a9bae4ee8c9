"""The trial clock and who may start a trial (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orgquota.core import annotations as ann
from orgquota.core.trials import Step, TrialDecision, live_state, trial_clock

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ENDS = "2026-12-10T12:00:00Z"


def trial(**more: str) -> dict[str, str]:
    return {ann.PLAN_ID: "pro-pool", ann.SUBSCRIPTION: "trialing", ann.TRIAL_ENDS_AT: ENDS, **more}


@pytest.mark.parametrize(
    ("now", "decision"),
    [
        (NOW, TrialDecision(Step.NOTHING, NOW + timedelta(days=9), timedelta(days=6))),
        (NOW + timedelta(days=7), TrialDecision(Step.NOTICE, NOW + timedelta(days=9), timedelta(days=2))),
        (NOW + timedelta(days=9), TrialDecision(Step.END, NOW + timedelta(days=9))),
        (NOW + timedelta(days=90), TrialDecision(Step.END, NOW + timedelta(days=9))),
    ],
)
def test_the_clock_wakes_for_the_notice_then_the_end(now: datetime, decision: TrialDecision) -> None:
    assert trial_clock(trial(), now) == decision


@pytest.mark.parametrize(
    "annotations",
    [
        trial(**{ann.PROVIDER_SUBSCRIPTION_ID: "sub_1"}),
        trial(**{ann.SUBSCRIPTION: "active"}),
        trial(**{ann.TRIAL_ENDS_AT: "soon"}),
        {ann.PLAN_ID: "pro-pool", ann.SUBSCRIPTION: "trialing"},
    ],
)
def test_nothing_is_ended_that_the_operator_does_not_own_or_cannot_read(annotations: dict[str, str]) -> None:
    assert trial_clock(annotations, NOW + timedelta(days=100)) == TrialDecision(Step.NOTHING)


def test_a_live_subscription_is_any_plan_not_lost() -> None:
    assert live_state({}) is None
    assert live_state({ann.PLAN_ID: "x"}) == "active"
    assert live_state({ann.PLAN_ID: "x", ann.SUBSCRIPTION: "past_due"}) == "past_due"
    assert live_state({ann.PLAN_ID: "x", ann.SUBSCRIPTION: "suspended"}) is None
    assert live_state({ann.PROVIDER_SUBSCRIPTION_ID: "sub_1"}) == "active"
