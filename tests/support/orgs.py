"""Organizations in the e2e tests: created in namespaces of their own, and what the operator made of them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import yaml

from localcluster.kubectl import Cluster
from tests.support.operator_process import OperatorProcess, webhooks_off


class Orgs:
    """Creates organizations (each in a namespace of its own) and reads what the operator made of them."""

    def __init__(self, cluster: Cluster, operator: OperatorProcess) -> None:
        self.cluster = cluster
        self.operator = operator

    def create_bypassing_webhooks(self, annotations: dict[str, str]) -> str:
        with webhooks_off(self.operator):
            return self.create(annotations)

    def create(self, annotations: dict[str, str] | None = None, name: str = "") -> str:
        name = name or f"org-{uuid.uuid4().hex[:8]}"
        manifests = [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            {
                "apiVersion": "kube-dc.com/v1",
                "kind": "Organization",
                "metadata": {"name": name, "namespace": name, "annotations": annotations or {}},
                "spec": {"email": f"admin@{name}.example"},
            },
        ]
        self.cluster.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(manifests))
        return name

    def annotate(self, name: str, *pairs: str) -> None:
        self.cluster.kubectl("annotate", f"organization/{name}", "-n", name, *pairs, "--overwrite")

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        proc = self.cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if proc.returncode != 0:
            assert "NotFound" in proc.stderr, proc.stderr
            return None
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def hrq(self, namespace: str) -> dict[str, Any] | None:
        return self.get("hierarchicalresourcequotas.hnc.x-k8s.io", namespace, "plan-quota")

    def hard(self, namespace: str) -> dict[str, str]:
        hrq = self.hrq(namespace)
        assert hrq is not None, f"no HRQ in {namespace}"
        hard: dict[str, str] = hrq["spec"]["hard"]
        return hard

    def limit_range(self, namespace: str) -> dict[str, Any] | None:
        return self.get("limitrange", namespace, "default-resource-limits")

    def status(self, name: str) -> dict[str, Any]:
        org = self.get("organization", name, name)
        assert org is not None
        status: dict[str, Any] = org.get("status") or {}
        return status

    def condition(self, name: str) -> dict[str, Any]:
        conditions = self.status(name).get("conditions") or []
        found = [c for c in conditions if c["type"] == "QuotaReady"]
        assert found, f"{name} has no QuotaReady condition yet"
        return dict(found[0])

    def reason(self, name: str, reason: str) -> dict[str, Any]:
        """The QuotaReady condition, asserting its reason."""
        condition = self.condition(name)
        assert condition["reason"] == reason, condition
        return condition

    def has_event(self, name: str, reason: str, text: str = "", type_: str = "") -> None:
        """Assert an Event about the organization (events are posted asynchronously: use `eventually`)."""
        events = self.events(name)
        assert any(
            e["reason"] == reason and text in e.get("message", "") and type_ in (e.get("type"), "") for e in events
        ), [(e["reason"], e.get("message")) for e in events]

    def events(self, name: str) -> list[dict[str, Any]]:
        listed = self.cluster.get_json("events", "-n", name, "--field-selector", f"involvedObject.name={name}")
        return list(listed["items"])
