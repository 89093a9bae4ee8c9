"""Trials end to end: the operator ends a quota-only trial at `trial-ends-at`, also after a restart, and leaves a
trial that a provider subscription carries to the provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orgquota.core import annotations as ann
from orgquota.core.timestamps import format_rfc3339, parse_rfc3339
from tests.support.catalog import FLOOR, WORKED_EXAMPLE
from tests.support.operator_process import OperatorProcess
from tests.support.orgs import Orgs
from tests.support.waiting import assert_eq, consistently, eventually

TURBO = '[{"addonId":"turbo-x1","quantity":1}]'


def trialing(ends: datetime, **more: str) -> dict[str, str]:
    return {
        ann.PLAN_ID: "pro-pool",
        ann.SUBSCRIPTION: "trialing",
        ann.ADDONS: TURBO,
        ann.TRIAL_ENDS_AT: format_rfc3339(ends),
        **more,
    }


def stored(orgs: Orgs, name: str) -> dict[str, str]:
    body = orgs.get("organization", name, name)
    assert body is not None
    return dict(body["metadata"].get("annotations") or {})


def test_a_trial_ends_at_its_time_and_the_floor_follows(orgs: Orgs, operator: OperatorProcess) -> None:
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
    name = orgs.create(trialing(ends))
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    eventually(lambda: orgs.has_event(name, "TrialEnding", format_rfc3339(ends)))
    eventually(lambda: assert_eq(stored(orgs, name)[ann.SUBSCRIPTION], "suspended"), timeout=60)
    suspended_at = parse_rfc3339(stored(orgs, name)[ann.SUSPENDED_AT])
    assert ends <= suspended_at < ends + timedelta(seconds=5)  # at the end by a timer, not at a later sweep
    assert stored(orgs, name)[ann.TRIAL_ENDS_AT] == format_rfc3339(ends)  # the one trial stays recorded
    eventually(lambda: assert_eq(orgs.hard(name), FLOOR))
    eventually(lambda: orgs.has_event(name, "TrialEnded", "", "Warning"))


def test_a_trial_that_ended_while_the_operator_was_down_ends_when_it_is_back(
    orgs: Orgs, operator: OperatorProcess
) -> None:
    name = orgs.create(trialing(datetime.now(UTC) + timedelta(days=1)))
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    operator.stop()
    try:
        ended = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        orgs.annotate(name, f"{ann.TRIAL_ENDS_AT}={format_rfc3339(ended)}")
    finally:
        operator.start()
    eventually(lambda: assert_eq(stored(orgs, name)[ann.SUBSCRIPTION], "suspended"), timeout=60)
    eventually(lambda: assert_eq(orgs.hard(name), FLOOR))


def test_a_trial_a_provider_subscription_carries_is_not_ended_by_the_operator(
    orgs: Orgs, operator: OperatorProcess
) -> None:
    ended = datetime.now(UTC) - timedelta(hours=1)
    name = orgs.create(trialing(ended, **{ann.PROVIDER_SUBSCRIPTION_ID: "sub_trial"}))
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    consistently(lambda: assert_eq(stored(orgs, name)[ann.SUBSCRIPTION], "trialing"), 3)
    assert orgs.hard(name) == WORKED_EXAMPLE
