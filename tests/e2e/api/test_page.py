"""The billing page in Debian's Chromium against the real stack: Keycloak's login form, `orgquota api`
serving the built page, the operator, HNC counting real usage, and stripe-mock behind the Stripe provider.

What a person sees is checked by role and text: the plan, the cost, usage bars with their numbers and
colours, which buttons exist in each mode, what each role is told, and that an outage is a message.
Screenshots of every tab go to test-output/page/ (printed); axe-core finds nothing serious on any tab.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from localcluster.controlplane import free_ports
from localcluster.keycloak import CLIENT_ID, Keycloak, demo_users
from localcluster.kubectl import Cluster
from localcluster.oidc import password_token
from localcluster.stripe_mock import StripeMock
from orgquota.core.annotations import PREFIX
from tests.support import stripe_events, tree
from tests.support.billing_api import BillingApi, eventually, start_billing_api
from tests.support.browser import (
    TABS,
    UI_DIST,
    WAIT_MS,
    bar,
    bundle_gzip_kb,
    open_tab,
    serious_axe_violations,
    shoot,
    signed_in,
)
from tests.support.catalog import apply_catalog, catalog_yaml
from tests.support.oidc import Issuer, bearer
from tests.support.operator_process import OperatorProcess
from tests.support.page_stack import ORG, PRICES, clear_acme, seed_acme
from tests.support.stripe_events import SECRET_KEY, WEBHOOK_SECRET
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import assert_eq

# Keycloak's start (46-170 s on a busy 2-core machine) is paid by the first test.
pytestmark = pytest.mark.timeout(900)

PAYMENT_BUTTONS: Final = re.compile(r"Subscribe|Switch to|Cancel Subscription|Add another|Remove 1|Manage Payment")


@pytest.fixture(scope="module")
def api_ports() -> tuple[int, int]:
    """The two APIs' ports, known before Keycloak starts: its client must list their origins for CORS."""
    quota, stripe = free_ports(2)
    return quota, stripe


