"""What the API knows of the cluster: informers of the objects it answers about, kept trimmed.

Organizations, the managed HRQs and LimitRanges, namespaces (for the HNC tree), public EIps,
pods and PersistentVolumeClaims (for per-project usage), and the catalog ConfigMap with the operator's saved last
good copy. No request handler reads the apiserver; while the memory a route needs is not
known to be current (never listed, or its watch broke), the route answers 503 instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

from orgquota.api.catalog_view import CatalogView
from orgquota.api.envelope import ApiError
from orgquota.api.live.changes import Changes
from orgquota.api.settings import ApiSettings
from orgquota.core.annotations import MANAGED_LABEL
from orgquota.core.manifests import HRQ_NAME, LIMIT_RANGE_NAME
from orgquota.core.organization import Organization
from orgquota.core.quantity import Quantity, QuantityError
from orgquota.core.topology import PUBLIC_EIP_LABEL, tree_depths
from orgquota.kube.client import CONFIGMAP, EIP, HRQ, LIMIT_RANGE, NAMESPACE_PATH, ORGANIZATION, Kube, Manifest
from orgquota.kube.watch import WatchCache

TERMINAL_PHASES: Final = frozenset({"Succeeded", "Failed"})
LIVE_PODS: Final = ",".join(f"status.phase!={phase}" for phase in sorted(TERMINAL_PHASES))
"""the pods /projects and the caps count: the API reads no finished pod (there are many of them)"""
STATUS_SHOWN: Final = ("ready", "mode", "plan", "conditions", "alerts", "applied")


@dataclass(frozen=True)
class HrqRecord:
    hard: dict[str, str]
    """status.hard as HNC reports it, else spec.hard"""
    used: dict[str, str]


@dataclass(frozen=True)
class PodUsage:
    cpu: Fraction
    memory: Fraction
    created: str = ""
    """creationTimestamp: the order in which a cap would have met the pods"""


@dataclass(frozen=True)
class ClaimUsage:
    """A PersistentVolumeClaim as quota counts it (`requests.storage`)."""

    storage: Fraction
    created: str = ""


def org_record(body: Manifest) -> Organization:
    """The Organization with the status fields the answers show (and when its usage was read)."""
    org = Organization.from_body(body, STATUS_SHOWN)
    used = ((body.get("status") or {}).get("quotaUsage") or {}).get("lastUpdated")
    return dataclasses.replace(org, status={**org.status, "lastUpdated": used})


def hrq_record(body: Manifest) -> HrqRecord:
    status = body.get("status") or {}
    hard = status.get("hard") or (body.get("spec") or {}).get("hard") or {}
    return HrqRecord({k: str(v) for k, v in hard.items()}, {k: str(v) for k, v in (status.get("used") or {}).items()})


def limit_range_managed(body: Manifest) -> bool:
    return (body["metadata"].get("labels") or {}).get(MANAGED_LABEL) == "true"


def namespace_tree(body: Manifest) -> dict[str, int]:
    return tree_depths(body["metadata"].get("labels") or {})


def pod_usage(body: Manifest) -> PodUsage | None:
    """The pod's requests (as the scheduler counts them); None once it has finished."""
    if (body.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return None
    spec = body.get("spec") or {}

    def requests(containers: Iterable[Manifest], name: str) -> list[Fraction]:
        values = []
        for container in containers:
            raw = ((container.get("resources") or {}).get("requests") or {}).get(name)
            try:
                values.append(Quantity.parse(raw).value if raw is not None else Fraction(0))
            except QuantityError:
                values.append(Fraction(0))
        return values

    def effective(name: str) -> Fraction:
        main = sum(requests(spec.get("containers") or [], name), Fraction(0))
        init = max(requests(spec.get("initContainers") or [], name), default=Fraction(0))
        return max(main, init)

    return PodUsage(effective("cpu"), effective("memory"), body["metadata"].get("creationTimestamp", ""))


def claim_usage(body: Manifest) -> ClaimUsage:
    raw = (((body.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    try:
        storage = Quantity.parse(raw).value if raw is not None else Fraction(0)
    except QuantityError:
        storage = Fraction(0)
    return ClaimUsage(storage, body["metadata"].get("creationTimestamp", ""))


@dataclass
class Cluster:
    """The informers; built without a client (`kube=None`) they are filled by hand (tests)."""

    settings: ApiSettings
    kube: Kube | None = None
    orgs: WatchCache[Organization] = field(init=False)
    hrqs: WatchCache[HrqRecord] = field(init=False)
    limit_ranges: WatchCache[bool] = field(init=False)
    namespaces: WatchCache[dict[str, int]] = field(init=False)
    eips: WatchCache[bool] = field(init=False)
    pods: WatchCache[PodUsage] = field(init=False)
    claims: WatchCache[ClaimUsage] = field(init=False)
    catalog: CatalogView = field(init=False)
    changes: Changes = field(default_factory=Changes)
    """notified on every change of any informer (the event streams follow it)"""
    _members: dict[str, list[str]] = field(default_factory=dict)
    _members_version: int = -1
    _public_ips: dict[str, int] = field(default_factory=dict)
    """public EIPs per namespace, as of `eips.version` `_public_ips_version`"""
    _public_ips_version: int = -1

    def __post_init__(self) -> None:
        kube, settings = self.kube, self.settings
        self.orgs = WatchCache(kube, ORGANIZATION.path(""), org_record, name="organizations")
        self.hrqs = WatchCache(
            kube, HRQ.path(""), hrq_record, name="hierarchicalresourcequotas", fieldSelector=f"metadata.name={HRQ_NAME}"
        )
        self.limit_ranges = WatchCache(
            kube,
            LIMIT_RANGE.path(""),
            limit_range_managed,
            name="limitranges",
            fieldSelector=f"metadata.name={LIMIT_RANGE_NAME}",
        )
        self.namespaces = WatchCache(kube, NAMESPACE_PATH, namespace_tree, name="namespaces")
        self.eips = WatchCache(
            kube, EIP.path(""), lambda _: True, name="public eips", labelSelector=f"{PUBLIC_EIP_LABEL}=public"
        )
        self.pods = WatchCache(  # only pods that count: a finished one leaves the watch (DELETED)
            kube, "/api/v1/pods", pod_usage, name="pods", fieldSelector=LIVE_PODS
        )
        self.claims = WatchCache(kube, "/api/v1/persistentvolumeclaims", claim_usage, name="persistentvolumeclaims")
        self.catalog = CatalogView(
            WatchCache(
                kube,
                CONFIGMAP.path(settings.catalog_namespace),
                _data,
                name="catalog",
                fieldSelector=f"metadata.name={settings.catalog_name}",
            ),
            WatchCache(
                kube,
                CONFIGMAP.path(settings.catalog_namespace),
                _data,
                name="last good catalog",
                fieldSelector=f"metadata.name={settings.last_good_name}",
            ),
            settings.catalog_name,
            settings.last_good_name,
        )
        for cache in self.caches:
            cache.listeners.append(self.changes.notify)

    @property
    def caches(self) -> tuple[WatchCache[Any], ...]:
        return (
            self.orgs,
            self.hrqs,
            self.limit_ranges,
            self.namespaces,
            self.eips,
            self.pods,
            self.claims,
            self.catalog.live,
            self.catalog.last_good,
        )

    @property
    def lists(self) -> int:
        """LISTs taken in by all informers: it moves after a re-list (a 410, an apiserver restart)."""
        return sum(cache.lists for cache in self.caches)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for cache in self.caches:
                group.create_task(cache.run(), name=f"watch {cache.name}")

    # -- readiness --------------------------------------------------------------------------------

    def problems(self, caches: Iterable[WatchCache[Any]] | None = None) -> list[str]:
        """Why the memory cannot be trusted now (empty: it can)."""
        problems = []
        for cache in self.caches if caches is None else caches:
            if not cache.healthy:
                problems.append(f"{cache.name}: {cache.error or 'not listed yet'}")
        return problems

    def require(self, *caches: WatchCache[Any]) -> None:
        """Raise 503 unless the given memories (all, when none are given) are current."""
        problems = self.problems(caches or None)
        if problems:
            raise ApiError(
                503,
                "the Kubernetes API is unreachable or not yet read; try again shortly",
                {"problems": problems},
            )

    # -- questions --------------------------------------------------------------------------------

    def organization(self, org: str) -> Organization:
        """The caller's Organization (in the namespace of the same name); 404 if there is none."""
        self.require(self.orgs)
        record = self.orgs.get(org, org)
        if record is None:
            raise ApiError(404, f"organization {org!r} not found", {"organization": org})
        return record

    def members(self, org: str) -> list[str]:
        """The namespaces of the organization's HNC tree (itself included when it exists), sorted."""
        if self._members_version != self.namespaces.version:
            index: dict[str, list[str]] = {}
            for _, name, tree in self.namespaces.items():
                for ancestor in set(tree) | {name}:
                    index.setdefault(ancestor, []).append(name)
            self._members = {ancestor: sorted(names) for ancestor, names in index.items()}
            self._members_version = self.namespaces.version
        return self._members.get(org, [])

    def root_of(self, namespace: str) -> str:
        """The top of the namespace's HNC tree: its organization ('' when the namespace is unknown)."""
        tree = self.namespaces.get("", namespace)
        if tree is None:
            return ""
        return max(tree.items(), key=lambda item: item[1])[0] if tree else namespace

    def public_ips(self, org: str) -> int:
        """The public EIPs in the organization's tree (counted per namespace once per change of the
        EIPs, not by walking every EIP of the cluster on every request)."""
        if self._public_ips_version != self.eips.version:
            counts: dict[str, int] = {}
            for namespace, _, _ in self.eips.items():
                counts[namespace] = counts.get(namespace, 0) + 1
            self._public_ips, self._public_ips_version = counts, self.eips.version
        return sum(self._public_ips.get(namespace, 0) for namespace in set(self.members(org)) | {org})

    def namespace_storage(self, namespace: str) -> Fraction:
        """Bytes requested by the namespace's PersistentVolumeClaims."""
        return sum((claim.storage for claim in self.claims.in_namespace(namespace).values()), Fraction(0))

    def namespace_usage(self, namespace: str) -> tuple[int, Fraction, Fraction]:
        """(pods, requested cpu cores, requested memory bytes) of the namespace's running pods."""
        pods = self.pods.in_namespace(namespace).values()
        return (
            len(pods),
            sum((pod.cpu for pod in pods), Fraction(0)),
            sum((pod.memory for pod in pods), Fraction(0)),
        )


def _data(body: Manifest) -> dict[str, str]:
    return dict(body.get("data") or {})
