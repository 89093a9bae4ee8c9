"""Two replicas, as the chart runs them (ORGQUOTA_PEERING, the chart's identity): exactly one acts; when it
is killed (SIGKILL: no goodbye to its peers) the other takes over and converges every organization.

Kopf's peering has no leases to steal: a crashed peer stays in the peering object until its 60 s
lifetime runs out, so the takeover takes up to a minute. The test measures it and prints it.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from tests.support.catalog import apply_catalog, assert_bad_catalog_rejected, set_catalog_cpu
from tests.support.cluster import assert_cpu, new_org
from tests.support.release import PEERING, Identity, Replica, install_webhooks, replica
from tests.support.waiting import eventually

PLAN = "billing.kube-dc.com/plan-id"
# requests.cpu of each plan with the tests' 3 projects x 100m of overhead
CPU = {"dev-pool": "4300m", "pro-pool": "8300m", "scale-pool": "32300m"}
PEER_LIFETIME = 60  # Kopf's default peering lifetime, seconds
TAKEOVER_TIMEOUT = PEER_LIFETIME + 60


@dataclass
class Setup:
    cluster: Cluster
    identity: Identity
    workdir: Path


@pytest.fixture(scope="module")
def setup(isolated_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    workdir = tmp_path_factory.mktemp("ha")
    identity = Identity.create(isolated_cluster, workdir)
    apply_catalog(isolated_cluster)
    yield Setup(isolated_cluster, identity, workdir)
    identity.remove()


def _peers(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """Who is in the peering object: pod id -> {priority, lifetime, lastseen}."""
    status: dict[str, dict[str, Any]] = cluster.get_json("clusterkopfpeering", PEERING).get("status") or {}
    return status


def _both_registered(cluster: Cluster, replicas: list[Replica]) -> None:
    assert {r.pod_id for r in replicas} <= set(_peers(cluster))


def _reconciles(r: Replica) -> float:
    return r.process.metric("orgquota_reconciles_total")


def _in_log(r: Replica, text: str) -> Callable[[], None]:
    def check() -> None:
        assert text in r.process.log(), f"{r.pod_id} has not logged {text!r}"

    return check


def test_one_replica_acts_and_the_other_takes_over_after_a_crash(setup: Setup) -> None:
    cluster = setup.cluster
    a, b, c, d = (new_org(cluster, {PLAN: plan}) for plan in ("dev-pool", "dev-pool", "pro-pool", "pro-pool"))
    replicas = [replica(cluster, setup.identity, setup.workdir, f"orgquota-e2e-{n}") for n in ("a", "b")]
    try:
        replicas[0].process.start()
        for org, plan in ((a, "dev-pool"), (b, "dev-pool"), (c, "pro-pool"), (d, "pro-pool")):
            eventually(lambda org=org, plan=plan: assert_cpu(cluster, org, CPU[plan]))  # type: ignore[misc]
        replicas[1].process.start()
        eventually(lambda: _both_registered(cluster, replicas), timeout=30)
        peers = _peers(cluster)
        active, standby = sorted(replicas, key=lambda r: peers[r.pod_id]["priority"], reverse=True)
        if active is replicas[1]:  # the newcomer outranks the first one, which steps back
            eventually(_in_log(replicas[0], "Pausing operations in favour of"), timeout=30)
        print(f"\nactive: {active.pod_id}, standby: {standby.pod_id} (priorities {peers})")

        # Exactly one acts: a plan change is reconciled by the active replica only.
        active_before, standby_before = _reconciles(active), _reconciles(standby)
        cluster.kubectl("annotate", "organization", a, "-n", a, f"{PLAN}=scale-pool", "--overwrite")
        eventually(lambda: assert_cpu(cluster, a, CPU["scale-pool"]))
        active.process.wait_idle()
        assert _reconciles(active) > active_before
        assert _reconciles(standby) == standby_before, "the paused replica reconciled too"

        # Both are alive and ready as the chart probes them (a paused replica still serves the webhooks).
        for r in replicas:
            with urllib.request.urlopen(f"http://127.0.0.1:{r.health_port}/healthz", timeout=5) as response:
                assert response.status == 200, r.pod_id

        # The webhooks answer from either replica (the paused one reads what it judges by from the API).
        for serving in (active, standby):  # ends pointing at the standby: it must answer after the crash
            if install_webhooks(cluster, serving) is not None:
                assert_bad_catalog_rejected(cluster)

        # The crash: SIGKILL, so the active replica cannot take itself out of the peering object.
        lastseen = datetime.fromisoformat(_peers(cluster)[active.pod_id]["lastseen"]).replace(tzinfo=UTC)
        assert active.process.proc is not None
        standby_log_before = len(standby.process.log())
        killed_at = time.monotonic()
        active.process.proc.kill()
        active.process.proc.wait()
        since_keepalive = (datetime.now(UTC) - lastseen).total_seconds()

        # Changes made while no replica acts: a plan, the catalog, deleted quotas (of an organization the
        # standby's memory has stale, and of one nothing else changed about: only a re-read finds that).
        cluster.kubectl("annotate", "organization", c, "-n", c, f"{PLAN}=scale-pool", "--overwrite")
        set_catalog_cpu(cluster, "dev-pool", "5")  # b: 5 + 0.3
        cluster.kubectl("delete", "hrq", "plan-quota", "-n", a)
        cluster.kubectl("delete", "hrq", "plan-quota", "-n", d)
        eventually(lambda: assert_cpu(cluster, c, CPU["scale-pool"]), timeout=TAKEOVER_TIMEOUT, interval=0.2)
        takeover = time.monotonic() - killed_at
        eventually(lambda: assert_cpu(cluster, b, "5300m"), timeout=10)
        eventually(lambda: assert_cpu(cluster, a, CPU["scale-pool"]), timeout=10)
        eventually(lambda: assert_cpu(cluster, d, CPU["pro-pool"]), timeout=10)
        converged = time.monotonic() - killed_at
        assert "Resuming operations" in standby.process.log()[standby_log_before:]
        assert standby.pod_id in _peers(cluster)
        eventually(lambda: _gone_from_peers(cluster, active.pod_id), timeout=30)  # the survivor cleans it up
        print(
            f"takeover after SIGKILL: {takeover:.1f}s (the killed replica's last keep-alive was "
            f"{since_keepalive:.1f}s old, Kopf's peer lifetime {PEER_LIFETIME}s); all converged after {converged:.1f}s"
        )
        assert takeover < TAKEOVER_TIMEOUT
    finally:
        for r in replicas:
            r.process.stop()
        cluster.kubectl("delete", "validatingwebhookconfiguration", "orgquota.kube-dc.com", "--ignore-not-found")
        set_catalog_cpu(cluster, "dev-pool", "4")


def _gone_from_peers(cluster: Cluster, pod_id: str) -> None:
    assert pod_id not in _peers(cluster)
