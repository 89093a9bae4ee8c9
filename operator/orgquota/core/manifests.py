"""The managed objects as manifests, and how far an existing object is from the desired one.

Comparison is by value (`1Gi` equals `1024Mi`), because the apiserver re-spells core
quantities and a spelling difference must never cause a write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from orgquota.core import annotations as ann
from orgquota.core.desired import LimitRangeItem
from orgquota.core.quantity import Quantity, QuantityError

HRQ_NAME: Final = "plan-quota"
LIMIT_RANGE_NAME: Final = "default-resource-limits"
_CONSTRAINTS: Final = ("default", "defaultRequest", "max", "min", "maxLimitRequestRatio")


def managed_labels(plan_id: str) -> dict[str, str]:
    """The labels of every managed object; a plan id that cannot be a label value is left empty."""
    return {ann.MANAGED_LABEL: "true", ann.PLAN_LABEL: plan_id if ann.is_label_value(plan_id) else ""}


def is_managed(obj: Mapping[str, Any]) -> bool:
    return bool(obj.get("metadata", {}).get("labels", {}).get(ann.MANAGED_LABEL) == "true")


def organization_reference(namespace: str, name: str, uid: str | None = None) -> dict[str, str]:
    """An Organization as Events, log lines and owner references name it."""
    ref = {"apiVersion": "kube-dc.com/v1", "kind": "Organization", "namespace": namespace, "name": name}
    if uid is not None:
        ref["uid"] = uid
    return ref


def owner_reference(name: str, uid: str) -> dict[str, Any]:
    """Lets the garbage collector remove the quota with its Organization, even while the operator is down."""
    ref: dict[str, Any] = organization_reference("", name, uid)
    del ref["namespace"]  # an owner is always in the namespace of what it owns
    return {**ref, "controller": True, "blockOwnerDeletion": False}


def hrq_manifest(
    hard: Mapping[str, Quantity], labels: Mapping[str, str], owner: Mapping[str, Any] | None, name: str = HRQ_NAME
) -> dict[str, Any]:
    """An HRQ; without `owner` (one in another namespace than its Organization's, which the garbage
    collector would take for a missing owner and delete it at once)."""
    metadata: dict[str, Any] = {"name": name, "labels": dict(labels)}
    if owner is not None:
        metadata["ownerReferences"] = [dict(owner)]
    return {
        "apiVersion": "hnc.x-k8s.io/v1alpha2",
        "kind": "HierarchicalResourceQuota",
        "metadata": metadata,
        "spec": {"hard": {key: str(value) for key, value in hard.items()}},
    }


def limit_range_manifest(
    items: tuple[LimitRangeItem, ...], labels: Mapping[str, str], owner: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": {"name": LIMIT_RANGE_NAME, "labels": dict(labels), "ownerReferences": [dict(owner)]},
        "spec": {"limits": [_written(item) for item in items]},
    }


def hard_patch(actual: Mapping[str, Any], hard: Mapping[str, Quantity], labels: Mapping[str, str]) -> dict[str, Any]:
    """A merge patch that makes `actual` an exact copy of the desired HRQ, or {} if it already is one.

    Keys someone added to `spec.hard` are removed (null), so the quota is exactly the plan's.
    """
    current = actual.get("spec", {}).get("hard") or {}
    patch: dict[str, Any] = {}
    if not _same_resources(current, hard):
        patch["spec"] = {"hard": with_removals(current, {key: str(value) for key, value in hard.items()})}
    label_patch = _label_patch(actual, labels)
    if label_patch:
        patch["metadata"] = {"labels": label_patch}
    return patch


def limit_range_patch(
    actual: Mapping[str, Any], items: tuple[LimitRangeItem, ...], labels: Mapping[str, str]
) -> dict[str, Any]:
    """A merge patch that makes `actual` the desired LimitRange, or {} if it already is one."""
    current = actual.get("spec", {}).get("limits") or []
    patch: dict[str, Any] = {}
    if not _same_limits(current, items):
        patch["spec"] = {"limits": [_written(item) for item in items]}
    label_patch = _label_patch(actual, labels)
    if label_patch:
        patch["metadata"] = {"labels": label_patch}
    return patch


def describe_hard_change(actual: Mapping[str, Any], hard: Mapping[str, Quantity]) -> str:
    """`requests.cpu 8 -> 10300m, pods 100 -> 200`: what an Event tells a cluster admin."""
    current = actual.get("spec", {}).get("hard") or {}
    changes = []
    for key in sorted(set(current) | set(hard)):
        before, after = current.get(key), hard.get(key)
        if after is None:
            changes.append(f"{key} {before} removed")
        elif before is None or _parse(before) != after:
            changes.append(f"{key} {before if before is not None else 'unset'} -> {after}")
    return ", ".join(changes)


def _label_patch(actual: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, str]:
    current = actual.get("metadata", {}).get("labels") or {}
    return {key: value for key, value in labels.items() if current.get(key) != value}


def _parse(value: Any) -> Quantity | None:
    try:
        return Quantity.parse(value)
    except QuantityError:
        return None


def _same_resources(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    return set(current) == set(desired) and all(_parse(current[key]) == _parse(desired[key]) for key in desired)


def _same_limits(current: list[Mapping[str, Any]], desired: tuple[LimitRangeItem, ...]) -> bool:
    if len(current) != len(desired):
        return False
    for have, want in zip(current, desired, strict=True):
        if have.get("type") != want.get("type"):
            return False
        for constraint in _CONSTRAINTS:
            resources = want.get(constraint) or {}
            assert isinstance(resources, Mapping)
            if not _same_resources(have.get(constraint) or {}, resources):
                return False
    return True


def _written(item: LimitRangeItem) -> dict[str, Any]:
    return {
        key: {name: str(value) for name, value in value.items()} if isinstance(value, Mapping) else value
        for key, value in item.items()
    }


def with_removals(written: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """`new` as a merge patch over `written`: a merge patch removes only what it nulls, at any depth
    (an input left out of `applied` would otherwise stay in the apiserver's status)."""
    patch = dict(new)
    for name, value in written.items():
        if name not in new:
            patch[name] = None
        elif isinstance(value, Mapping) and isinstance(new[name], Mapping):
            patch[name] = with_removals(value, new[name])
    return patch
