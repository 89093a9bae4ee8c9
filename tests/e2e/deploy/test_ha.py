"""Two replicas as the chart runs them (leader election by the Lease `orgquota-leader`, the chart's
identity and RBAC): one leads, the other stands by silently; a newcomer never takes over; a crashed
leader (SIGKILL) is replaced within 6 s and a stopped one (SIGTERM) within 2 s, counted from the
signal until a plan change made at that moment is in the HRQ; a trial whose leader stops just before
its end is ended on time by the new leader, and said once; and a leader paused for 10 s (SIGSTOP)
writes nothing after it wakes, its Lease gone. Writes are counted per process (its own
`orgquota_api_writes_total`, the Lease's own renewals left out).

20 kills of each kind at 1,000 organizations, with the p50/p95 of the same figure: the failover bench
(bench/failover.py, docs/performance.md).
"""

from __future__ import annotations

import re
import signal
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from localcluster.kubectl import Cluster
from orgquota.core import annotations as ann
from orgquota.core.timestamps import format_rfc3339, parse_rfc3339
from tests.support.catalog import FLOOR, apply_catalog, assert_bad_catalog_rejected, set_catalog_cpu
from tests.support.cluster import assert_cpu, new_org
from tests.support.release import NAMESPACE, Identity, Replica, install_webhooks, replica
from tests.support.waiting import assert_eq, consistently, eventually

PLAN = "billing.kube-dc.com/plan-id"
# requests.cpu of each plan with the tests' 3 projects x 100m of overhead
CPU = {"dev-pool": "4300m", "pro-pool": "8300m", "scale-pool": "32300m"}
LEASE_DURATION = 5
KILLED_WITHIN = 6.0
STOPPED_WITHIN = 2.0
STANDING_BY = "standing by: Lease"


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


