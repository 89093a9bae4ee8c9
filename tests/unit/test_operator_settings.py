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
