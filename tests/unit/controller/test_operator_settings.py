"""The operator's settings from the environment: the metrics address (loopback for `make run`)."""

from __future__ import annotations

import os
from ipaddress import ip_address

import pytest

from orgquota.controller.settings import Settings


def test_metrics_listen_on_every_interface_unless_told() -> None:
    assert Settings.from_env({}).metrics_host == ip_address("0.0.0.0")
    assert Settings.from_env({"ORGQUOTA_METRICS_HOST": "127.0.0.1"}).metrics_host == ip_address("127.0.0.1")
    assert Settings.from_env({"ORGQUOTA_METRICS_HOST": "::1"}).metrics_host == ip_address("::1")


@pytest.mark.parametrize("value", ["localhost", "127.0.0.256", "0.0.0.0:8080"])
def test_a_metrics_host_that_is_not_an_address_is_refused_by_name(value: str) -> None:
    with pytest.raises(SystemExit, match=f"ORGQUOTA_METRICS_HOST='{value}'"):
        Settings.from_env({"ORGQUOTA_METRICS_HOST": value})


def test_the_operator_and_the_api_refuse_the_same_shared_values() -> None:
    """The projects limit and the log level are read once for both processes, with the same bounds."""
    from orgquota.api.settings import ApiSettings

    for environ in ({"ORGANIZATION_PROJECTS_LIMIT": "10001"}, {"ORGQUOTA_LOG_LEVEL": "loud"}):
        [(variable, value)] = environ.items()
        with pytest.raises(SystemExit, match=f"orgquota: invalid setting: {variable}='{value}'"):
            Settings.from_env(environ)
        with pytest.raises(SystemExit, match=f"orgquota api: invalid setting: {variable}='{value}'"):
            ApiSettings.from_env({"OIDC_ISSUER_URL": "https://issuer.example", **environ})
    limit = {"ORGANIZATION_PROJECTS_LIMIT": "10000"}
    assert (
        Settings.from_env(limit).quota == ApiSettings.from_env({"OIDC_ISSUER_URL": "https://x.example", **limit}).quota
    )


def test_leader_election_is_off_for_a_lone_process_and_its_lease_lives_in_the_pods_namespace() -> None:
    lone = Settings.from_env({})
    assert not lone.leader_election
    assert lone.lease_namespace == "orgquota"
    chart = Settings.from_env({"ORGQUOTA_LEADER_ELECTION": "true", "POD_NAMESPACE": "billing", "POD_ID": "orgquota-0"})
    assert chart.leader_election
    assert (chart.lease_namespace, chart.identity) == ("billing", "orgquota-0")
    assert Settings.from_env({"POD_NAMESPACE": "billing", "ORGQUOTA_LEASE_NAMESPACE": "elsewhere"}).lease_namespace == (
        "elsewhere"
    )
    assert lone.identity.endswith(f"-{os.getpid()}")  # host name and process id


def test_lease_timings_that_leave_no_room_are_refused_naming_the_variables() -> None:
    timings = Settings.from_env({"ORGQUOTA_LEASE_DURATION": "10", "ORGQUOTA_LEASE_RENEW_DEADLINE": "6"}).lease_timings
    assert (timings.duration, timings.renew_deadline, timings.retry_period) == (10, 6.0, 1.0)
    with pytest.raises(
        SystemExit, match="ORGQUOTA_LEASE_RETRY_PERIOD < ORGQUOTA_LEASE_RENEW_DEADLINE < ORGQUOTA_LEASE_DURATION"
    ):
        Settings.from_env({"ORGQUOTA_LEASE_RENEW_DEADLINE": "5"})