@pytest.fixture
def pair(setup: Setup, request: pytest.FixtureRequest) -> Iterator[tuple[Replica, Replica]]:
    """`a` leading (started first, every organization reconciled), `b` standing by."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:30].strip("-")
    a, b = (replica(setup.cluster, setup.identity, setup.workdir, f"{name}-{n}") for n in ("a", "b"))
    try:
        a.process.start()
        b.process.launch()
        eventually(lambda: _logged(b, f"{STANDING_BY} {NAMESPACE}/orgquota-leader is held by {a.pod_id}"))
        yield a, b
    finally:
        for r in (a, b):
            if r.process.proc is not None and r.process.proc.poll() is None:
                r.process.proc.send_signal(signal.SIGCONT)
            r.process.stop()
        setup.cluster.kubectl("delete", "validatingwebhookconfiguration", "orgquota.kube-dc.com", "--ignore-not-found")


def _logged(r: Replica, text: str) -> None:
    assert text in r.process.log(), f"{r.pod_id} has not logged {text!r}"


def _holder(cluster: Cluster) -> str:
    return str(cluster.get_json("lease", "orgquota-leader", "-n", NAMESPACE)["spec"].get("holderIdentity", ""))


def _writes(r: Replica) -> float:
    """Writes the replica sent to the apiserver, but for renewing its Lease."""
    lines = r.process.metrics_text().splitlines()
    return sum(
        float(line.split()[-1])
        for line in lines
        if line.startswith("orgquota_api_writes_total{") and 'resource="leases"' not in line
    )


def _change_plan(cluster: Cluster, org: str, plan: str) -> None:
    cluster.kubectl("annotate", "organization", org, "-n", org, f"{PLAN}={plan}", "--overwrite")


def _in_hrq_within(cluster: Cluster, org: str, plan: str, since: float, bound: float) -> float:
    eventually(lambda: assert_cpu(cluster, org, CPU[plan]), timeout=bound + 10, interval=0.05)
    took = time.monotonic() - since
    assert took <= bound, f"{plan} reached the HRQ of {org} {took:.2f}s after the signal (bound {bound}s)"
    return took


def test_a_standby_stays_silent_a_newcomer_never_takes_over_and_a_crash_fails_over_in_6s(
    setup: Setup, pair: tuple[Replica, Replica]
) -> None:
    cluster, (a, b) = setup.cluster, pair
    orgs = [new_org(cluster, {PLAN: plan}) for plan in ("dev-pool", "dev-pool", "pro-pool", "pro-pool")]
    for org, plan in zip(orgs, ("dev-pool", "dev-pool", "pro-pool", "pro-pool"), strict=True):
        eventually(lambda org=org, plan=plan: assert_cpu(cluster, org, CPU[plan]))  # type: ignore[misc]

    # The newcomer joined a healthy leader: it never takes over, through more than a Lease duration.
    consistently(lambda: assert_eq(_holder(cluster), a.pod_id), LEASE_DURATION + 2)
    assert (a.process.metric("orgquota_leader"), b.process.metric("orgquota_leader")) == (1, 0)
    assert b.process.metric("orgquota_reconciles_total") == 0
    assert _writes(b) == 0

    # Both serve the webhooks (the standby judges by what it reads from the API, like the leader).
    for serving in (a, b):  # ends pointing at the standby: it must answer after the crash too
        with urllib.request.urlopen(f"http://127.0.0.1:{serving.health_port}/healthz", timeout=5) as response:
            assert response.status == 200, serving.pod_id
        if install_webhooks(cluster, serving) is not None:
            assert_bad_catalog_rejected(cluster)

    # The crash, and a plan change at that very moment; changes while nobody leads: the catalog, a quota deleted.
    assert a.process.proc is not None
    killed = time.monotonic()
    a.process.proc.kill()
    _change_plan(cluster, orgs[2], "scale-pool")
    set_catalog_cpu(cluster, "dev-pool", "5")
    cluster.kubectl("delete", "hrq", "plan-quota", "-n", orgs[3])
    try:
        took = _in_hrq_within(cluster, orgs[2], "scale-pool", killed, KILLED_WITHIN)
        for org in orgs[:2]:
            eventually(lambda org=org: assert_cpu(cluster, org, "5300m"), timeout=10)  # type: ignore[misc]
        eventually(lambda: assert_cpu(cluster, orgs[3], CPU["pro-pool"]), timeout=10)
    finally:
        set_catalog_cpu(cluster, "dev-pool", "4")
    assert _holder(cluster) == b.pod_id
    assert b.process.metric("orgquota_leader") == 1
    events = cluster.get_json("events", "-n", orgs[2], "--field-selector", f"involvedObject.name={orgs[2]}")["items"]
    assert len([e for e in events if "scale-pool" in e["message"]]) == 1, "the plan change was announced twice"
    standby_log = b.process.log().split("leading: holding Lease")[0]
    assert not [line for line in standby_log.splitlines() if any(org in line for org in orgs)], standby_log
    print(f"\nSIGKILL of the leader: the plan change made then was in the HRQ after {took:.2f}s")


def test_a_graceful_stop_fails_over_in_2s(setup: Setup, pair: tuple[Replica, Replica]) -> None:
    cluster, (a, b) = setup.cluster, pair
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, CPU["dev-pool"]))
    assert a.process.proc is not None
    stopped = time.monotonic()
    a.process.proc.send_signal(signal.SIGTERM)
    _change_plan(cluster, org, "pro-pool")
    took = _in_hrq_within(cluster, org, "pro-pool", stopped, STOPPED_WITHIN)
    assert a.process.proc.wait(timeout=15) == 0
    assert "released Lease" in a.process.log()
    assert _holder(cluster) == b.pod_id
    print(f"\nSIGTERM of the leader: the plan change made then was in the HRQ after {took:.2f}s")


def test_a_trial_ends_on_time_when_its_leader_stops_just_before(setup: Setup, pair: tuple[Replica, Replica]) -> None:
    """The leader posts the notice and is SIGTERMed 3 s before the end: the new leader's timer, set from the
    annotations at its take-over, ends the trial at its time; each Event is posted once (named Events)."""
    cluster, (a, b) = setup.cluster, pair
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)
    trial = {PLAN: "dev-pool", ann.SUBSCRIPTION: "trialing", ann.TRIAL_ENDS_AT: format_rfc3339(ends)}
    org = new_org(cluster, trial)
    eventually(lambda: assert_cpu(cluster, org, CPU["dev-pool"]))
    eventually(lambda: _logged(a, f"[{org}/{org}] the trial ends at {format_rfc3339(ends)}"))
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds() - 3))  # a fixed moment before the end
    assert a.process.proc is not None
    a.process.proc.send_signal(signal.SIGTERM)
    eventually(lambda: assert_cpu(cluster, org, FLOOR["requests.cpu"]), timeout=20, interval=0.1)
    annotations = cluster.get_json("organization", org, "-n", org)["metadata"]["annotations"]
    assert annotations[ann.SUBSCRIPTION] == "suspended"
    suspended_at = parse_rfc3339(annotations[ann.SUSPENDED_AT])
    assert ends <= suspended_at < ends + timedelta(seconds=5), f"ended at {suspended_at}, due {ends}"
    assert _holder(cluster) == b.pod_id
    assert f"[{org}/{org}] the trial ended at" in b.process.log()

    def reasons() -> list[str]:
        events = cluster.get_json("events", "-n", org, "--field-selector", f"involvedObject.name={org}")["items"]
        return sorted(e["reason"] for e in events if e["reason"].startswith("Trial"))

    eventually(lambda: assert_eq(reasons(), ["TrialEnded", "TrialEnding"]))
    consistently(lambda: assert_eq(reasons(), ["TrialEnded", "TrialEnding"]), 2)


def test_a_paused_leader_writes_nothing_after_it_wakes(setup: Setup, pair: tuple[Replica, Replica]) -> None:
    cluster, (a, b) = setup.cluster, pair
    org = new_org(cluster, {PLAN: "dev-pool"})
    eventually(lambda: assert_cpu(cluster, org, CPU["dev-pool"]))
    a.process.wait_idle()
    consistently(lambda: None, 1)  # its status and Event written: nothing of a's own is still in flight
    before = _writes(a)
    assert a.process.proc is not None
    paused = time.monotonic()
    a.process.proc.send_signal(signal.SIGSTOP)
    # Changes a cannot see while paused: it takes them all in (watch) when it wakes, and must not act.
    _change_plan(cluster, org, "pro-pool")
    _in_hrq_within(cluster, org, "pro-pool", paused, KILLED_WITHIN)
    _change_plan(cluster, org, "scale-pool")
    eventually(lambda: assert_cpu(cluster, org, CPU["scale-pool"]))
    time.sleep(max(0.0, paused + 10 - time.monotonic()))  # a pause of 10 s
    a.process.proc.send_signal(signal.SIGCONT)
    eventually(lambda: _logged(a, "lost Lease"), timeout=10)
    consistently(lambda: assert_eq(_writes(a), before), 3, interval=0.2)
    assert a.process.metric("orgquota_leader") == 0
    assert _holder(cluster) == b.pod_id
    assert_cpu(cluster, org, CPU["scale-pool"])  # and nothing of a's old view was written back
    refused = a.process.metric("orgquota_fenced_writes_total")
    print(f"\nthe paused leader woke: 0 writes after waking ({refused:.0f} refused by its fence)")
