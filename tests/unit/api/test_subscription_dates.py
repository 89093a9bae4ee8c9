"""`GET /organization-subscription`'s dates: `periodEnd` while a subscription runs, `graceEndsAt` while
suspended (`suspended-at` + ORGQUOTA_GRACE_PERIOD, the operator's clock), null when they do not apply."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.core import annotations as ann
from tests.support.api_cluster import set_annotations
from tests.support.envelope import assert_data
from tests.support.oidc import Issuer

API = "/api/billing"


@pytest.fixture
def settings(issuer: Issuer) -> ApiSettings:
    return ApiSettings.from_env(
        {"OIDC_ISSUER_URL": issuer.url, "ORGANIZATION_PROJECTS_LIMIT": "3", "ORGQUOTA_GRACE_PERIOD": "3d"}
    )


def dates(client: TestClient, cluster: Cluster, admin: dict[str, str], **changes: str | None) -> dict[str, Any]:
    set_annotations(cluster, {ann.PREFIX + key.replace("_", "-"): value for key, value in changes.items()})
    sub = assert_data(client.get(f"{API}/organization-subscription", headers=admin))
    return {key: sub[key] for key in ("status", "periodEnd", "graceEndsAt", "trialEndsAt")}


def test_no_dates_without_a_known_period(client: TestClient, cluster: Cluster, admin: dict[str, str]) -> None:
    assert dates(client, cluster, admin) == {
        "status": "active",
        "periodEnd": None,
        "graceEndsAt": None,
        "trialEndsAt": None,
    }


@pytest.mark.parametrize("state", ["active", "canceling", "past_due", "trialing"])
def test_the_period_end_while_the_subscription_runs(
    client: TestClient, cluster: Cluster, admin: dict[str, str], state: str
) -> None:
    answer = dates(client, cluster, admin, subscription=state, period_end="2026-12-31T00:00:00+01:00")
    assert (answer["periodEnd"], answer["graceEndsAt"]) == ("2026-12-30T23:00:00Z", None)


@pytest.mark.parametrize("state", ["suspended", "canceled"])
def test_no_period_end_once_it_is_over(client: TestClient, cluster: Cluster, admin: dict[str, str], state: str) -> None:
    assert dates(client, cluster, admin, subscription=state, period_end="2026-12-31T00:00:00Z")["periodEnd"] is None


def test_an_unreadable_period_end_is_not_shown(client: TestClient, cluster: Cluster, admin: dict[str, str]) -> None:
    assert dates(client, cluster, admin, period_end="end of month")["periodEnd"] is None


def test_the_grace_period_ends_the_grace_period_after_the_suspension(
    client: TestClient, cluster: Cluster, admin: dict[str, str]
) -> None:
    answer = dates(client, cluster, admin, subscription="suspended", suspended_at="2026-11-20T10:00:00Z")
    assert (answer["status"], answer["graceEndsAt"], answer["periodEnd"]) == ("suspended", "2026-11-23T10:00:00Z", None)


@pytest.mark.parametrize(
    ("state", "suspended_at"),
    [("suspended", None), ("suspended", "yesterday"), ("canceled", "2026-11-20T10:00:00Z")],
)
def test_no_grace_end_without_a_running_clock(
    client: TestClient, cluster: Cluster, admin: dict[str, str], state: str, suspended_at: str | None
) -> None:
    assert dates(client, cluster, admin, subscription=state, suspended_at=suspended_at)["graceEndsAt"] is None
