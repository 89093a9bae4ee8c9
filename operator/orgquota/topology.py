"""Which namespaces belong to which organization, and the public EIps in them, as watched.

HNC labels every namespace with `<ancestor>.tree.hnc.x-k8s.io/depth` for itself and each
ancestor, so one watch of namespaces answers "whose is this namespace" for every organization.
This memory only feeds the usage figures in status; decisions that stop or restore workloads
list namespaces from the API, so they never act on a partial view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

TREE_LABEL_SUFFIX: Final = ".tree.hnc.x-k8s.io/depth"
PUBLIC_EIP_LABEL: Final = "network.kube-dc.com/external-network-type"


def tree_of(labels: Mapping[str, str]) -> frozenset[str]:
    """The namespace itself and its ancestors, from HNC's tree labels."""
    return frozenset(key.removesuffix(TREE_LABEL_SUFFIX) for key in labels if key.endswith(TREE_LABEL_SUFFIX))


class Topology:
    def __init__(self) -> None:
        self._trees: dict[str, frozenset[str]] = {}
        self._public_eips: dict[tuple[str, str], str] = {}

    def observe_namespace(self, body: Mapping[str, Any], *, deleted: bool = False) -> None:
        name = body["metadata"]["name"]
        if deleted:
            self._trees.pop(name, None)
        else:
            self._trees[name] = tree_of(body["metadata"].get("labels") or {}) | {name}

    def observe_eip(self, body: Mapping[str, Any], *, deleted: bool = False) -> frozenset[str]:
        """Remember a public EIp (or forget one); returns the namespaces whose organizations it counts for."""
        meta = body["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        public = (meta.get("labels") or {}).get(PUBLIC_EIP_LABEL) == "public"
        if deleted or not public:
            self._public_eips.pop(key, None)
        else:
            self._public_eips[key] = key[0]
        return self.tree(key[0])

    def tree(self, namespace: str) -> frozenset[str]:
        return self._trees.get(namespace, frozenset({namespace}))

    def public_ips(self, org_namespace: str) -> int:
        """Public EIps in the organization's namespace and in every namespace below it."""
        return sum(1 for namespace in self._public_eips.values() if org_namespace in self.tree(namespace))
