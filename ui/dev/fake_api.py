#!/usr/bin/env python3
"""A stand-in for `orgquota api` while developing or screenshotting the page.

Serves ui/dist at "/", an /env.js pointing at a fake OIDC issuer on the same port (it signs
everyone in at once, so the page's real sign-in code runs), and fixture JSON for every
/api/billing route in the real envelopes. Tokens are not checked. Never a production server.

    python3 dev/fake_api.py --port 5174 --provider stripe --role admin
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fake_oidc
from fake_alerts import AlertSettings

HERE = Path(__file__).resolve().parent
FIXTURES = json.loads((HERE / "fixtures.json").read_text())
FEATURES = {
    "none": dict(quotas=True, plans=True, checkout=False, portal=False, webhooks=False, addons=False),
    "stripe": dict(quotas=True, plans=True, checkout=True, portal=True, webhooks=True, addons=True),
    "whmcs": dict(quotas=True, plans=True, checkout=False, portal=False, webhooks=True, addons=False),
}
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}


SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    m = re.fullmatch(r"([0-9]+)([smhd])", text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return int(m[1]) * SECONDS[m[2]]


def usage_history(resource: str, range_: str, step: str) -> dict[str, Any]:
    """/usage-history from the fixture's model (a weekly wave on a straight line) up to its generatedAt,
    as the page's tests build it (src/test/fakeApi.ts historyFixture)."""
    model = FIXTURES["history"]["series"][resource]
    end = int(datetime.fromisoformat(FIXTURES["history"]["generatedAt"]).timestamp())
    span, every = duration(range_), duration(step)
    used, limit = [], []
    for t in range(end - span // every * every, end + 1, every):
        days_ago = (end - t) / 86400
        if days_ago > model["days"]:
            continue
        value = model["now"] - model["perDay"] * days_ago + model["wiggle"] * math.sin(2 * math.pi * days_ago / 7)
        used.append([t, max(0, round(value, 2))])
        limit.append([t, model["limit"]])
    return {
        "resource": resource,
        "unit": model["unit"],
        "range": f"{span}s",
        "step": f"{every}s",
        "used": used,
        "limit": limit,
    }


class State:
    """The organization as the fake API currently sees it (changed by the payment routes)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sub: dict[str, Any] = copy.deepcopy(FIXTURES["subscription"])
        self.alert_settings = AlertSettings()
        if args.no_plan:
            self.sub.update(
                planId=None,
                planName=None,
                status=None,
                mode="none",
                since=None,
                providerSubscriptionId=None,
                providerCustomerId=None,
                addons=[],
                usage={},
                monthlyCost={"plan": 0, "addons": 0, "total": 0, "currency": "EUR"},
            )
        if args.advice == "upgrade":  # the fixture's upgrade is from Pro Pool
            self.sub["planId"] = "pro-pool"
            self.refresh()
        if args.status:
            self.sub["status"] = args.status
            if args.status == "canceling":
                self.sub["periodEnd"] = "2026-12-31T00:00:00Z"

    def plan(self, plan_id: str | None) -> dict[str, Any] | None:
        return next((p for p in FIXTURES["plans"] if p["id"] == plan_id), None)

    def addon(self, addon_id: str) -> dict[str, Any] | None:
        return next((a for a in FIXTURES["addons"] if a["id"] == addon_id), None)

    def limits(self, plan_id: str, addons: list[dict[str, Any]]) -> dict[str, float]:
        plan = self.plan(plan_id)
        assert plan is not None
        over = FIXTURES["overheadPerProject"]
        n = FIXTURES["projectsLimit"]
        out = {
            "cpu": plan["resources"]["cpu"] + over["cpu"] * n,
            "memory": plan["resources"]["memory"] + over["memory"] * n,
            "storage": plan["resources"]["storage"],
            "pods": plan["pods"],
            "publicIPv4": plan["ipv4"],
        }
        for entry in addons:
            a = self.addon(entry["addonId"])
            if a:
                out["cpu"] += float(a["cpu"]) * entry["quantity"]
                out["memory"] += float(a["memory"].removesuffix("Gi")) * entry["quantity"]
                out["storage"] += float(a["storage"].removesuffix("Gi")) * entry["quantity"]
        return out

    def refresh(self) -> None:
        """Recompute limits and cost after a change, as the real API would after the operator acts."""
        plan = self.plan(self.sub["planId"])
        if not plan:
            return
        self.sub["planName"] = plan["displayName"]
        for key, limit in self.limits(plan["id"], self.sub["addons"]).items():
            self.sub["usage"].setdefault(key, {"used": 0})["limit"] = limit
        addon_cost = sum(self.addon(e["addonId"])["price"] * e["quantity"] for e in self.sub["addons"])  # type: ignore[index]
        self.sub["monthlyCost"] = {
            "plan": plan["price"],
            "addons": addon_cost,
            "total": plan["price"] + addon_cost,
            "currency": "EUR",
        }


class Handler(BaseHTTPRequestHandler):
    state: State
    dist: Path

    def log_message(self, fmt: str, *args: Any) -> None:  # quieter than the default
        print(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}", flush=True)

    # -- plumbing --------------------------------------------------------------------------
    def send(
        self, status: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def ok(self, data: Any, key: str = "data") -> None:
        self.send(200, json.dumps({"success": True, key: data}).encode())

    def fail(self, status: int, error: str, details: dict[str, Any] | None = None) -> None:
        body = {"success": False, "error": error, "details": details or {}, "timestamp": datetime.now(UTC).isoformat()}
        self.send(status, json.dumps(body).encode())

    def body(self) -> dict[str, Any]:
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}") if n else {}

    def redirect(self, url: str) -> None:
        self.send(302, b"", "text/plain", {"Location": url})

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PUT(self) -> None:
        self.route("PUT")

    def do_DELETE(self) -> None:
        self.route("DELETE")

    # -- routes -----------------------------------------------------------------------------
    def route(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        base = f"http://{self.headers.get('Host')}"
        if url.path == "/env.js":
            js = (
                f"window.backendURL = '';\nwindow.keycloakURL = '{base}/fake-oidc';\n"
                "window.keycloakClientId = 'kube-dc';\n"
            )
            if self.state.args.axe:
                js += (HERE / "axe-runner.js").read_text()
            return self.send(200, js.encode(), "text/javascript")
        if url.path == "/dev/axe.min.js":
            return self.send(200, (HERE.parent / "node_modules/axe-core/axe.min.js").read_bytes(), "text/javascript")
        if url.path.startswith("/fake-oidc"):
            return self.oidc(method, url.path.removeprefix("/fake-oidc"), query, base)
        if url.path == "/fake-portal":
            return self.send(200, b"<h1>Fake payment portal</h1><a href='/'>Back to billing</a>", "text/html")
        if url.path.startswith("/api/billing"):
            return self.api(method, url.path.removeprefix("/api/billing"), query)
        return self.static(url.path)

    def cap(self, method: str, namespace: str, query: dict[str, str]) -> None:
        """A project's cap set or removed in memory: every cap fits (no pods are modelled)."""
        project = next((p for p in FIXTURES["projects"] if p["namespace"] == namespace), None)
        if project is None:
            return self.fail(404, f"namespace {namespace!r} not found", {"namespace": namespace})
        sent = self.body() if method == "PUT" else {}
        cap = {k: sent.get(k) for k in ("cpu", "memory", "storage", "pods")} if method == "PUT" else None
        dry = query.get("dryRun") == "true"
        if not dry:
            project["cap"] = cap
        verb = "would be" if dry else "is"
        return self.ok(
            {
                "namespace": namespace,
                "cap": cap,
                "dryRun": dry,
                "changed": True,
                "violations": [],
                "capsTotal": cap or {"cpu": None, "memory": None, "storage": None, "pods": None},
                "exceedsPlan": [],
                "message": f"{namespace} {verb} {'capped' if cap else 'not capped'}",
            }
        )

    def oidc(self, method: str, path: str, query: dict[str, str], base: str) -> None:
        issuer = f"{base}/fake-oidc"
        if path == "/.well-known/openid-configuration":
            return self.send(200, json.dumps(fake_oidc.discovery(issuer)).encode())
        if path == "/auth":
            return self.redirect(fake_oidc.authorize_redirect(query))
        if path == "/token" and method == "POST":
            form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()))
            return self.send(200, json.dumps(fake_oidc.tokens(issuer, form, self.state.args.role)).encode())
        if path == "/logout":
            return self.redirect(query.get("post_logout_redirect_uri", "/"))
        return self.fail(404, f"Unknown fake OIDC path {path}")

    def api(self, method: str, path: str, query: dict[str, str]) -> None:
        st, args = self.state, self.state.args
        provider = args.provider
        if (method, path) == ("GET", "/config"):
            url = "https://billing.example.com/clientarea.php" if provider == "whmcs" else None
            features = {**FEATURES[provider], "history": not args.no_history}
            return self.ok({"provider": provider, "features": features, "externalBillingUrl": url}, "config")
        if (method, path) == ("GET", "/plans"):
            return self.ok(FIXTURES["plans"])
        if (method, path) == ("GET", "/addons"):
            return self.ok(FIXTURES["addons"])
        if (method, path) == ("GET", "/projects"):
            if args.role == "guest":
                return self.fail(403, "No organization or project access")
            return self.ok(FIXTURES["projects"][:1] if args.role == "project" else FIXTURES["projects"])
        if args.role != "admin":
            return self.fail(403, "Organization admin rights required")
        if (method, path) == ("GET", "/organization-subscription"):
            if args.fail:
                return self.fail(503, "Kubernetes API unreachable", {"retryAfter": 5})
            return self.ok(st.sub)
        if path in ("/usage-history", "/forecast", "/recommendations"):
            return self.history(path, query)
        alerts = st.alert_settings.answer(st.sub, method, path, self.body() if method == "PUT" else {})
        if alerts is not None:
            status, data = alerts
            return self.ok(data) if status == 200 else self.fail(status, data["error"], data["details"])
        if (method, path) == ("POST", "/simulate-downgrade"):
            b = self.body()
            if not st.plan(b.get("planId")):
                return self.fail(400, f"Unknown plan {b.get('planId')!r}")
            limits = st.limits(b["planId"], b.get("addons") or [])
            violations = [
                {"resource": k, "used": st.sub["usage"][k]["used"], "newLimit": v}
                for k, v in limits.items()
                if k in st.sub["usage"] and st.sub["usage"][k]["used"] > v
            ]
            return self.ok({"fits": not violations, "violations": violations})
        cap_of = re.fullmatch(r"/project/([^/]+)/cap", path)
        if cap_of and method in ("PUT", "DELETE"):
            return self.cap(method, cap_of[1], query)
        if provider != "stripe":
            return self.fail(404, f"Route not found: {method} /api/billing{path}")
        if (method, path) == ("POST", "/organization-subscription"):
            return self.ok(
                {"checkoutUrl": f"/?sessionId=cs_test_{self.body().get('planId')}#overview", "sessionId": "cs_test"}
            )
        if (method, path) == ("GET", "/verify-checkout"):
            plan = st.plan(query.get("sessionId", "").removeprefix("cs_test_"))
            if plan:
                st.sub.update(planId=plan["id"], status="active", providerSubscriptionId="sub_fakeNew")
                st.refresh()
            return self.ok(
                {"status": "complete", "planId": plan and plan["id"], "planName": plan and plan["displayName"]}
            )
        if (method, path) == ("PUT", "/organization-subscription"):
            plan_id = str(self.body().get("planId"))
            if not st.plan(plan_id):
                return self.fail(400, f"Unknown plan {plan_id!r}")
            limits = st.limits(plan_id, st.sub["addons"])
            violations = [
                {"resource": k, "used": st.sub["usage"][k]["used"], "newLimit": v}
                for k, v in limits.items()
                if st.sub["usage"].get(k, {}).get("used", 0) > v
            ]
            if violations:
                return self.fail(409, "Current usage does not fit the new plan", {"violations": violations})
            st.sub["planId"] = plan_id
            st.refresh()
            return self.ok({"planId": plan_id})
        if (method, path) == ("DELETE", "/organization-subscription"):
            st.sub.update(status="canceling", periodEnd="2026-12-31T00:00:00Z")
            return self.ok({"status": "canceling", "periodEnd": st.sub["periodEnd"]})
        if (method, path) == ("POST", "/organization-subscription/addons"):
            addon_id = self.body().get("addonId")
            entry = next((e for e in st.sub["addons"] if e["addonId"] == addon_id), None)
            if entry:
                entry["quantity"] += 1
            else:
                st.sub["addons"].append({"addonId": addon_id, "quantity": 1})
            st.refresh()
            return self.ok({"addons": st.sub["addons"]})
        if method == "DELETE" and path.startswith("/organization-subscription/addons/"):
            addon_id = path.rsplit("/", 1)[1]
            for e in st.sub["addons"]:
                if e["addonId"] == addon_id:
                    e["quantity"] -= 1
            st.sub["addons"] = [e for e in st.sub["addons"] if e["quantity"] > 0]
            st.refresh()
            return self.ok({"addons": st.sub["addons"]})
        if (method, path) == ("POST", "/customer-portal"):
            return self.ok({"url": "/fake-portal"})
        return self.fail(404, f"Route not found: {method} /api/billing{path}")

    def history(self, path: str, query: dict[str, str]) -> None:
        args = self.state.args
        if args.no_history:
            return self.fail(503, "usage history is not configured (PROMETHEUS_URL is not set)", {"feature": "history"})
        if args.history_fail:
            return self.fail(
                503, "usage history is unavailable: Prometheus did not answer in time", {"feature": "history"}
            )
        if path == "/forecast":
            return self.ok(FIXTURES["history"]["forecast"])
        if path == "/recommendations":
            return self.ok(FIXTURES["history"]["recommendations"][args.advice])
        resource = query.get("resource", "cpu")
        if resource not in FIXTURES["history"]["series"]:
            return self.fail(400, "resource: not a resource with history", {"resource": resource[:64]})
        return self.ok(usage_history(resource, query.get("range", "7d"), query.get("step", "1h")))

    def static(self, path: str) -> None:
        target = (self.dist / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.dist) or not target.is_file():
            target = self.dist / "index.html"
        if not target.is_file():
            return self.fail(404, f"{self.dist} has no build: run npm run build")
        self.send(200, target.read_bytes(), TYPES.get(target.suffix, "application/octet-stream"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5174)
    p.add_argument("--provider", choices=sorted(FEATURES), default="stripe")
    p.add_argument("--role", choices=["admin", "project", "guest"], default="admin")
    p.add_argument("--status", help="subscription status to start with (e.g. canceling, past_due)")
    p.add_argument("--no-plan", action="store_true", help="an organization without a plan")
    p.add_argument("--fail", action="store_true", help="GET /organization-subscription answers 503")
    p.add_argument(
        "--no-history", action="store_true", help="no Prometheus: features.history false, history routes 503"
    )
    p.add_argument("--history-fail", action="store_true", help="the history routes answer 503 (Prometheus down)")
    p.add_argument(
        "--advice", choices=["addon", "upgrade", "downgrade", "none"], default="addon", help="the advice given"
    )
    p.add_argument("--axe", action="store_true", help="run axe-core in the page (see AXE_RUNNER)")
    p.add_argument("--dist", type=Path, default=HERE.parent / "dist")
    args = p.parse_args()
    Handler.state = State(args)
    Handler.dist = args.dist.resolve()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"fake billing API on http://{args.host}:{args.port}/ ({args.provider}, {args.role})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
