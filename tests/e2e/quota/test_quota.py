"""The operator end to end: annotations and catalog in, HRQ + LimitRange + status out, on a real apiserver."""

from __future__ import annotations

import json
import re
import subprocess

import yaml

from localcluster.kubectl import Cluster
from orgquota.core.quantity import Quantity
from tests.support.catalog import DEV_POOL, FLOOR, WORKED_EXAMPLE
from tests.support.files import CATALOG_FILE, EXAMPLES
from tests.support.operator_process import OperatorProcess
from tests.support.orgs import Orgs
from tests.support.waiting import assert_eq, consistently, eventually, present

MANAGED = "billing.kube-dc.com/auto-managed"
PLAN_LABEL = "billing.kube-dc.com/plan-id"
TURBO = '[{"addonId":"turbo-x1","quantity":1}]'


def quick_start_commands() -> list[str]:
    """A first session by hand: the example catalog, shalb given dev-pool as in the README's opening
    example, and what the operator made of it."""
    return [
        "kubectl apply -f examples/organization/04-billing-plans-configmap.yaml",
        "kubectl annotate organization/shalb -n shalb \\\n"
        "  billing.kube-dc.com/plan-id=dev-pool \\\n"
        "  billing.kube-dc.com/subscription=active --overwrite",
        "kubectl get hrq -n shalb",
        "kubectl get limitrange -n shalb",
        "kubectl describe hrq plan-quota -n shalb",
    ]


def bash(cluster: Cluster, command: str) -> str:
    from tests.support.files import REPO_ROOT

    proc = subprocess.run(["bash", "-c", command], cwd=REPO_ROOT, env=cluster.env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{command}\n{proc.stderr}"
    return proc.stdout


def test_examples_and_the_quick_start_commands(cluster: Cluster, orgs: Orgs) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLES))
    # acme: pro-pool + turbo-x1, the worked example to the last digit, with the managed labels.
    eventually(lambda: assert_eq(orgs.hard("acme"), WORKED_EXAMPLE))
    hrq = orgs.hrq("acme")
    assert hrq
    assert hrq["metadata"]["labels"] == {MANAGED: "true", PLAN_LABEL: "pro-pool"}
    eventually(lambda: assert_eq(orgs.condition("acme")["reason"], "Applied"))
    # globex: suspended -> the floor; initech: enterprise (not self-service), canceling -> still the plan.
    eventually(lambda: assert_eq(orgs.hard("globex"), FLOOR))
    eventually(lambda: orgs.reason("globex", "Suspended"))
    eventually(lambda: assert_eq(orgs.hard("initech")["limits.cpu"], "256600m"))  # (128 + 3 x 100m) x burst 2
    # shalb has no plan yet: nothing is managed.
    eventually(lambda: orgs.reason("shalb", "NoPlan"))
    assert orgs.hrq("shalb") is None

    outputs = [bash(cluster, command) for command in quick_start_commands()]
    eventually(lambda: assert_eq(orgs.hard("shalb"), DEV_POOL))
    assert "plan-quota" in bash(cluster, "kubectl get hrq -n shalb")
    assert "default-resource-limits" in bash(cluster, "kubectl get limitrange -n shalb")
    described = bash(cluster, "kubectl describe hrq plan-quota -n shalb")
    assert re.search(r"requests\.cpu\s+\S+\s+4300m", described) or "4300m" in described, described
    assert outputs[1].strip() == "organization.kube-dc.com/shalb annotated"

    table = cluster.kubectl("get", "organizations", "-A").stdout
    assert re.search(r"acme\s+pro-pool\s+active\s+plan\s+true", table), table
    assert re.search(r"globex\s+scale-pool\s+suspended\s+floor\s+true", table), table


