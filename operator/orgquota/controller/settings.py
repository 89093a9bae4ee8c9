"""Operator settings, read once from the environment (docs/operator.md's settings table).

The fields the API shares, and the reading rules, are `orgquota.settings.SharedSettings`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Annotated, Any, ClassVar, Final, Self

from pydantic import Field, IPvAnyAddress, model_validator

from orgquota.core.lease import LeaseTimings
from orgquota.settings import Duration, SharedSettings

DEFAULT_LEASE_NAMESPACE: Final = "orgquota"

ENVIRONMENT = {
    **SharedSettings.ENVIRONMENT,
    "workers": "ORGQUOTA_WORKERS",
    "webhook_cert": "ORGQUOTA_WEBHOOK_CERT",
    "webhook_key": "ORGQUOTA_WEBHOOK_KEY",
    "webhook_client_ca": "ORGQUOTA_WEBHOOK_CLIENT_CA",
    "webhook_port": "ORGQUOTA_WEBHOOK_PORT",
    "metrics_port": "ORGQUOTA_METRICS_PORT",
    "metrics_host": "ORGQUOTA_METRICS_HOST",
    "health_port": "ORGQUOTA_HEALTH_PORT",
    "leader_election": "ORGQUOTA_LEADER_ELECTION",
    "lease_namespace": "ORGQUOTA_LEASE_NAMESPACE",
    "lease_duration": "ORGQUOTA_LEASE_DURATION",
    "lease_renew_deadline": "ORGQUOTA_LEASE_RENEW_DEADLINE",
    "lease_retry_period": "ORGQUOTA_LEASE_RETRY_PERIOD",
    "pod_id": "POD_ID",
    "grace_warning": "ORGQUOTA_GRACE_WARNING",
    "canceled_resync": "ORGQUOTA_CANCELED_RESYNC",
    "usage_interval": "ORGQUOTA_USAGE_INTERVAL",
    "clock_offset": "ORGQUOTA_CLOCK_OFFSET",
}


class Settings(SharedSettings):
    ENVIRONMENT: ClassVar[Mapping[str, str]] = ENVIRONMENT

    workers: Annotated[int, Field(ge=1, le=256)] = 16
    webhook_cert: str = ""
    """PEM certificate of the webhook server; webhooks are served only when it is set"""
    webhook_key: str = ""
    webhook_client_ca: str = ""
    """PEM CA bundle of the apiserver's client certificate for webhooks: set, a review without a
    certificate it signed is refused at the TLS handshake (no other pod can send the webhooks reviews)"""
    webhook_port: Annotated[int, Field(ge=1, le=65535)] = 9443
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    """Prometheus metrics; 0 turns them off"""
    metrics_host: IPvAnyAddress = IPv4Address("0.0.0.0")
    """the address the metrics server listens on: every interface in a pod, loopback for `make run`"""
    health_port: Annotated[int, Field(ge=0, le=65535)] = 0
    """Kopf's liveness endpoint `/healthz`; 0 turns it off"""
    leader_election: bool = False
    """several replicas: the one holding the Lease reconciles; a lone process needs none"""
    lease_namespace: str = DEFAULT_LEASE_NAMESPACE
    """where the Lease is: ORGQUOTA_LEASE_NAMESPACE, else the pod's namespace (POD_NAMESPACE)"""
    lease_duration: Annotated[int, Field(ge=1, le=3600)] = 5
    lease_renew_deadline: Annotated[float, Field(gt=0)] = 3.0
    lease_retry_period: Annotated[float, Field(gt=0)] = 1.0
    pod_id: str = ""
    """the holder's identity as the chart sets it (the pod's name); else the host name and process id"""
    grace_warning: Duration = timedelta(days=1)
    """how long before the end of the grace period a Warning event is posted"""
    canceled_resync: Duration = timedelta(minutes=1)
    """how often a canceled organization's namespaces are checked for workloads started since"""
    usage_interval: Duration = timedelta(seconds=30)
    """the least time between two usage-only status writes of one organization"""
    clock_offset: Duration = timedelta(0)
    """added to the time the operator's clocks (trials, the grace period) read: tests and benches move time on
    without waiting (`ORGQUOTA_CLOCK_OFFSET=14d`); never set in production"""

    def now(self) -> datetime:
        """The time the operator's clocks read: the real time, moved by `clock_offset`."""
        return datetime.now(UTC) + self.clock_offset

    @classmethod
    def extra_values(cls, environ: Mapping[str, str]) -> dict[str, Any]:
        if environ.get(ENVIRONMENT["lease_namespace"], "").strip():
            return {}
        pod_namespace = environ.get("POD_NAMESPACE", "").strip()
        return {"lease_namespace": pod_namespace} if pod_namespace else {}

    @model_validator(mode="after")
    def _lease_timings(self) -> Self:
        _ = self.lease_timings  # raises for timings that leave no room between them
        return self

    @property
    def lease_timings(self) -> LeaseTimings:
        try:
            return LeaseTimings(self.lease_duration, self.lease_renew_deadline, self.lease_retry_period)
        except ValueError:
            names = [ENVIRONMENT[f"lease_{name}"] for name in ("retry_period", "renew_deadline", "duration")]
            raise ValueError(" < ".join(names) + " is needed") from None

    @property
    def identity(self) -> str:
        """Who holds the Lease when this process does."""
        return self.pod_id or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def webhooks(self) -> bool:
        return bool(self.webhook_cert)
