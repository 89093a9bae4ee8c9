"""Which organization's tree each namespace is in, from HNC's tree labels, kept from a watch.

A cap is enforced only in a namespace of its organization's tree: the tree is checked when the
cap is written (by the API) and again whenever either changes (here), so a project that moves to
another parent, or is deleted, loses the cap of the organization it left. Only namespaces below
some other namespace are kept (their ancestors), so a cluster of thousands costs little memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orgquota.core.topology import tree_of


def _ancestors(body: Mapping[str, Any]) -> frozenset[str]:
    """The namespace's ancestors; none while it is being deleted (nothing can be created in it)."""
    meta = body["metadata"]
    if meta.get("deletionTimestamp"):
        return frozenset()
    return tree_of(meta.get("labels") or {}) - {meta["name"]}


class NamespaceTrees:
    def __init__(self) -> None:
        self._ancestors: dict[str, frozenset[str]] = {}

    def observe(self, body: Mapping[str, Any], *, deleted: bool = False) -> bool:
        """Take in a namespace event; whether the namespace's place in the trees changed."""
        name = body["metadata"]["name"]
        before = self._ancestors.get(name, frozenset())
        after = frozenset() if deleted else _ancestors(body)
        if after:
            self._ancestors[name] = after
        else:
            self._ancestors.pop(name, None)
        return before != after

    def replace(self, bodies: Iterable[Mapping[str, Any]]) -> set[str]:
        """Every namespace, as a LIST returned them; the names whose place changed (or that are gone)."""
        before = self._ancestors
        self._ancestors = {}
        for body in bodies:
            self.observe(body)
        after = self._ancestors
        return {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}

    def forget(self, namespace: str) -> None:
        """The namespace turned out to be gone (a write into it failed so)."""
        self._ancestors.pop(namespace, None)

    def under(self, namespace: str, root: str) -> bool:
        """Whether `namespace` is below `root` in an HNC tree."""
        return root in self._ancestors.get(namespace, ())