def test_active_plan_gets_hrq_and_limit_range(orgs: Orgs) -> None:
    name = orgs.create(
        {
            "billing.kube-dc.com/plan-id": "pro-pool",
            "billing.kube-dc.com/subscription": "active",
            "billing.kube-dc.com/addons": TURBO,
        }
    )
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    limit_range = eventually(lambda: present(orgs.limit_range(name)))
    assert limit_range["metadata"]["labels"] == {MANAGED: "true", PLAN_LABEL: "pro-pool"}
    container, pod, pvc = limit_range["spec"]["limits"]
    assert container == {
        "type": "Container",
        "default": {"cpu": "1", "memory": "1Gi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "max": {"cpu": "4", "memory": "8Gi"},
        "min": {"cpu": "10m", "memory": "16Mi"},
    }
    assert pod == {"type": "Pod", "max": {"cpu": "8", "memory": "16Gi"}}
    assert pvc == {"type": "PersistentVolumeClaim", "max": {"storage": "100Gi"}, "min": {"storage": "1Gi"}}
    owner = orgs.hrq(name)["metadata"]["ownerReferences"][0]  # type: ignore[index]
    assert (owner["kind"], owner["name"]) == ("Organization", name)
    status = orgs.status(name)
    assert (status["ready"], status["mode"], status["plan"]) == (True, "plan", "pro-pool")
    eventually(lambda: orgs.has_event(name, "QuotaCreated"))


def test_plan_change_updates_the_quota(orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    eventually(lambda: assert_eq(orgs.hard(name), DEV_POOL))
    orgs.annotate(name, "billing.kube-dc.com/plan-id=scale-pool")
    eventually(
        lambda: assert_eq(
            quantities(orgs.hard(name)),  # HNC rewrites what it stores in its own spelling (pods: 1k)
            quantities(
                {
                    "requests.cpu": "32300m",
                    "limits.cpu": "48450m",  # burstRatio 1.5
                    "requests.memory": "98688Mi",
                    "limits.memory": "148032Mi",
                    "requests.storage": "640Gi",
                    "pods": "1000",
                    "services.loadbalancers": "200",
                }
            ),
        )
    )
    eventually(lambda: assert_eq(orgs.limit_range(name)["metadata"]["labels"][PLAN_LABEL], "scale-pool"))  # type: ignore[index]
    eventually(lambda: orgs.has_event(name, "QuotaUpdated", "requests.cpu 4300m -> 32300m"))


def test_addon_change_is_counted(orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": TURBO})
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    orgs.annotate(name, 'billing.kube-dc.com/addons=[{"addonId":"turbo-x2","quantity":2}]')
    eventually(lambda: assert_eq(orgs.hard(name)["requests.cpu"], "16300m"))  # 8 + 2 x 4 + 3 x 100m
    assert orgs.hard(name)["requests.memory"] == "41344Mi"  # 24Gi + 2 x 8Gi + 3 x 128Mi
    assert orgs.hard(name)["requests.storage"] == "240Gi"


def test_suspension_gets_the_floor_and_reactivation_the_plan(orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": TURBO})
    limit_range = eventually(lambda: present(orgs.limit_range(name)))
    orgs.annotate(name, "billing.kube-dc.com/subscription=suspended")
    eventually(lambda: assert_eq(orgs.hard(name), FLOOR))
    eventually(lambda: orgs.reason(name, "Suspended"))
    assert orgs.status(name)["mode"] == "floor"
    after = orgs.limit_range(name)
    assert after
    assert after["spec"] == limit_range["spec"]
    orgs.annotate(name, "billing.kube-dc.com/subscription=active")
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))


def test_deleting_the_organization_deletes_its_quota(cluster: Cluster, orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    eventually(lambda: present(orgs.limit_range(name)))
    eventually(lambda: present(orgs.hrq(name)))
    cluster.kubectl("delete", "organization", name, "-n", name)
    eventually(lambda: assert_eq((orgs.hrq(name), orgs.limit_range(name)), (None, None)))


def test_no_plan_creates_nothing(orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/subscription": "active"})
    eventually(lambda: orgs.reason(name, "NoPlan"))  # the operator has seen it
    consistently(lambda: assert_eq((orgs.hrq(name), orgs.limit_range(name)), (None, None)), duration=10)
    assert orgs.status(name)["mode"] == "none"
    assert orgs.status(name)["ready"] is True


def test_removing_the_plan_removes_the_quota(orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    eventually(lambda: present(orgs.limit_range(name)))
    orgs.annotate(name, "billing.kube-dc.com/plan-id-")
    eventually(lambda: assert_eq((orgs.hrq(name), orgs.limit_range(name)), (None, None)))
    eventually(lambda: orgs.reason(name, "NoPlan"))


def test_unknown_plan_falls_to_the_floor(orgs: Orgs) -> None:
    name = orgs.create_bypassing_webhooks({"billing.kube-dc.com/plan-id": "gold"})
    eventually(lambda: assert_eq(orgs.hard(name), FLOOR))
    condition = eventually(lambda: orgs.reason(name, "PlanNotFound"))
    assert condition["status"] == "False"
    assert "'gold'" in condition["message"]
    assert orgs.status(name)["ready"] is False
    eventually(lambda: orgs.has_event(name, "PlanNotFound", type_="Warning"))


def test_unparseable_addons_grant_nothing(orgs: Orgs) -> None:
    name = orgs.create_bypassing_webhooks(
        {"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": "turbo-x1 please"}
    )
    eventually(lambda: assert_eq(orgs.hard(name)["requests.cpu"], "8300m"))  # the plan alone
    condition = eventually(lambda: orgs.reason(name, "InvalidAddons"))
    assert "billing.kube-dc.com/addons is not valid JSON" in condition["message"]


def test_drift_is_undone(cluster: Cluster, orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
    eventually(lambda: assert_eq(orgs.hard(name), DEV_POOL))
    eventually(lambda: present(orgs.limit_range(name)))
    cluster.kubectl(
        "patch",
        "hrq",
        "plan-quota",
        "-n",
        name,
        "--type=merge",
        "-p",
        '{"spec":{"hard":{"requests.cpu":"100","count/secrets":"5"}}}',
    )
    eventually(lambda: assert_eq(orgs.hard(name), DEV_POOL))
    eventually(lambda: orgs.has_event(name, "QuotaRestored"))
    cluster.kubectl("delete", "limitrange", "default-resource-limits", "-n", name)
    eventually(lambda: present(orgs.limit_range(name)))
    cluster.kubectl("delete", "hrq", "plan-quota", "-n", name)
    eventually(lambda: assert_eq(orgs.hard(name), DEV_POOL))


def test_a_users_limit_range_is_left_alone(cluster: Cluster, orgs: Orgs) -> None:
    name = orgs.create()
    mine = {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": "default-resource-limits", "namespace": name},
        "spec": {"limits": [{"type": "Container", "max": {"cpu": "3"}}]},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(mine))
    orgs.annotate(name, "billing.kube-dc.com/plan-id=dev-pool")
    eventually(lambda: assert_eq(orgs.hard(name), DEV_POOL))
    condition = eventually(lambda: orgs.reason(name, "LimitRangeNotManaged"))
    assert "left alone" in condition["message"]
    limit_range = orgs.limit_range(name)
    assert limit_range
    assert limit_range["spec"]["limits"][0]["max"] == {"cpu": "3"}
    orgs.annotate(name, "billing.kube-dc.com/plan-id-")
    eventually(lambda: orgs.reason(name, "NoPlan"))
    assert orgs.limit_range(name) is not None  # not ours to delete either


def test_catalog_edit_reaches_organizations_and_writes_only_what_changed(cluster: Cluster, orgs: Orgs) -> None:
    edited = _catalog_with_plan("edit-pool", cpu="1")
    cluster.kubectl("apply", "-f", "-", input=edited)
    try:
        bystander = orgs.create({"billing.kube-dc.com/plan-id": "dev-pool"})
        name = orgs.create({"billing.kube-dc.com/plan-id": "edit-pool"})
        eventually(lambda: assert_eq(orgs.hard(name)["requests.cpu"], "1300m"))
        eventually(lambda: assert_eq(orgs.hard(bystander), DEV_POOL))
        untouched = orgs.hrq(bystander)["metadata"]["resourceVersion"]  # type: ignore[index]
        cluster.kubectl("apply", "-f", "-", input=_catalog_with_plan("edit-pool", cpu="6"))
        eventually(lambda: assert_eq(orgs.hard(name)["requests.cpu"], "6300m"))
        assert orgs.hrq(bystander)["metadata"]["resourceVersion"] == untouched  # type: ignore[index]
    finally:
        cluster.kubectl("apply", "-f", str(CATALOG_FILE))


def test_missing_catalog_changes_no_quota(cluster: Cluster, orgs: Orgs) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": TURBO})
    eventually(lambda: assert_eq(orgs.hard(name), WORKED_EXAMPLE))
    eventually(lambda: orgs.reason(name, "Applied"))
    before = orgs.hrq(name)["metadata"]["resourceVersion"]  # type: ignore[index]
    cluster.kubectl("delete", "configmap", "billing-plans", "-n", "kube-dc")
    try:
        condition = eventually(lambda: orgs.reason(name, "CatalogMissing"))
        assert "last good catalog stays in force" in condition["message"]
        orgs.annotate(name, "billing.kube-dc.com/subscription=trialing")  # a reconcile while it is missing
        consistently(lambda: assert_eq(orgs.hrq(name)["metadata"]["resourceVersion"], before), duration=3)  # type: ignore[index]
    finally:
        cluster.kubectl("apply", "-f", str(CATALOG_FILE))
    eventually(lambda: orgs.reason(name, "Applied"))
    assert orgs.hard(name) == WORKED_EXAMPLE


def test_restart_when_converged_writes_nothing(cluster: Cluster, orgs: Orgs, operator: OperatorProcess) -> None:
    name = orgs.create({"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/addons": TURBO})
    eventually(lambda: orgs.reason(name, "Applied"))
    eventually(lambda: present(orgs.limit_range(name)))
    operator.settle()
    before = _write_requests(cluster)
    operator.restart()
    assert re.search(r"startup: \d+ organizations reconciled", operator.log())
    after = _write_requests(cluster)
    assert after == before, f"writes during restart: {set(after.items()) - set(before.items())}"


# -- helpers ----------------------------------------------------------------------------------


def quantities(hard: dict[str, str]) -> dict[str, Quantity]:
    """By value: a quota's quantities may be spelled differently by whoever wrote them last."""
    return {key: Quantity.parse(value) for key, value in hard.items()}


def _catalog_with_plan(plan_id: str, cpu: str) -> str:
    configmap = yaml.safe_load(CATALOG_FILE.read_text())
    plans = yaml.safe_load(configmap["data"]["plans.yaml"])
    plans["plans"][plan_id] = {
        **plans["plans"]["dev-pool"],
        "requests": {"cpu": cpu, "memory": "1Gi", "storage": "1Gi"},
    }
    configmap["data"]["plans.yaml"] = yaml.safe_dump(plans)
    return yaml.safe_dump(configmap)


_WRITE = re.compile(
    r'^apiserver_request_total\{(?=[^}]*verb="(?:POST|PUT|PATCH|DELETE|APPLY)")'
    r'(?=[^}]*resource="(?:hierarchicalresourcequotas|limitranges|organizations|events)")'
    # one object at a time, as the operator writes: kube-controller-manager's emptying of namespaces
    # that earlier tests deleted is collection deletes (scope="namespace")
    r'(?=[^}]*scope="resource")([^}]*)\} (\d+)',
    re.MULTILINE,
)


def _write_requests(cluster: Cluster) -> dict[str, int]:
    """Write requests the apiserver has served for the operator's kinds, from its own /metrics."""
    metrics = cluster.kubectl("get", "--raw", "/metrics").stdout
    return {labels: int(count) for labels, count in _WRITE.findall(metrics)}
