"""The usage history in the chart: off by default; when enabled, a metrics Service, a ServiceMonitor for
the operator and the billing API, and a PrometheusRule holding exactly deploy/prometheus/rules/; the
API's PROMETHEUS_URL from `prometheus.url`."""

from __future__ import annotations

from typing import Any

import yaml

from localcluster.chart import documents, lint, template
from localcluster.versions import PROMETHEUS_RULES

RELEASE = "orgquota"
NAMESPACE = "orgquota-system"
MONITORING: dict[str, Any] = {"prometheus": {"monitoring": {"enabled": True, "labels": {"release": "kps"}}}}
API: dict[str, Any] = {"api": {"enabled": True, "oidc": {"issuerUrl": "https://login.example.com/realms/kube-dc"}}}
MONITORING_KINDS = {"ServiceMonitor", "PrometheusRule"}


def render(*value_sets: dict[str, Any]) -> list[dict[str, Any]]:
    values: dict[str, Any] = {}
    for value_set in value_sets:
        values |= value_set
    return documents(template(RELEASE, NAMESPACE, values))


def one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} {name} rendered"
    return found[0]


def api_env(docs: list[dict[str, Any]]) -> dict[str, str]:
    container = one(docs, "Deployment", f"{RELEASE}-api")["spec"]["template"]["spec"]["containers"][0]
    return {item["name"]: item.get("value", "") for item in container["env"]}


def test_off_by_default() -> None:
    docs = render(API)
    assert not [d for d in docs if d["kind"] in MONITORING_KINDS or d["metadata"]["name"].endswith("-metrics")]
    assert "PROMETHEUS_URL" not in api_env(docs)


def test_enabled_it_lints_with_and_without_the_api() -> None:
    assert "0 chart(s) failed" in lint(MONITORING)
    assert "0 chart(s) failed" in lint(MONITORING | API)


def test_the_prometheus_rule_holds_exactly_the_rule_files() -> None:
    expected = [
        group for path in sorted(PROMETHEUS_RULES.glob("*.yml")) for group in yaml.safe_load(path.read_text())["groups"]
    ]
    rule = one(render(MONITORING), "PrometheusRule", RELEASE)
    assert rule["spec"]["groups"] == expected
    assert rule["metadata"]["labels"]["release"] == "kps"


def test_the_service_monitor_scrapes_the_operators_metrics_port_and_the_apis() -> None:
    docs = render(MONITORING, API)
    monitor = one(docs, "ServiceMonitor", RELEASE)
    assert monitor["metadata"]["labels"]["release"] == "kps"
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [d for d in docs if d["kind"] == "Service" and selector.items() <= d["metadata"]["labels"].items()]
    ports = {port["name"]: service["metadata"]["name"] for service in selected for port in service["spec"]["ports"]}
    assert [(e["port"], e["path"], ports.get(e["port"])) for e in monitor["spec"]["endpoints"]] == [
        ("metrics", "/metrics", f"{RELEASE}-metrics"),
        ("http", "/metrics", f"{RELEASE}-api"),
    ]
    metrics = one(docs, "Service", f"{RELEASE}-metrics")
    operator = one(docs, "Deployment", RELEASE)["spec"]["template"]
    assert metrics["spec"]["selector"].items() <= operator["metadata"]["labels"].items()
    container_ports = {port["name"] for port in operator["spec"]["containers"][0]["ports"]}
    assert metrics["spec"]["ports"][0]["targetPort"] in container_ports
    assert [e["port"] for e in one(render(MONITORING), "ServiceMonitor", RELEASE)["spec"]["endpoints"]] == ["metrics"]


def test_the_api_gets_prometheus_url() -> None:
    env = api_env(render(API, {"prometheus": {"url": "http://prometheus-operated.monitoring:9090"}}))
    assert env["PROMETHEUS_URL"] == "http://prometheus-operated.monitoring:9090"
