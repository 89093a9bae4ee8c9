"""An Organization as orgquota keeps it: who it is, and the billing annotations that decide its quota.

Both processes keep thousands of Organizations in memory and read nothing of them but their
identity, the `billing.kube-dc.com/*` annotations and a few status fields, so that is all a kept
one holds. The operator's working view (`controller.inventory.OrgView`) is built from it and adds
what only the operator has: the status it means to write and the one it wrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orgquota.core.annotations import billing_annotations
from orgquota.core.manifests import organization_reference
from orgquota.core.status import CONDITION_TYPE


@dataclass(frozen=True)
class Organization:
    namespace: str
    name: str
    annotations: Mapping[str, str]
    """the billing annotations only"""
    uid: str = ""
    created: str = ""
    status: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: Mapping[str, Any], status_fields: Iterable[str] | None = None) -> Organization:
        """`status_fields`: the status keys to keep (None: the whole status)."""
        meta = body["metadata"]
        status = body.get("status") or {}
        if status_fields is not None:
            status = {key: status[key] for key in status_fields if key in status}
        return cls(
            meta.get("namespace", ""),
            meta["name"],
            billing_annotations(meta),
            meta.get("uid", ""),
            meta.get("creationTimestamp", ""),
            dict(status),
        )

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def reference(self) -> dict[str, str]:
        return organization_reference(self.namespace, self.name, self.uid or None)

    @property
    def condition(self) -> Mapping[str, Any]:
        """The `QuotaReady` condition ({} before the operator wrote one)."""
        found = [c for c in self.status.get("conditions") or [] if c.get("type") == CONDITION_TYPE]
        return found[0] if found else {}
