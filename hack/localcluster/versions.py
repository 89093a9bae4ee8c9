"""The one place that pins what the local control plane runs; bump versions here only."""

from __future__ import annotations

from pathlib import Path
from typing import Final

KUBERNETES_VERSION: Final = "v1.37.2"
ETCD_VERSION: Final = "v3.7.3"

# Helm, for the chart in deploy/chart/ (lint, template, install); built from hack/helm/go.mod, which pins the same.
HELM_VERSION: Final = "v4.3.1"

# Keycloak, the identity provider the billing API trusts (tests and `make run`): the Quarkus distribution
# zip from Maven Central, fetched with the machine's Maven through a pinned maven-dependency-plugin.
KEYCLOAK_VERSION: Final = "26.5.6"
KEYCLOAK_ARTIFACT: Final = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
MAVEN_DEPENDENCY_PLUGIN: Final = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

# stripe-mock, the Stripe API stand-in for the billing API's tests; hack/stripe-mock/go.mod pins the same.
STRIPE_MOCK_VERSION: Final = "v0.203.0"

HNC_MODULE: Final = "sigs.k8s.io/hierarchical-namespaces"
HNC_VERSION: Final = "v1.1.0"
# go.sum-style hash of the module zip, so the no-Go download path is as trustworthy as `go mod download`.
HNC_MODULE_SUM: Final = "h1:aPf67ywj8hJaIl5TWPY5wgN+Gwa3oxQNyNqhAHznU3A="
HNC_HRQ_CRD: Final = "config/crd/bases/hnc.x-k8s.io_hierarchicalresourcequotas.yaml"
# Where HNC keeps its objects and which namespaces it leaves alone: those of its own Deployment manifest.
HNC_NAMESPACE: Final = "hnc-system"
HNC_EXCLUDED_NAMESPACES: Final = ("kube-system", "kube-public", "hnc-system", "kube-node-lease")

# hack/localcluster/versions.py -> the repository root (the package is installed editable from the tree).
REPO_ROOT: Final = Path(__file__).resolve().parents[2]
CONTROLPLANE_MODULES: Final = REPO_ROOT / "hack" / "controlplane"
HELM_MODULE_DIR: Final = REPO_ROOT / "hack" / "helm"
STRIPE_MOCK_MODULE_DIR: Final = REPO_ROOT / "hack" / "stripe-mock"
KEYCLOAK_REALMS: Final = REPO_ROOT / "hack" / "keycloak"
HNC_MODULE_DIR: Final = REPO_ROOT / "hack" / "hnc"
PROJECT_CRDS: Final = REPO_ROOT / "crds"
PROMETHEUS_RULES: Final = REPO_ROOT / "deploy" / "prometheus" / "rules"
ALERTMANAGER_CONFIG: Final = REPO_ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
