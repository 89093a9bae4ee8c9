"""Subscription lifecycle end to end: the grace period, canceled organizations stopped and restored, usage."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
from typing import Any

import pytest

from localcluster.kubectl import Cluster
from orgquota.controller.inventory import OrgView, org_log
from orgquota.controller.settings import Settings
from orgquota.controller.suspension import Suspension
from orgquota.core.desired import DesiredQuota, Mode, Reason
from orgquota.kube.client import Kube
from orgquota.kube.events import EventRecorder
from tests.support.cluster import apply_ok
from tests.support.files import E2E_QUOTA_DIR
from tests.support.operator_process import GRACE_SECONDS, USAGE_INTERVAL_SECONDS, OperatorProcess
from tests.support.orgs import Orgs
from tests.support.tree import admitted, hrq_used, pod, quota_ready
from tests.support.tree import project as make_project
from tests.support.waiting import assert_eq, eventually, present

SUBSCRIPTION = "billing.kube-dc.com/subscription"
SUSPENDED_AT = "billing.kube-dc.com/suspended-at"
PRE_REPLICAS = "billing.kube-dc.com/pre-suspend-replicas"
PRE_SUSPEND = "billing.kube-dc.com/pre-suspend-suspend"


def workload(kind: str, namespace: str, name: str, replicas: int | None = None, suspend: bool | None = None) -> str:
    container = {"name": "app", "image": "registry.example/app:1"}
    template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}
    spec: dict[str, Any]
    if kind == "CronJob":
        job_template = {"spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}}}
        spec = {"schedule": "*/5 * * * *", "suspend": suspend, "jobTemplate": job_template}
        api = "batch/v1"
    else:
        spec = {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template}
        if kind == "StatefulSet":
            spec["serviceName"] = name
        api = "apps/v1"
    return json.dumps(
        {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    )


def get(cluster: Cluster, kind: str, namespace: str, name: str) -> dict[str, Any]:
    result: dict[str, Any] = cluster.get_json(kind, name, "-n", namespace)
    return result


def state(cluster: Cluster, kind: str, namespace: str, name: str) -> tuple[object, object]:
    """(replicas or suspend, the memory annotation) of a workload."""
    obj = get(cluster, kind, namespace, name)
    annotations = obj["metadata"].get("annotations") or {}
    if kind == "cronjob":
        return obj["spec"].get("suspend"), annotations.get(PRE_SUSPEND)
    return obj["spec"].get("replicas"), annotations.get(PRE_REPLICAS)


def annotation(orgs: Orgs, name: str, key: str) -> str | None:
    org = orgs.get("organization", name, name)
    assert org is not None
    value: str | None = (org["metadata"].get("annotations") or {}).get(key)
    return value


def test_grace_period_cancels_stops_workloads_and_reactivation_restores_them(
    cluster: Cluster, orgs: Orgs, operator: OperatorProcess
) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", SUBSCRIPTION: "active"})
    project = make_project(cluster, name, "web")
    for manifest in (
        workload("Deployment", name, "api", replicas=3),
        workload("StatefulSet", project, "db", replicas=2),
        workload("CronJob", project, "report", suspend=False),
        workload("CronJob", name, "paused", suspend=True),
    ):
        cluster.kubectl("apply", "-f", "-", input=manifest)

    orgs.annotate(name, f"{SUBSCRIPTION}=suspended")
    started = eventually(lambda: present(annotation(orgs, name, SUSPENDED_AT)))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", started)
    operator.restart()  # the clock is the annotation, not the process
    eventually(lambda: assert_eq(annotation(orgs, name, SUBSCRIPTION), "canceled"), timeout=GRACE_SECONDS + 30)
    for reason in ("GracePeriodStarted", "GracePeriodEnding", "GracePeriodExpired"):
        eventually(functools.partial(orgs.has_event, name, reason))

    stopped = [  # one pass stops them all, object by object: wait for the whole picture
        ("deployment", name, "api", (0, "3")),
        ("statefulset", project, "db", (0, "2")),
        ("cronjob", project, "report", (True, "false")),
        ("cronjob", name, "paused", (True, "true")),
    ]
    eventually(
        lambda: assert_eq([state(cluster, kind, ns, obj) for kind, ns, obj, _ in stopped], [s for *_, s in stopped])
    )
    eventually(lambda: assert_eq(orgs.status(name).get("workloadsStopped"), True))
    eventually(lambda: orgs.has_event(name, "WorkloadsStopped"))

    cluster.kubectl("apply", "-f", "-", input=workload("Deployment", project, "late", replicas=2))
    eventually(lambda: assert_eq(state(cluster, "deployment", project, "late"), (0, "2")))  # started while canceled

    orgs.annotate(name, f"{SUBSCRIPTION}=active")
    restored = [  # one pass restores them all, object by object: wait for the whole picture
        ("deployment", name, "api", (3, None)),
        ("statefulset", project, "db", (2, None)),
        ("cronjob", project, "report", (False, None)),
        ("cronjob", name, "paused", (True, None)),
        ("deployment", project, "late", (2, None)),
    ]
    eventually(
        lambda: assert_eq([state(cluster, kind, ns, obj) for kind, ns, obj, _ in restored], [s for *_, s in restored])
    )
    eventually(lambda: assert_eq(annotation(orgs, name, SUSPENDED_AT), None))  # the next suspension starts anew
    eventually(lambda: assert_eq(orgs.status(name).get("workloadsStopped"), False))
    eventually(lambda: orgs.has_event(name, "WorkloadsRestored"))


def test_a_clock_older_than_the_grace_period_cancels_at_once(orgs: Orgs) -> None:
    name = orgs.create(
        {"billing.kube-dc.com/plan-id": "dev-pool", SUBSCRIPTION: "suspended", SUSPENDED_AT: "2026-01-01T00:00:00Z"}
    )
    eventually(lambda: assert_eq(annotation(orgs, name, SUBSCRIPTION), "canceled"))
    eventually(lambda: orgs.reason(name, "Canceled"))
    assert annotation(orgs, name, SUSPENDED_AT) == "2026-01-01T00:00:00Z"  # kept while canceled


def test_an_active_organization_has_no_clock(orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool", SUBSCRIPTION: "active"})
    eventually(lambda: orgs.reason(name, "Applied"))
    assert annotation(orgs, name, SUSPENDED_AT) is None
    assert orgs.status(name)["workloadsStopped"] is False


@pytest.fixture(scope="module")
def eips(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(E2E_QUOTA_DIR / "eip-crd.yaml"))
    cluster.kubectl("wait", "--for=condition=Established", "crd/eips.kube-dc.com", "--timeout=60s")


def pods_use(cluster: Cluster, namespace: str, count: int, cpu: str, memory: str = "128Mi") -> None:
    """Real usage: `count` Pending pods, counted by kube-controller-manager and summed into the HRQ by HNC."""
    eventually(lambda: quota_ready(cluster, namespace))
    admitted(cluster, *(pod(namespace, f"p{i}-{cpu}", cpu=cpu, memory=memory) for i in range(count)))


@pytest.mark.usefixtures("enforcing_cluster")
def test_usage_is_mirrored_into_status(cluster: Cluster, orgs: Orgs, eips: None) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool"})
    eventually(lambda: orgs.reason(name, "Applied"))
    eventually(lambda: apply_ok(cluster, public_eip(name, "ip1")))
    pods_use(cluster, name, 2, cpu="1250m", memory="1536Mi")
    usage = eventually(lambda: _usage(orgs, name, "cpu", "2500m"))
    assert usage["hard"] == {
        "cpu": "8300m",
        "memory": "24960Mi",
        "storage": "160Gi",
        "pods": "200",
        "loadBalancers": "100",
        "publicIPv4": "1",
    }
    eventually(lambda: assert_eq(orgs.status(name)["quotaUsage"]["used"]["publicIPv4"], "1"))
    assert orgs.status(name)["quotaUsage"]["used"]["memory"] == "3Gi"
    assert re.fullmatch(r"\d{4}-.*Z", orgs.status(name)["quotaUsage"]["lastUpdated"])
    over = [c for c in orgs.status(name)["conditions"] if c["type"] == "OverQuota"]
    assert over[0]["status"] == "False"
    wide = cluster.kubectl("get", "organization", name, "-n", name, "-o", "wide").stdout
    assert re.search(r"\s2500m\s+8300m\s+3Gi\s+24960Mi\s+2\s+1\s+False", wide), wide


def public_eip(namespace: str, name: str) -> str:
    return json.dumps(
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "EIp",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {"network.kube-dc.com/external-network-type": "public"},
            },
            "spec": {},
        }
    )


def test_public_eips_in_project_namespaces_count_for_their_organization(
    cluster: Cluster, orgs: Orgs, eips: None
) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "scale-pool"})
    other = orgs.create({"billing.kube-dc.com/plan-id": "scale-pool"})
    eventually(lambda: _usage(orgs, name, "publicIPv4", "0"))
    web = make_project(cluster, name, "web")  # HNC labels it as part of the organization's tree
    eventually(lambda: apply_ok(cluster, public_eip(web, "ip1")))
    eventually(lambda: apply_ok(cluster, public_eip(web, "ip2")))
    eventually(lambda: _usage(orgs, name, "publicIPv4", "2"))
    cluster.kubectl("delete", "eip", "ip1", "-n", web)
    eventually(lambda: _usage(orgs, name, "publicIPv4", "1"))
    assert _usage(orgs, other, "publicIPv4", "0")


@pytest.mark.usefixtures("enforcing_cluster")
def test_over_quota_after_a_downgrade(cluster: Cluster, orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool"})
    eventually(lambda: orgs.reason(name, "Applied"))
    pods_use(cluster, name, 3, cpu="2")
    eventually(lambda: _usage(orgs, name, "cpu", "6"))
    orgs.annotate(name, "billing.kube-dc.com/plan-id=dev-pool")  # 4300m cpu: the pods stay, over it
    eventually(lambda: assert_eq(orgs.hard(name)["requests.cpu"], "4300m"))
    condition = eventually(lambda: _over(orgs, name))
    assert condition["message"] == "cpu used 6 > hard 4300m"


@pytest.mark.usefixtures("enforcing_cluster")
def test_usage_writes_are_bounded(cluster: Cluster, orgs: Orgs, operator: OperatorProcess) -> None:
    """Usage alone is written at most once per interval: a burst costs a few writes, not one per change."""
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    eventually(lambda: orgs.reason(name, "Applied"))
    pods_use(cluster, name, 1, cpu="10m")
    eventually(lambda: _usage(orgs, name, "pods", "1"))
    before = operator.metric('orgquota_api_writes_total{resource="organizations",verb="PATCH"}')
    started = time.monotonic()
    pods_use(cluster, name, 10, cpu="20m")  # ten pods in a burst, as a busy namespace makes them
    eventually(lambda: assert_eq(hrq_used(cluster, name).get("pods"), "11"))  # HNC has counted them all
    burst = time.monotonic() - started
    eventually(lambda: _usage(orgs, name, "pods", "11"))  # the last value arrives...
    operator.wait_idle()
    writes = operator.metric('orgquota_api_writes_total{resource="organizations",verb="PATCH"}') - before
    # ...in one write per interval the burst lasted (on a loaded machine the burst itself is slow), plus the last
    assert 1 <= writes <= 2 + burst // USAGE_INTERVAL_SECONDS, (writes, burst)
    assert writes < 10, writes


# -- helpers ----------------------------------------------------------------------------------


def _usage(orgs: Orgs, name: str, key: str, used: str) -> dict[str, Any]:
    usage: dict[str, Any] = orgs.status(name).get("quotaUsage") or {}
    assert usage.get("used", {}).get(key) == used, usage
    return usage


def _over(orgs: Orgs, name: str) -> dict[str, Any]:
    over = [c for c in orgs.status(name).get("conditions") or [] if c["type"] == "OverQuota"]
    assert over, "no OverQuota condition"
    assert over[0]["status"] == "True", over[0]
    return dict(over[0])


def test_a_stale_memory_never_stops_workloads(cluster: Cluster, orgs: Orgs) -> None:
    """A replica whose memory still says `canceled` (a standby's is frozen while Kopf pauses its
    watches) must not stop the workloads of an organization that is active again."""
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", SUBSCRIPTION: "active"})
    eventually(lambda: orgs.reason(name, "Applied"))
    cluster.kubectl("apply", "-f", "-", input=workload("Deployment", name, "api", replicas=3))
    woken: list[tuple[object, float]] = []

    async def scenario() -> bool:
        kube = await Kube.connect(kubeconfig=str(cluster.kubeconfig))
        try:
            view = OrgView.from_body(cluster.get_json("organization", name, "-n", name))
            view.annotations[SUBSCRIPTION] = "canceled"  # what a stale memory says
            suspension = Suspension(
                kube, EventRecorder(kube), Settings(), lambda key, delay: woken.append((key, delay))
            )
            stale = DesiredQuota(Mode.FLOOR, Reason.CANCELED, "canceled")
            stopped = await suspension.run(view, stale, org_log(name, name))
            assert view.annotations[SUBSCRIPTION] == "active", "the fresh annotations were not taken"
            return stopped
        finally:
            await kube.close()

    assert asyncio.run(scenario()) is False
    assert woken == [((name, name), 0)], "the organization was not reconciled again"
    assert state(cluster, "Deployment", name, "api") == (3, None)
