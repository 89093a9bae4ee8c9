"""Operator settings, read once from the environment (docs/operator.md's settings table).

The fields the API shares, and the reading rules, are `orgquota.settings.SharedSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from ipaddress import IPv4Address
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field, IPvAnyAddress

from orgquota.core.durations import DurationError, parse_duration
from orgquota.settings import SharedSettings

ENVIRONMENT = {
    **SharedSettings.ENVIRONMENT,
    "workers": "ORGQUOTA_WORKERS",
    "webhook_cert": "ORGQUOTA_WEBHOOK_CERT",
    "webhook_key": "ORGQUOTA_WEBHOOK_KEY",
    "webhook_port": "ORGQUOTA_WEBHOOK_PORT",
    "metrics_port": "ORGQUOTA_METRICS_PORT",
    "metrics_host": "ORGQUOTA_METRICS_HOST",
    "health_port": "ORGQUOTA_HEALTH_PORT",
    "peering": "ORGQUOTA_PEERING",
    "grace_period": "ORGQUOTA_GRACE_PERIOD",
    "grace_warning": "ORGQUOTA_GRACE_WARNING",
    "canceled_resync": "ORGQUOTA_CANCELED_RESYNC",
    "usage_interval": "ORGQUOTA_USAGE_INTERVAL",
}


def _duration(value: object) -> object:
    """`7d`, `12h`, `1h30m`, `45s` or plain seconds; anything else is left to pydantic (ISO 8601 `P7D`)."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except DurationError:
            return value
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Settings(SharedSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = ENVIRONMENT

    workers: Annotated[int, Field(ge=1, le=256)] = 16
    webhook_cert: str = ""
    """PEM certificate of the webhook server; webhooks are served only when it is set"""
    webhook_key: str = ""
    webhook_port: Annotated[int, Field(ge=1, le=65535)] = 9443
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    """Prometheus metrics; 0 turns them off"""
    metrics_host: IPvAnyAddress = IPv4Address("0.0.0.0")
    """the address the metrics server listens on: every interface in a pod, loopback for `make run`"""
    health_port: Annotated[int, Field(ge=0, le=65535)] = 0
    """Kopf's liveness endpoint `/healthz`; 0 turns it off"""
    peering: str = ""
    """Kopf peering name for several replicas (one active); empty runs standalone"""
    grace_period: Duration = timedelta(days=7)
    """how long an organization stays suspended before it is canceled"""
    grace_warning: Duration = timedelta(days=1)
    """how long before the end of the grace period a Warning event is posted"""
    canceled_resync: Duration = timedelta(minutes=1)
    """how often a canceled organization's namespaces are checked for workloads started since"""
    usage_interval: Duration = timedelta(seconds=30)
    """the least time between two usage-only status writes of one organization"""

    @property
    def webhooks(self) -> bool:
        return bool(self.webhook_cert)
