"""The managed objects (HRQ `plan-quota`, LimitRange `default-resource-limits`) as last seen.

Filled from the watch and from the responses to the operator's own writes, primed by one LIST
at start (and again after a watch outage or a pause: `relisting.Relisting.prime`), so a reconcile reads
nothing from the apiserver: it compares with this memory and writes only the difference
(controller-runtime's informer cache). A stale entry costs at most one redundant, idempotent
write: creates that meet an existing object and patches that meet a deleted one fall back to
the apiserver, and every outside change arrives as a watch event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

Slot = Literal["hrq", "lr", "cap"]
"""`cap`: a project's HRQ `project-cap` (in its own cache: `project_caps.ProjectCaps`)"""


def _trimmed(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What comparisons and usage need; the rest (managedFields, ...) is not kept in memory."""
    meta = obj.get("metadata") or {}
    return {
        "metadata": {"labels": dict(meta.get("labels") or {}), "resourceVersion": meta.get("resourceVersion")},
        "spec": obj.get("spec") or {},
        "status": obj.get("status") or {},
    }


SHARED_SPECS: Final = 16


class QuotaObjectCache:
    """The managed HRQ and LimitRange of each namespace, trimmed to what reconciles compare."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, Slot], dict[str, Any]] = {}
        self._specs: dict[Slot, list[dict[str, Any]]] = {}

    def get(self, namespace: str, slot: Slot) -> dict[str, Any] | None:
        return self._objects.get((namespace, slot))

    def put(self, namespace: str, slot: Slot, obj: Mapping[str, Any]) -> bool:
        """Remember `obj`; whether it differs from what was known (anything but the resourceVersion)."""
        new = _trimmed(obj)
        new["spec"] = self._shared(slot, new["spec"])
        old = self._objects.get((namespace, slot))
        self._objects[(namespace, slot)] = new
        return old is None or {**old, "metadata": old["metadata"] | {"resourceVersion": None}} != {
            **new,
            "metadata": new["metadata"] | {"resourceVersion": None},
        }

    def _shared(self, slot: Slot, spec: dict[str, Any]) -> dict[str, Any]:
        """One instance of each spec seen lately: thousands of organizations on a few plans have a
        few distinct specs, so memory does not grow with a copy per organization."""
        recent = self._specs.setdefault(slot, [])
        for known in recent:
            if known == spec:
                return known
        recent.insert(0, spec)
        del recent[SHARED_SPECS:]
        return spec

    def namespaces(self, slot: Slot) -> set[str]:
        return {namespace for namespace, known in self._objects if known == slot}

    def forget(self, namespace: str, slot: Slot) -> bool:
        """Forget the object; whether there was one."""
        return self._objects.pop((namespace, slot), None) is not None
