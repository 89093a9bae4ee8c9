"""The Organizations the operator knows of: the little it keeps of each, and where they live.

Memory per organization is what a reconcile decides from (billing annotations, the status it
means to have) and nothing else, so tens of thousands of them fit in a small process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from orgquota.core.manifests import organization_reference
from orgquota.core.organization import Organization

logger = logging.getLogger("orgquota.controller")

OrgKey = tuple[str, str]
"""(namespace, name) of an Organization"""

OrgLog = logging.LoggerAdapter[logging.Logger]


def org_log(namespace: str, name: str) -> OrgLog:
    """A logger whose every line names the organization (Kopf's formatters prefix it, or add it to JSON)."""
    return logging.LoggerAdapter(logger, {"k8s_ref": organization_reference(namespace, name), "k8s_skip": True})


@dataclass
class OrgView:
    """The little the operator keeps in memory of an Organization."""

    namespace: str
    name: str
    uid: str
    annotations: dict[str, str]
    status: dict[str, Any]
    """the status as the operator means it to be: what it decides from (written soon after)"""
    written: dict[str, Any] = field(default_factory=dict)
    """the status as the apiserver last had it from us"""
    resource_version: str = ""
    """of the last event seen: a write conditional on it needs no read first (`controller/trials.py`)"""

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> OrgView:
        org = Organization.from_body(body)
        status = dict(org.status)
        version = str((body.get("metadata") or {}).get("resourceVersion") or "")
        return cls(org.namespace, org.name, org.uid, dict(org.annotations), status, status, version)

    @property
    def key(self) -> OrgKey:
        return (self.namespace, self.name)

    @property
    def ref(self) -> dict[str, str]:
        return organization_reference(self.namespace, self.name, self.uid)


class Inventory:
    """Organizations by key and by namespace, and those deleted whose objects are still to remove."""

    def __init__(self) -> None:
        self.orgs: dict[OrgKey, OrgView] = {}
        self._by_namespace: dict[str, set[OrgKey]] = {}
        self._deleted: set[OrgKey] = set()

    def get(self, key: OrgKey) -> OrgView | None:
        return self.orgs.get(key)

    def __iter__(self) -> Iterator[OrgKey]:
        return iter(self.orgs)

    def __len__(self) -> int:
        return len(self.orgs)

    def take(self, view: OrgView, *, listed: bool) -> bool:
        """Remember what an event says of an organization; whether it needs a reconcile: a new one,
        new billing annotations, or a listing (after which nothing may be assumed).

        The status is taken from the first sighting only: the operator is its only writer, and
        an event still in flight may carry an older status than the one it has just written. A
        listing that shows another status than this replica last wrote is the exception: another
        replica wrote it while this one was paused, and what it recorded (alerts already announced)
        must not be decided again.
        """
        known = self.orgs.get(view.key)
        if known is not None and known.uid == view.uid:
            known.resource_version = view.resource_version
            if listed and view.status != known.written:
                known.status, known.written = dict(view.status), dict(view.status)
            if known.annotations != view.annotations or listed:
                known.annotations = view.annotations
                return True
            return False
        self.orgs[view.key] = view
        self._by_namespace.setdefault(view.namespace, set()).add(view.key)
        self._deleted.discard(view.key)
        return True

    def forget(self, key: OrgKey) -> None:
        """The organization was deleted: what the operator made for it is still to be removed."""
        self.orgs.pop(key, None)
        self._by_namespace.get(key[0], set()).discard(key)
        self._deleted.add(key)

    def removal_pending(self, key: OrgKey) -> bool:
        return key in self._deleted

    def removed(self, key: OrgKey) -> None:
        self._deleted.discard(key)

    def in_namespace(self, namespace: str) -> set[OrgKey]:
        """The organizations whose objects live in `namespace` (one, unless several share it)."""
        return self._by_namespace.get(namespace, set())

    def count_by_mode(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for view in list(self.orgs.values()):
            mode = view.status.get("mode") or "unknown"
            counts[mode] = counts.get(mode, 0) + 1
        return counts