@pytest.fixture(scope="module")
def page_keycloak(api_ports: tuple[int, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    """Keycloak whose kube-dc client allows both APIs' origins (the page's token call is cross-origin)."""
    origins = [f"http://127.0.0.1:{port}" for port in api_ports]
    with Keycloak(tmp_path_factory.mktemp("page-keycloak"), web_origins=origins) as kc:
        print(f"Keycloak started in {kc.start_seconds:.1f} s")
        yield kc


@pytest.fixture(scope="module")
def acme(enforcing_cluster: Cluster, api_operator: OperatorProcess) -> Iterator[str]:
    """acme on pro-pool with one turbo-x1 and real usage in its project acme-dev, counted by HNC:
    6 of 10.3 cores (success), 22 of 28.375 GiB (warning), 60 of 180 GiB storage, its 1 public IPv4 (danger)."""
    dev = seed_acme(enforcing_cluster)
    yield ORG
    clear_acme(enforcing_cluster, dev)


@pytest.fixture(scope="module")
def quota_api(
    acme: str,
    apiserver_relay: tuple[TcpProxy, Path],
    issuer: Issuer,
    page_keycloak: Keycloak,
    api_ports: tuple[int, int],
    enforcing_cluster: Cluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BillingApi]:
    """Quota-only mode (BILLING_PROVIDER=none), through the relay the outage test cuts.

    OIDC_ISSUER_URL names Keycloak, so the API trusts only its tokens; `issuer` (the local one) is
    there for BillingApi's own token helpers, which these tests do not use.
    """
    env = {"OIDC_ISSUER_URL": page_keycloak.issuer, "ORGQUOTA_UI_DIR": str(UI_DIST)}
    workdir = tmp_path_factory.mktemp("page-api")
    api = start_billing_api(enforcing_cluster, apiserver_relay[1], issuer, workdir, env, port=api_ports[0])
    yield api
    api.stop()
    print(f"billing API log: {api.log_path}")


@pytest.fixture(scope="module")
def stripe_api(
    acme: str,
    issuer: Issuer,
    page_keycloak: Keycloak,
    stripe_mock: StripeMock,
    api_ports: tuple[int, int],
    enforcing_cluster: Cluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BillingApi]:
    env = {
        "OIDC_ISSUER_URL": page_keycloak.issuer,
        "ORGQUOTA_UI_DIR": str(UI_DIST),
        "BILLING_PROVIDER": "stripe",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_mock.api_base,
        "ORGQUOTA_LOG_LEVEL": "DEBUG",
        **PRICES,
    }
    cluster = enforcing_cluster
    workdir = tmp_path_factory.mktemp("page-stripe-api")
    api = start_billing_api(cluster, cluster.kubeconfig, issuer, workdir, env, port=api_ports[1])
    yield api
    api.stop()
    print(f"billing API (stripe) log: {api.log_path}")


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: its own Keycloak session and sessionStorage."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(WAIT_MS)
    yield ctx
    ctx.close()


def test_admin_sees_plan_cost_and_real_usage(context: BrowserContext, quota_api: BillingApi) -> None:
    page = context.new_page()
    began = time.monotonic()
    page.goto(quota_api.url + "/")
    expect(page.locator("#kc-login")).to_be_visible()
    form_shown = time.monotonic() - began
    page.locator("#username").fill("acme-admin")
    page.locator("#password").fill(demo_users()["acme-admin"])
    submitted = time.monotonic()
    page.locator("#kc-login").click()
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()
    done = time.monotonic()
    print(f"Keycloak form shown in {form_shown:.2f} s; submit to usage bars {done - submitted:.2f} s")

    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("Pro Pool", exact=True)).to_be_visible()
    expect(page.get_by_test_id("monthly-total")).to_have_text("$228")  # 199 + one turbo-x1 at 29
    expect(page.get_by_text("Turbo x1", exact=True)).to_be_visible()
    expect(page.get_by_label("quantity 1")).to_be_visible()
    bars = {name: bar(page, name) for name in ("CPU", "Memory", "Storage", "Pods", "Public IPv4")}
    print(f"usage bars: {bars}")
    assert bars["CPU"] == ("6 / 10.3 cores (58%)", "success")
    assert bars["Memory"] == ("22 / 28.4 Gi (78%)", "warning")  # 24 + 4 GiB + 3 projects x 128 Mi
    assert bars["Storage"] == ("60 / 180 Gi (33%)", "success")
    assert bars["Pods"] == ("3 / 200 (2%)", "success")
    assert bars["Public IPv4"] == ("1 / 1 (100%)", "danger")
    # quota-only: nothing to pay with, anywhere
    for key in TABS:
        open_tab(page, key)
        expect(page.get_by_role("button", name=PAYMENT_BUTTONS)).to_have_count(0)


def three_currencies(catalog: dict[str, Any]) -> None:
    """Every item on sale priced in JPY, EUR and KWD; pro-pool and turbo-x1 (what acme has) with amounts whose
    decimals show: JPY 31000 + 4500, EUR 179.55 + 26.50, KWD 61.125 + 9.005."""
    own = {"pro-pool": ("31000", "179.55", "61.125"), "turbo-x1": ("4500", "26.50", "9.005")}
    for section in ("plans", "addons"):
        for item_id, item in catalog[section].items():
            jpy, eur, kwd = own.get(item_id, ("1000", "10.00", "1.000"))
            item["prices"] = {"JPY": jpy, "EUR": eur, "KWD": kwd}


def test_amounts_have_their_currencys_own_decimals(
    context: BrowserContext, quota_api: BillingApi, enforcing_cluster: Cluster
) -> None:
    """acme pays in JPY, then EUR, then KWD: the page writes ¥ without decimals, € with 2, KWD with 3."""
    cluster = enforcing_cluster
    cluster.kubectl("apply", "-f", "-", input=catalog_yaml(three_currencies))
    page = signed_in(context, quota_api.url + "/", "acme-admin")
    shown = [
        ("JPY", r"¥35,500", r"¥31,000"),
        ("EUR", r"€206\.05", r"€179\.55"),
        ("KWD", r"KWD\s70\.130", r"KWD\s61\.125"),
    ]
    try:
        for currency, total, price in shown:
            pays_in = f"{PREFIX}currency={currency}"
            cluster.kubectl("annotate", "organization/acme", "-n", "acme", pays_in, "--overwrite")

            def total_shown(total: str = total) -> None:
                page.goto(quota_api.url + "/")  # signed in already: the page reads the answers afresh
                expect(page.get_by_test_id("monthly-total")).to_have_text(re.compile(f"^{total}$"), timeout=3000)

            eventually(total_shown)
            open_tab(page, "plans")
            expect(page.get_by_text(re.compile(f"^{price}$"))).to_be_visible()
            shoot(page, f"currency-{currency.lower()}")
            open_tab(page, "overview")
    finally:
        cluster.kubectl("annotate", "organization/acme", "-n", "acme", f"{PREFIX}currency-")
        apply_catalog(cluster)


def test_every_tab_is_accessible_and_shot(context: BrowserContext, quota_api: BillingApi) -> None:
    page = signed_in(context, quota_api.url + "/", "acme-admin")
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()
    found: dict[str, object] = {}
    for key in TABS:
        open_tab(page, key)
        if key == "plans":
            current = page.get_by_test_id("plan-pro-pool")
            expect(current.get_by_text("Current Plan")).to_be_visible()
            expect(page.get_by_test_id("plan-dev-pool").get_by_text("Current Plan")).to_have_count(0)
            expect(page.get_by_text("Plans are assigned by your platform administrator")).to_be_visible()
        if key == "addons":
            expect(page.get_by_test_id("addon-turbo-x1")).to_contain_text("Active \u00d7 1")  # the multiplication sign
            expect(page.get_by_test_id("addon-turbo-x2")).not_to_contain_text("Active")
        if key == "projects":
            expect(page.get_by_test_id("acme-dev-cpu")).to_contain_text("of plan")
            expect(page.get_by_role("button", name="Set cap of acme-dev")).to_be_visible()
        shoot(page, f"admin-{key}")
        found[key] = serious_axe_violations(page)
    sizes = bundle_gzip_kb()
    print(f"page weight gzipped: JS {sizes['js']:.1f} kB + CSS {sizes['css']:.1f} kB")
    assert found == {key: [] for key in TABS}, found


def test_project_user_sees_no_organization_billing(context: BrowserContext, quota_api: BillingApi) -> None:
    page = signed_in(context, quota_api.url + "/", "acme-dev")
    expect(page.get_by_text("Organization billing is managed by your organization's administrators")).to_be_visible()
    expect(page.get_by_role("table", name="Your projects")).to_contain_text("acme-dev")
    expect(page.get_by_role("tab", name="Overview")).to_have_count(0)
    expect(page.get_by_role("progressbar", name="CPU")).to_have_count(0)
    shoot(page, "project-user")
    assert serious_axe_violations(page) == []


def test_guest_is_told_there_is_no_access(context: BrowserContext, quota_api: BillingApi) -> None:
    page = signed_in(context, quota_api.url + "/", "guest")
    expect(page.get_by_text("No access to billing")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)
    shoot(page, "guest")
    assert serious_axe_violations(page) == []


def test_apiserver_outage_is_a_message(
    context: BrowserContext, quota_api: BillingApi, apiserver_relay: tuple[TcpProxy, Path], page_keycloak: Keycloak
) -> None:
    proxy, _ = apiserver_relay
    page = signed_in(context, quota_api.url + "/", "acme-admin")
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()
    proxy.stop()
    try:
        page.reload()  # the API still serves the page; the data behind it is gone
        alert = page.locator(".pf-v6-c-alert.pf-m-danger")
        expect(alert).to_contain_text("Kubernetes API", timeout=WAIT_MS)
        expect(page.get_by_role("button", name="Try again")).to_be_visible()
        shoot(page, "outage")
        assert serious_axe_violations(page) == []
    finally:
        proxy.start()
    token = password_token(page_keycloak.issuer, CLIENT_ID, "acme-admin", demo_users()["acme-admin"])
    eventually(lambda: quota_api.data("/organization-subscription", bearer(token)), timeout=90)  # watches again
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()


def test_an_open_page_follows_a_new_pod_and_an_apiserver_outage(
    context: BrowserContext, quota_api: BillingApi, apiserver_relay: tuple[TcpProxy, Path], enforcing_cluster: Cluster
) -> None:
    """A pod created with kubectl moves the Pods bar of an open page within 2 s (the event stream, no
    reload); the API's apiserver cut and restored under the page, with the pod deleted meanwhile,
    ends in the fresh figure (a full snapshot after the re-list)."""
    proxy, _ = apiserver_relay
    cluster, dev = enforcing_cluster, f"{ORG}-dev"
    page = signed_in(context, quota_api.url + "/", "acme-admin")
    pods = page.get_by_role("progressbar", name="Pods")
    expect(page.get_by_text("Live: changes show here as they happen.")).to_be_visible()
    expect(pods).to_have_attribute("aria-valuetext", "3 / 200 (2%)")
    try:
        cluster.kubectl("create", "-f", "-", input=json.dumps(tree.pod(dev, "live-1", "100m")))
        created = time.monotonic()
        expect(pods).to_have_attribute("aria-valuetext", "4 / 200 (2%)", timeout=WAIT_MS)
        moved = time.monotonic() - created
        print(f"kubectl create returned -> the Pods bar moved on the open page: {moved:.2f} s")
        shoot(page, "live-new-pod")
        assert moved <= 2.0, f"the bar moved {moved:.2f} s after the pod was created"
        proxy.stop()  # the API's watches break: its connections to the apiserver are refused
        try:
            cluster.kubectl("delete", "pod", "live-1", "-n", dev, "--wait=true")
            eventually(lambda: assert_eq(tree.hrq_used(cluster, ORG).get("pods"), "3"), timeout=60)  # HNC counted it
        finally:
            proxy.start()
        expect(pods).to_have_attribute("aria-valuetext", "3 / 200 (2%)", timeout=90_000)  # no reload
        expect(page.get_by_text("Live: changes show here as they happen.")).to_be_visible()
        assert serious_axe_violations(page) == []
    finally:
        cluster.kubectl("delete", "pod", "live-1", "-n", dev, "--ignore-not-found", "--wait=true")


def test_a_narrow_screen_shows_the_overview_without_sideways_scrolling(browser: Browser, quota_api: BillingApi) -> None:
    """390 px wide (a phone): the bars, the quota's health and the tabs fit the width."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = signed_in(ctx, quota_api.url + "/", "acme-admin")
        expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()
        expect(page.get_by_test_id("quota-health-public_ipv4")).to_contain_text("new public IPs will be refused")
        shoot(page, "narrow-overview")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide on a 390 px screen"
        assert serious_axe_violations(page) == []
    finally:
        ctx.close()


@pytest.fixture
def live_acme(acme: str, enforcing_cluster: Cluster) -> Iterator[str]:
    """acme with a live Stripe subscription and customer (stripe-mock answers for any id); restored after."""
    cluster = enforcing_cluster

    def annotate(*pairs: str) -> None:
        cluster.kubectl("annotate", f"organization/{ORG}", "-n", ORG, *pairs, "--overwrite")

    annotate(
        f"{PREFIX}provider-subscription-id=sub_page",
        f"{PREFIX}provider-customer-id=cus_page",
        f"{PREFIX}subscription=active",
    )
    yield ORG
    annotate(
        f"{PREFIX}provider-subscription-id-",
        f"{PREFIX}provider-customer-id-",
        f"{PREFIX}subscription=active",
        f"{PREFIX}plan-id=pro-pool",
        f"{PREFIX}plan-name-",
    )


def test_stripe_buttons_call_the_api_and_tell_the_outcome(
    context: BrowserContext, stripe_api: BillingApi, live_acme: str
) -> None:
    page = signed_in(context, stripe_api.url + "/", "acme-admin")
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()
    expect(page.get_by_role("button", name="Manage Payment")).to_be_visible()

    open_tab(page, "plans")
    page.get_by_role("button", name="Switch to Scale Pool").click()
    dialog = page.get_by_role("dialog", name="Upgrade to Scale Pool")
    with page.expect_response(lambda r: r.request.method == "PUT" and "/organization-subscription" in r.url) as put:
        dialog.get_by_role("button", name="Switch to Scale Pool").click()
    assert put.value.status == 200, put.value.text()
    expect(page.get_by_text("Plan change to Scale Pool requested")).to_be_visible()
    stripe_api.logged("subscription sub_page: plan change to scale-pool requested")  # Stripe answered
    shoot(page, "stripe-plan-change")
    assert serious_axe_violations(page) == []
    # pending until Stripe's webhook confirms it, then the new plan: pushed by the event stream, no reload
    open_tab(page, "overview")
    expect(page.get_by_text("Change pending: waiting for the payment provider's confirmation")).to_be_visible()
    shoot(page, "stripe-plan-change-pending")
    assert serious_axe_violations(page) == []
    items = [("price_scale_pool", 1), ("price_turbo_x1", 1)]
    changed = stripe_events.subscription("sub_page", items, organization=ORG, customer="cus_page")
    body = stripe_events.event("customer.subscription.updated", changed, int(time.time()))
    assert stripe_events.deliver(stripe_api, body).status_code == 200
    expect(page.locator(".oq-card-big")).to_contain_text("Scale Pool")
    expect(page.get_by_test_id("pending-notice")).to_have_count(0)  # and the operator has enforced it

    open_tab(page, "addons")
    page.get_by_role("button", name="Add another Turbo x1").click()
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/addons")) as added:
        page.get_by_role("dialog", name="Add Turbo x1").get_by_role("button", name="Add Turbo x1").click()
    assert added.value.status == 200, added.value.text()
    expect(page.get_by_text("Turbo x1 added")).to_be_visible()

    # stripe-mock keeps nothing: its subscription never has the add-on, and the page says what the API said
    page.get_by_role("button", name="Remove 1 Turbo x1").click()
    dialog = page.get_by_role("dialog", name="Remove one Turbo x1")
    confirm = dialog.get_by_role("button", name="Remove 1")
    expect(confirm).to_be_enabled()  # the simulation found that usage fits without it
    with page.expect_response(lambda r: r.request.method == "DELETE" and "/addons/turbo-x1" in r.url) as removed:
        confirm.click()
    assert removed.value.status == 404, removed.value.text()
    expect(page.get_by_text("the subscription has no add-on 'turbo-x1'")).to_be_visible()

    open_tab(page, "subscription")
    page.get_by_role("button", name="Cancel Subscription").click()
    with page.expect_response(
        lambda r: r.request.method == "DELETE" and r.url.endswith("/organization-subscription")
    ) as cancel:
        page.get_by_role("dialog", name="Cancel the subscription?").get_by_role(
            "button", name="Cancel at period end"
        ).click()
    assert cancel.value.status == 200, cancel.value.text()
    expect(page.get_by_text(re.compile("Subscription canceled"))).to_be_visible()
    shoot(page, "stripe-canceled")
    assert serious_axe_violations(page) == []
    assert json.loads(cancel.value.text())["data"]["status"] == "canceling"
    stripe_api.logged("subscription sub_page: cancellation at period end requested")


def test_stripe_subscribe_goes_to_checkout(
    context: BrowserContext, stripe_api: BillingApi, acme: str, enforcing_cluster: Cluster
) -> None:
    """No live subscription: Subscribe asks the API for a Checkout session and the browser goes there."""
    page = signed_in(context, stripe_api.url + "/", "acme-admin")
    page.route("https://checkout.stripe.com/**", lambda route: route.fulfill(body="<title>Checkout</title>"))
    open_tab(page, "plans")
    page.get_by_role("button", name="Subscribe to Scale Pool").click()
    dialog = page.get_by_role("dialog", name="Subscribe to Scale Pool")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/organization-subscription")
    ) as made:
        dialog.get_by_role("button", name="Continue to checkout").click()
    assert made.value.status == 200  # its body is gone once the browser has left for Checkout
    page.wait_for_url("https://checkout.stripe.com/**")
    stripe_api.logged("created for plan scale-pool")


def test_an_addon_above_the_budget_is_confirmed_first(
    context: BrowserContext, stripe_api: BillingApi, live_acme: str, enforcing_cluster: Cluster
) -> None:
    """A budget of 250 with a cost of 228: one more Turbo x1 (29) is refused with the figures (409
    BUDGET_EXCEEDED), and "Go ahead above the budget" sends it again with overBudget."""
    budget = f"{PREFIX}budget"
    enforcing_cluster.kubectl(
        "annotate", f"organization/{ORG}", "-n", ORG, f'{budget}={{"monthly":"250","currency":"USD"}}', "--overwrite"
    )
    try:
        page = signed_in(context, stripe_api.url + "/", "acme-admin")
        open_tab(page, "addons")
        page.get_by_role("button", name="Add another Turbo x1").click()
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/addons")) as refused:
            page.get_by_role("dialog", name="Add Turbo x1").get_by_role("button", name="Add Turbo x1").click()
        assert refused.value.status == 409, refused.value.text()
        assert refused.value.json()["code"] == "BUDGET_EXCEEDED"
        expect(page.get_by_text("it would cost $257 a month, above your budget of $250")).to_be_visible()
        shoot(page, "stripe-over-budget")
        assert serious_axe_violations(page) == []
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/addons")) as added:
            page.get_by_role("button", name="Go ahead above the budget").click()
        assert added.value.status == 200, added.value.text()
        assert json.loads(added.value.request.post_data or "{}") == {"addonId": "turbo-x1", "overBudget": True}
        expect(page.get_by_text("Turbo x1 added")).to_be_visible()
    finally:
        enforcing_cluster.kubectl("annotate", f"organization/{ORG}", "-n", ORG, f"{budget}-")


def test_stopped_api_is_a_message(context: BrowserContext, stripe_api: BillingApi, live_acme: str) -> None:
    """The API process ends under an open page (the module's last use of it): the next call is named."""
    page = signed_in(context, stripe_api.url + "/", "acme-admin")
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()
    stripe_api.stop()
    page.get_by_role("button", name="Manage Payment").click()
    expect(page.get_by_text(re.compile(r"Cannot reach the billing API \(POST .*/customer-portal\)"))).to_be_visible()
    expect(page.get_by_role("progressbar", name="CPU")).to_be_visible()  # what was shown stays
    shoot(page, "api-stopped")
    assert serious_axe_violations(page) == []


def test_alerts_tab_shows_the_alert_its_fix_and_checks_the_forms(
    context: BrowserContext, quota_api: BillingApi
) -> None:
    """acme's one public IPv4 of one is the operator's critical alert (memory at 78 % is none); the
    forms' refusals (the page's and the API's 400) are shown beside the field; a budget is set and cleared."""
    page = signed_in(context, quota_api.url + "/", "acme-admin")
    open_tab(page, "alerts")
    ipv4 = page.get_by_test_id("alert-public_ipv4")
    expect(ipv4.get_by_role("heading")).to_contain_text("Public IPv4 at 100 % of its quota (critical)")
    expect(ipv4).to_contain_text("The quota is full: no more public IPv4 addresses can be allocated.")
    expect(ipv4.get_by_test_id("alert-fix")).to_contain_text("raise the quota")  # no Prometheus: no advice
    expect(page.get_by_test_id("alert-memory")).to_have_count(0)
    expect(page.get_by_text("This platform sends no e-mail yet")).to_be_visible()  # no SMTP_URL
    expect(page.get_by_test_id("budget-current")).to_have_text("$228")
    expect(page.get_by_test_id("budget-monthly")).to_have_text("None set")

    emails = page.get_by_label("Addresses to mail alerts to")
    emails.fill("\n".join(f"ops{n}@acme.example" for n in range(11)))
    page.get_by_role("button", name="Save addresses").click()
    expect(page.get_by_test_id("emails-error")).to_contain_text("At most 10 addresses (11 given).")
    emails.fill("ops@acme.example\nops@localhost")  # a shape the page lets through; the API refuses it
    with page.expect_response(lambda r: r.request.method == "PUT" and r.url.endswith("/notification-settings")) as put:
        page.get_by_role("button", name="Save addresses").click()
    assert put.value.status == 400, put.value.text()
    expect(page.get_by_test_id("emails-error")).to_contain_text("'ops@localhost' is not an e-mail address")
    expect(emails).to_have_attribute("aria-invalid", "true")

    amount = page.get_by_label("New monthly budget (USD)")
    amount.fill("12.345")
    page.get_by_role("button", name="Set budget").click()
    expect(page.get_by_test_id("budget-error")).to_contain_text("at most two decimals")
    amount.fill("250")
    page.get_by_role("button", name="Set budget").click()
    expect(page.get_by_test_id("budget-monthly")).to_have_text("$250")
    expect(page.get_by_role("progressbar", name="Budget used")).to_have_attribute(
        "aria-valuetext", "91.2 % of the budget"
    )  # 228 of 250
    shoot(page, "admin-alerts-forms")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Clear budget").click()
    expect(page.get_by_test_id("budget-monthly")).to_have_text("None set")
    emails.fill("ops@acme.example")
    page.get_by_role("button", name="Save addresses").click()
    expect(page.get_by_text("Saved: 1 address(es).")).to_be_visible()
    page.reload()
    emails = page.get_by_label("Addresses to mail alerts to")
    expect(emails).to_have_value("ops@acme.example")  # stored
    emails.fill("")
    page.get_by_role("button", name="Save addresses").click()
    expect(page.get_by_text("Saved: alerts go to the organization's contact address.")).to_be_visible()
