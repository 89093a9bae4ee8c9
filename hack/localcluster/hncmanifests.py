"""HNC's install manifests for a manager that runs as a process on loopback, read from HNC's own module.

Upstream assembles them with kustomize (the `hrq` variant: names prefixed `hnc-`, namespace
`hnc-system`, webhook patches, the two HRQ webhooks). This does the same few transformations in
Python, and points every webhook at `https://127.0.0.1:<port><path>` with our CA instead of at a
Service, since there is no Service network here.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any, Final

import yaml

from .hnc import hnc_config_dir
from .versions import HNC_NAMESPACE

Doc = dict[str, Any]

NAME_PREFIX: Final = "hnc-"
CRD_FILES: Final = (
    "crd/bases/hnc.x-k8s.io_hierarchyconfigurations.yaml",
    "crd/bases/hnc.x-k8s.io_hncconfigurations.yaml",
    "crd/bases/hnc.x-k8s.io_subnamespaceanchors.yaml",
    "crd/bases/hnc.x-k8s.io_hierarchicalresourcequotas.yaml",
)
RBAC_FILES: Final = (
    "rbac/role.yaml",
    "rbac/role_binding.yaml",
    "rbac/hnc_admin.yaml",
    "rbac/leader_election_role.yaml",
    "rbac/leader_election_role_binding.yaml",
)
WEBHOOK_FILE: Final = "webhook/manifests.yaml"
# Applied in this order, as kustomize does: the base's patch, then the hrq variant's (which adds webhooks).
WEBHOOK_PATCHES: Final = ("webhook/webhook_patch.yaml", "variants/hrq/webhook_patch.yaml")
NAMESPACED_KINDS: Final = frozenset({"Role", "RoleBinding", "ServiceAccount"})
# Kube-DC relies on HNC copying an organization's LimitRange into its projects.
PROPAGATED_RESOURCES: Final = ({"resource": "limitranges", "mode": "Propagate"},)


def _docs(relative: str, config: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all((config / relative).read_text()) if isinstance(d, dict)]


def crds(config: Path | None = None) -> list[Doc]:
    """All four HNC CRDs, unchanged (upstream's conversion-webhook patches are not enabled)."""
    config = config or hnc_config_dir()
    return [doc for f in CRD_FILES for doc in _docs(f, config)]


def namespace() -> Doc:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": HNC_NAMESPACE}}


def rbac(config: Path | None = None) -> list[Doc]:
    """HNC's roles and bindings with kustomize's name prefix and namespace applied."""
    config = config or hnc_config_dir()
    result = []
    for doc in (copy.deepcopy(d) for f in RBAC_FILES for d in _docs(f, config)):
        meta = doc["metadata"]
        meta["name"] = NAME_PREFIX + meta["name"]
        meta.pop("creationTimestamp", None)
        if doc["kind"] in NAMESPACED_KINDS:
            meta["namespace"] = HNC_NAMESPACE
        if "roleRef" in doc:
            doc["roleRef"]["name"] = NAME_PREFIX + doc["roleRef"]["name"]
        for subject in doc.get("subjects", []):
            if subject.get("kind") == "ServiceAccount":
                subject["namespace"] = HNC_NAMESPACE
        result.append(doc)
    return result


def _merge(base: Doc, patch: Doc) -> Doc:
    """Strategic merge as it applies to these files: maps merge, lists (e.g. `rules`) are replaced."""
    merged = dict(base)
    for key, value in patch.items():
        both_maps = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if both_maps else value
    return merged


def _patched(doc: Doc, patches: list[Doc]) -> Doc:
    """`doc`'s webhooks with each patch of the same kind and name merged in by webhook name."""
    hooks = {h["name"]: h for h in doc["webhooks"]}
    for patch in patches:
        if (patch["kind"], patch["metadata"]["name"]) != (doc["kind"], doc["metadata"]["name"]):
            continue
        for hook in patch["webhooks"]:
            hooks[hook["name"]] = _merge(hooks.get(hook["name"], {}), hook)
    return {**doc, "webhooks": list(hooks.values())}


def webhook_configurations(base_url: str, ca_cert: Path, config: Path | None = None) -> list[Doc]:
    """HNC's Validating- and MutatingWebhookConfiguration, each webhook calling `base_url` + its path."""
    config = config or hnc_config_dir()
    patches = [p for f in WEBHOOK_PATCHES for p in _docs(f, config)]
    ca_bundle = base64.b64encode(ca_cert.read_bytes()).decode()
    result = []
    for doc in _docs(WEBHOOK_FILE, config):
        doc = copy.deepcopy(_patched(doc, patches))
        doc["metadata"] = {"name": NAME_PREFIX + doc["metadata"]["name"]}
        for hook in doc["webhooks"]:
            path = hook["clientConfig"]["service"]["path"]
            hook["clientConfig"] = {"url": f"{base_url.rstrip('/')}{path}", "caBundle": ca_bundle}
        result.append(doc)
    return result


def hnc_configuration() -> Doc:
    """The cluster's HNCConfiguration singleton: also propagate LimitRanges (roles/bindings always are)."""
    return {
        "apiVersion": "hnc.x-k8s.io/v1alpha2",
        "kind": "HNCConfiguration",
        "metadata": {"name": "config"},
        "spec": {"resources": [dict(r) for r in PROPAGATED_RESOURCES]},
    }
