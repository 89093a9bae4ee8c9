"""deploy/orgquota.yaml applies to a real apiserver as its header says (one server-side apply).

cert-manager is not installed here, so its two objects (Issuer, Certificate) are left out; everything
else must be accepted as written. (That the file is what the chart renders: test_chart.py.)
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from localcluster.chart import PLAIN_MANIFEST, PLAIN_NAMESPACE, documents
from localcluster.kubectl import Cluster
from tests.support.catalog import CATALOG_NAMESPACE
from tests.support.cluster import ensure_namespace, external_kubeconfig


def _exists(cluster: Cluster, doc: dict[str, Any]) -> None:
    meta = doc["metadata"]
    group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
    kind = f"{doc['kind']}.{group}" if group else doc["kind"]
    scope = ["-n", meta["namespace"]] if meta.get("namespace") else []
    cluster.kubectl("get", kind, meta["name"], *scope)


def test_the_plain_manifest_applies(isolated_cluster: Cluster) -> None:
    if external_kubeconfig() is not None:
        pytest.skip("creates the release's cluster-wide objects: only in the control plane this session starts")
    cluster = isolated_cluster
    ensure_namespace(cluster, CATALOG_NAMESPACE)
    docs = [d for d in documents(PLAIN_MANIFEST.read_text()) if not d["apiVersion"].startswith("cert-manager.io/")]
    text = yaml.safe_dump_all(docs)
    cluster.kubectl("apply", "--server-side", "-f", "-", input=text)  # one pass: no object of a CRD it creates
    for doc in docs:
        _exists(cluster, doc)
    deployment = cluster.get_json("deployment", "orgquota", "-n", PLAIN_NAMESPACE)
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"name": "webhook-tls", "secret": {"secretName": "orgquota-webhook-tls", "defaultMode": 420}} in volumes
