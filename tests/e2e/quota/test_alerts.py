"""Quota alerts for real: pods in an organization's tree (HNC counts them) → the operator's status.alerts,
Events and orgquota_organization_alert → Prometheus's rules → Alertmanager → the billing API's
POST /alerts → an e-mail received by a real SMTP server. Each state is announced and mailed once,
through an operator restart and an Alertmanager redelivery; a budget refuses a purchase above it.
Waits are short: Prometheus scrapes and evaluates every second, Alertmanager waits a second."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from localcluster.alertmanager import FAST, Alertmanager
from localcluster.controlplane import free_ports
from localcluster.kubectl import Cluster
from localcluster.mailserver import MailServer
from localcluster.prometheus import Prometheus
from localcluster.stripe_mock import StripeMock
from orgquota.core.quantity import Quantity
from tests.support.billing_api import BillingApi, start_billing_api
from tests.support.oidc import Issuer
from tests.support.operator_process import OperatorProcess
from tests.support.orgs import Orgs
from tests.support.promtool import prometheus_binary
from tests.support.stripe_events import SECRET_KEY, WEBHOOK_SECRET, deliver, event, subscription
from tests.support.tree import admitted, hrq_used, org_with_projects, pod
from tests.support.waiting import assert_eq, consistently, eventually

SECRET = "e2e-alerts-secret"
PRICES = {"STRIPE_PRICE_PRO_POOL": "price_pro_pool", "STRIPE_PRICE_TURBO_X1": "price_turbo_x1"}
MAX_POD_MILLICORES = 2000  # dev-pool's LimitRange maxCPU
QUIET_SECONDS = 6.0
"""long enough for a second Event or mail to show: several scrapes, evaluations and Alertmanager waits"""


@dataclass
class Chain:
    mail: MailServer
    alertmanager: Alertmanager
    prometheus: Prometheus
    api: BillingApi


@pytest.fixture(scope="module")
def chain(
    cluster: Cluster,
    operator: OperatorProcess,
    issuer: Issuer,
    stripe_mock: StripeMock,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Chain]:
    """The SMTP server, Alertmanager sending to the API's port, Prometheus scraping the session's operator
    and sending to Alertmanager, and the API (Stripe on stripe-mock, for purchases) mailing through SMTP."""
    prometheus_binary("prometheus")
    (api_port,) = free_ports(1)
    workdir = tmp_path_factory.mktemp("alerts")
    with (
        MailServer(workdir / "mail") as mail,
        Alertmanager(f"http://127.0.0.1:{api_port}", SECRET, workdir / "alertmanager", timing=FAST) as alertmanager,
        Prometheus(
            workdir / "prometheus",
            targets={"orgquota-operator": [f"127.0.0.1:{operator.env['ORGQUOTA_METRICS_PORT']}"]},
            scrape_interval="1s",
            alertmanagers=[alertmanager.address],
        ) as prometheus,
    ):
        env = {
            "BILLING_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": stripe_mock.api_base,
            "PROMETHEUS_URL": prometheus.url,
            "SMTP_URL": mail.url,
            "SMTP_FROM": "billing@orgquota.test",
            "ALERTS_WEBHOOK_SECRET": SECRET,
            **PRICES,
        }
        api = start_billing_api(cluster, cluster.kubeconfig, issuer, workdir, env, port=api_port)
        try:
            yield Chain(mail, alertmanager, prometheus, api)
        finally:
            api.stop()
            print(f"billing API log: {api.log_path}; Alertmanager log: {alertmanager.log_path}")


def mails_to(chain: Chain, org: str) -> list[EmailMessage]:
    return [message for message in chain.mail.messages() if f"@{org}.example" in str(message["To"])]


def mailed(chain: Chain, org: str) -> list[tuple[str, str]]:
    """(FIRING or RESOLVED, alert name) of every alert state mailed about `org`, in order."""
    return [
        (words[0], words[1])
        for message in mails_to(chain, org)
        for words in (line.split() for line in message.get_content().splitlines())
        if len(words) > 1 and words[0] in ("FIRING", "RESOLVED")
    ]


def reasons(orgs: Orgs, org: str) -> list[str]:
    return sorted(
        e["reason"] for e in orgs.events(org) if e["reason"].startswith(("QuotaWarning", "QuotaCrit", "QuotaRec"))
    )


def alerts_of(orgs: Orgs, org: str) -> list[tuple[str, str]]:
    body = orgs.get("organization", org, org)
    assert body is not None
    return [(a["resource"], a["level"]) for a in (body.get("status") or {}).get("alerts") or []]


def cpu_pods(namespace: str, prefix: str, millicores: int) -> list[dict[str, Any]]:
    """Pods that request `millicores` in all, none above the LimitRange's maximum."""
    count = math.ceil(millicores / MAX_POD_MILLICORES)
    sizes = [millicores // count + (1 if i < millicores % count else 0) for i in range(count)]
    return [pod(namespace, f"{prefix}-{i}", cpu=f"{size}m", memory="64Mi") for i, size in enumerate(sizes)]


def firing_in_alertmanager(chain: Chain, org: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{chain.alertmanager.url}/api/v2/alerts", params={"filter": f'organization="{org}"'})
    return [a for a in answer.json() if a["status"]["state"] == "active"]


def test_each_level_is_announced_once_and_mailed_once(
    enforcing_cluster: Cluster, orgs: Orgs, operator: OperatorProcess, chain: Chain
) -> None:
    cluster = enforcing_cluster
    org, (web,) = org_with_projects(cluster, orgs, "dev-pool", "web")
    hard = int(Quantity.parse(orgs.hard(org)["requests.cpu"]).value * 1000)  # 4300m: 4 cores + 3 projects
    warning = math.ceil(hard * 0.8)

    admitted(cluster, *cpu_pods(web, "base", warning))  # 80 %: the warning level is reached at its threshold
    eventually(lambda: assert_eq(alerts_of(orgs, org), [("cpu", "warning")]), timeout=60)
    eventually(lambda: assert_eq(len(mails_to(chain, org)), 1), timeout=60)
    (mail,) = mails_to(chain, org)
    assert str(mail["Subject"]).strip() == f"[orgquota] {org}: cpu quota at its warning level"
    assert "new pods that request CPU will be refused" in mail.get_content()
    assert "Advice:" in mail.get_content() or "Cheapest fix:" in mail.get_content()
    once = (["QuotaWarning"], [("FIRING", "OrgQuotaWarning")])
    consistently(lambda: assert_eq((reasons(orgs, org), mailed(chain, org)), once), QUIET_SECONDS)

    # Alertmanager delivers the same alert again (a lost answer, or another API replica): no second mail.
    (firing,) = firing_in_alertmanager(chain, org)
    again = {"version": "4", "status": "firing", "alerts": [{**firing, "status": "firing"}]}
    answer = chain.api.http.post("/api/billing/alerts", json=again, headers={"Authorization": f"Bearer {SECRET}"})
    assert answer.json()["data"] == {"received": 1, "mailed": 0, "withoutOrganization": 0}

    admitted(cluster, *cpu_pods(web, "top", hard - warning))  # exactly the limit: HNC admits it, critical
    eventually(lambda: assert_eq(alerts_of(orgs, org), [("cpu", "critical")]), timeout=60)
    eventually(lambda: assert_eq(reasons(orgs, org), ["QuotaCritical", "QuotaWarning"]), timeout=30)
    eventually(lambda: assert_eq(("FIRING", "OrgQuotaCritical") in mailed(chain, org), True), timeout=60)
    assert "critical" in str(mails_to(chain, org)[-1]["Subject"])

    # A new operator process reads what the status recorded, and the rules bridge the scrapes it missed:
    # no Event, and no alert state mailed, twice.
    operator.restart()
    operator.wait_idle()

    def nothing_twice() -> None:
        assert_eq(reasons(orgs, org), ["QuotaCritical", "QuotaWarning"])
        states = mailed(chain, org)
        assert_eq(len(states), len(set(states)))
        assert_eq(
            [s for s in states if s[0] == "FIRING"], [("FIRING", "OrgQuotaWarning"), ("FIRING", "OrgQuotaCritical")]
        )

    consistently(nothing_twice, QUIET_SECONDS)

    cluster.kubectl("delete", "pods", "--all", "-n", web, "--wait=false")  # 0 %: under 75 %, recovered
    eventually(lambda: assert_eq(hrq_used(cluster, org).get("requests.cpu"), "0"), timeout=60)
    eventually(lambda: assert_eq(alerts_of(orgs, org), []), timeout=60)
    recovered = ["QuotaCritical", "QuotaRecovered", "QuotaWarning"]
    eventually(lambda: assert_eq(reasons(orgs, org), recovered), timeout=30)
    # The rules keep an alert 2 minutes after its cause: then the critical one ends, and that is mailed.
    eventually(lambda: assert_eq(("RESOLVED", "OrgQuotaCritical") in mailed(chain, org), True), timeout=200)
    nothing_twice_after = mailed(chain, org)
    assert len(nothing_twice_after) == len(set(nothing_twice_after))
    assert reasons(orgs, org) == recovered


def test_a_purchase_above_the_budget_needs_over_budget_and_raises_the_alert(orgs: Orgs, chain: Chain) -> None:
    api = chain.api
    org = orgs.create()
    orgs.annotate(org, f"billing.kube-dc.com/provider-customer-id=cus_{org}")  # its Stripe customer (binding)
    created = int(time.time())
    pro_with_turbo = [("price_pro_pool", 1), ("price_turbo_x1", 1)]  # 199 + 29 = 228 USD a month
    body = event(
        "customer.subscription.created",
        subscription(f"sub_{org}", pro_with_turbo, organization=org, customer=f"cus_{org}"),
        created,
    )
    assert deliver(api, body).status_code == 200
    admin = api.admin_of(org)
    eventually(lambda: assert_eq(api.data("/budget", admin)["current"], 228))

    bad = api.http.put("/api/billing/budget", headers=admin, json={"monthly": "-5"})
    assert (bad.status_code, bad.json()["success"]) == (400, False)
    budget = api.http.put("/api/billing/budget", headers=admin, json={"monthly": 250, "currency": "USD"})
    assert budget.json()["data"] == {"monthly": 250, "currency": "USD", "current": 228, "percent": 91.2}

    def subjects() -> list[str]:
        return [str(message["Subject"]).strip() for message in mails_to(chain, org)]  # a long one is folded

    warned = f"[orgquota] {org}: monthly cost at 228 USD, 80 % of the budget or more"
    eventually(lambda: assert_eq(warned in subjects(), True), timeout=60)  # OrgBudgetWarning: 228 >= 200

    addon = {"addonId": "turbo-x1"}  # 29 more: 257 > 250
    refused = api.http.post("/api/billing/organization-subscription/addons", headers=admin, json=addon)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "BUDGET_EXCEEDED"
    accepted = api.http.post(
        "/api/billing/organization-subscription/addons", headers=admin, json={**addon, "overBudget": True}
    )
    assert accepted.status_code == 200, accepted.text

    # Stripe confirms the purchase (its webhook is the source of truth): the cost is now above the budget.
    updated = event(
        "customer.subscription.updated",
        subscription(
            f"sub_{org}", [("price_pro_pool", 1), ("price_turbo_x1", 2)], organization=org, customer=f"cus_{org}"
        ),
        created + 1,
    )
    assert deliver(api, updated).status_code == 200
    eventually(lambda: assert_eq(api.data("/budget", admin)["current"], 257))

    def exceeded() -> list[str]:
        query = f'ALERTS{{alertname="OrgBudgetExceeded",organization="{org}",alertstate="firing"}}'
        return [r["metric"]["severity"] for r in chain.prometheus.query("/api/v1/query", query=query)["result"]]

    eventually(lambda: assert_eq(exceeded(), ["critical"]), timeout=60)
    exceeded_mail = f"[orgquota] {org}: monthly cost of 257 USD is above the budget"
    eventually(lambda: assert_eq(exceeded_mail in subjects(), True), timeout=60)
    stored = orgs.get("organization", org, org)
    assert stored is not None
    assert json.loads(stored["metadata"]["annotations"]["billing.kube-dc.com/budget"]) == {
        "monthly": "250",
        "currency": "USD",
    }
