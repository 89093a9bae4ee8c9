"""Which organizations a public EIp counts for, from the HNC tree of the namespace it is in.

HNC labels every namespace with `<ancestor>.tree.hnc.x-k8s.io/depth` for itself and each
ancestor. Only the namespaces that hold public EIps are remembered, read when their first one
is seen (not a watch of every namespace: clusters have many more namespaces than public IPs,
and a kube-dc project namespace stays under its organization for its whole life). This memory
only feeds the usage figures in status; the EIp webhook and the decisions that stop or restore
workloads read namespaces from the API, so they never act on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

TREE_LABEL_SUFFIX: Final = ".tree.hnc.x-k8s.io/depth"
PUBLIC_EIP_LABEL: Final = "network.kube-dc.com/external-network-type"
_DNS_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def is_dns_label(name: str) -> bool:
    """Whether `name` can be a namespace (an Organization's is its own name): checked before a name
    from outside (a provider's message) becomes part of an apiserver path."""
    return bool(_DNS_LABEL.match(name))


def tree_depths(labels: Mapping[str, str]) -> dict[str, int]:
    """The namespace's ancestors and itself by their depth above it (itself 0), from HNC's tree labels.

    HNC writes these labels and puts back any edit of them; a value that is not a whole number is
    not HNC's and is ignored.
    """
    return {
        key.removesuffix(TREE_LABEL_SUFFIX): int(value)
        for key, value in labels.items()
        if key.endswith(TREE_LABEL_SUFFIX) and value.isdigit()
    }


def tree_of(labels: Mapping[str, str]) -> frozenset[str]:
    """The namespace itself and its ancestors, from HNC's tree labels."""
    return frozenset(tree_depths(labels))


def nearest_first(depths: Mapping[str, int]) -> list[str]:
    """Ancestors from the namespace itself up to the root: where to look for its Organization."""
    return [name for name, _ in sorted(depths.items(), key=lambda item: (item[1], item[0]))]


def is_public(eip: Mapping[str, Any]) -> bool:
    return (eip["metadata"].get("labels") or {}).get(PUBLIC_EIP_LABEL) == "public"


class Topology:
    def __init__(self) -> None:
        self._trees: dict[str, frozenset[str]] = {}
        self._public_eips: dict[tuple[str, str], str] = {}

    def knows(self, namespace: str) -> bool:
        return namespace in self._trees

    def observe_namespace(self, body: Mapping[str, Any]) -> None:
        name = body["metadata"]["name"]
        self._trees[name] = tree_of(body["metadata"].get("labels") or {}) | {name}

    def observe_eip(self, body: Mapping[str, Any], *, deleted: bool = False) -> frozenset[str]:
        """Remember a public EIp (or forget one); returns the namespaces whose organizations it counts for."""
        meta = body["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        tree = self.tree(key[0])
        if deleted or not is_public(body):
            self._public_eips.pop(key, None)
            if key[0] not in self._public_eips.values():
                self._trees.pop(key[0], None)
        else:
            self._public_eips[key] = key[0]
        return tree

    def tree(self, namespace: str) -> frozenset[str]:
        return self._trees.get(namespace, frozenset({namespace}))

    def public_ips(self, org_namespace: str) -> int:
        """Public EIps in the organization's namespace and in every namespace below it."""
        return sum(1 for namespace in self._public_eips.values() if org_namespace in self.tree(namespace))
