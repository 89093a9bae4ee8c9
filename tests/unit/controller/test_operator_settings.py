"""The operator's settings from the environment: the metrics address (loopback for `make run`)."""

from __future__ import annotations

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
