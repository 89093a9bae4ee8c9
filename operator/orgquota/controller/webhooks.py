"""Validating webhooks: the catalog, Organization annotations, and public EIp quotas.

Handlers read what they judge by from the API, never from a reconciler's memory: every replica
serves them, standby or leader (docs/design.md, "Leadership and failover"), from the admission
Kopf run it keeps for its whole life (`REGISTRY`), while the reconciling part comes and goes with
its leadership terms. When the live catalog is missing or invalid they judge by the last good one,
read from the ConfigMap the leader keeps it in.
The webhook configuration is the project's own (`webhook_configuration`), because Kopf's
managed one cannot send only the catalog ConfigMap (matchConditions, namespaceSelector).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Final

import kopf

from orgquota.controller import kopf_tuning
from orgquota.controller.memo import AdmissionMemo
from orgquota.controller.metrics import WEBHOOK_DECISIONS
from orgquota.controller.settings import Settings
from orgquota.core import checks as admission
from orgquota.core.catalog import Catalog, CatalogError, parse_configmap_data
from orgquota.core.desired import desired_quota
from orgquota.core.manifests import HRQ_NAME
from orgquota.core.organization import Organization
from orgquota.core.topology import PUBLIC_EIP_LABEL, TREE_LABEL_SUFFIX, nearest_first, tree_depths
from orgquota.kube.client import CONFIGMAP, EIP, HRQ, NAMESPACE_PATH, ORGANIZATION, Kube
from orgquota.kube.last_good import LastGoodCatalog

CONFIGURATION_NAME: Final = "orgquota.kube-dc.com"
CATALOG_HOOK: Final = "validate-catalog"
ORGANIZATION_HOOK: Final = "validate-organization"
EIP_HOOK: Final = "validate-eip"
READ_CONNECTIONS: Final = 8

REGISTRY = kopf_tuning.registry()


Validator = Callable[..., Awaitable[None]]


def _counted(hook: str) -> Callable[[Validator], Validator]:
    """Counts each decision of the webhook in `orgquota_webhook_decisions`."""

    def wrap(validator: Validator) -> Validator:
        @functools.wraps(validator)
        async def counted(**kwargs: Any) -> None:
            try:
                await validator(**kwargs)
            except kopf.AdmissionError:
                WEBHOOK_DECISIONS.labels(hook, "false").inc()
                raise
            WEBHOOK_DECISIONS.labels(hook, "true").inc()

        return counted

    return wrap


@kopf.on.startup(registry=REGISTRY)
async def start(settings: kopf.OperatorSettings, memo: AdmissionMemo, **_: Any) -> None:
    kopf_tuning.tune_admission(settings, memo.config)
    memo.kube = await Kube.connect(max_connections=READ_CONNECTIONS)
    memo.last_good = LastGoodCatalog(memo.kube, memo.config.catalog_namespace, memo.config.last_good_name)


@kopf.on.cleanup(registry=REGISTRY)
async def stop(memo: AdmissionMemo, **_: Any) -> None:
    await memo.kube.close()


@kopf.on.validate("v1", "configmaps", id=CATALOG_HOOK, operations=["CREATE", "UPDATE"], registry=REGISTRY)
@_counted(CATALOG_HOOK)
async def validate_catalog(body: kopf.Body, memo: AdmissionMemo, warnings: list[str], **kwargs: Any) -> None:
    config = memo.config
    meta = body.get("metadata", {})
    if (meta.get("namespace"), meta.get("name")) != (config.catalog_namespace, config.catalog_name):
        return  # matchConditions keep other ConfigMaps away; never judge one by accident
    try:
        catalog = parse_configmap_data(body.get("data"))
    except CatalogError as exc:
        raise kopf.AdmissionError(f"{config.catalog_name} rejected: {exc}", code=422) from exc
    old: kopf.Body | None = kwargs.get("old")  # the object before an UPDATE (not in WebhookFn's signature)
    previous = _catalog_or_none(old.get("data") if old else None) or await memo.last_good.load()
    snapshots = await _snapshots(memo.kube)
    warnings.extend(admission.catalog_impact(previous, catalog, snapshots, config.quota))


@kopf.on.validate(
    "kube-dc.com", "v1", "organizations", id=ORGANIZATION_HOOK, operations=["CREATE", "UPDATE"], registry=REGISTRY
)
@_counted(ORGANIZATION_HOOK)
async def validate_organization(body: kopf.Body, memo: AdmissionMemo, warnings: list[str], **kwargs: Any) -> None:
    catalog = await _live_catalog(memo.kube, memo.config) or await memo.last_good.load()
    if catalog is None:
        warnings.append("the plan catalog is missing or invalid: plan-id and add-ons were not checked")
    problems = admission.check_annotations(
        _annotations(body),
        _annotations(kwargs.get("old")),
        catalog,
        organization=body.get("metadata", {}).get("namespace") or "",
        projects_limit=memo.config.quota.projects_limit,
    )
    warnings.extend(admission.unknown_keys(_annotations(body), _annotations(kwargs.get("old"))))
    if problems:
        raise kopf.AdmissionError("; ".join(problems), code=422)


@kopf.on.validate("kube-dc.com", "v1", "eips", id=EIP_HOOK, operations=["CREATE"], registry=REGISTRY)
@_counted(EIP_HOOK)
async def validate_eip(body: kopf.Body, memo: AdmissionMemo, **_: Any) -> None:
    labels = body.get("metadata", {}).get("labels") or {}
    if labels.get(PUBLIC_EIP_LABEL) != "public":
        return
    kube = memo.kube
    namespace = body.get("metadata", {}).get("namespace") or ""
    org = await _organization_of(kube, namespace)
    catalog = await _live_catalog(kube, memo.config) or await memo.last_good.load()
    if org is None or catalog is None:
        return  # not an organization's namespace, or nothing to judge by (never loosen: nothing to loosen)
    org_name = org["metadata"]["name"]
    desired = desired_quota(org["metadata"].get("annotations") or {}, catalog, memo.config.quota)
    held = await _public_eips_held(kube, org_name)
    denial = admission.eip_denial(desired, catalog, held)
    if denial:
        raise kopf.AdmissionError(f"organization {org_name}: {denial}", code=403)


def webhook_configuration(client_config: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The ValidatingWebhookConfiguration; `client_config` is `{url}` or `{service}`, with `caBundle`.

    Failure policies: the catalog and public EIps fail closed (an unchecked catalog edit or a
    public IP beyond the plan is what the webhooks exist to stop; both are rare writes), while
    Organizations fail open (billing systems must not be blocked by an operator outage, and the
    operator itself fails closed on any bad annotation that gets in).
    """

    def hook(name: str, path: str, rules: dict[str, Any], failure: str, **extra: Any) -> dict[str, Any]:
        config = dict(client_config)
        if "url" in config:
            config["url"] = f"{config['url'].rstrip('/')}/{path}"
        else:
            config["service"] = {**config["service"], "path": f"/{path}"}
        return {
            "name": f"{name}.{CONFIGURATION_NAME}",
            "clientConfig": config,
            "rules": [{**rules, "operations": list(rules["operations"]), "scope": "Namespaced"}],
            "failurePolicy": failure,
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 10,
            "matchPolicy": "Equivalent",
            **extra,
        }

    write = ["CREATE", "UPDATE"]
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": CONFIGURATION_NAME},
        "webhooks": [
            hook(
                "catalog",
                CATALOG_HOOK,
                {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"], "operations": write},
                "Fail",
                namespaceSelector={"matchLabels": {"kubernetes.io/metadata.name": settings.catalog_namespace}},
                matchConditions=[
                    {
                        "name": "is-the-catalog",
                        "expression": f"object.metadata.name == '{settings.catalog_name}'",
                    }
                ],
            ),
            hook(
                "organizations",
                ORGANIZATION_HOOK,
                {
                    "apiGroups": ["kube-dc.com"],
                    "apiVersions": ["v1"],
                    "resources": ["organizations"],
                    "operations": write,
                },
                "Ignore",
            ),
            hook(
                "eips",
                EIP_HOOK,
                {
                    "apiGroups": ["kube-dc.com"],
                    "apiVersions": ["v1"],
                    "resources": ["eips"],
                    "operations": ["CREATE"],
                },
                "Fail",
                objectSelector={"matchLabels": {PUBLIC_EIP_LABEL: "public"}},
            ),
        ],
    }


def _annotations(body: kopf.Body | None) -> dict[str, str]:
    return dict(body.get("metadata", {}).get("annotations") or {}) if body is not None else {}


def _catalog_or_none(data: Any) -> Catalog | None:
    try:
        return parse_configmap_data(data)
    except CatalogError:
        return None


async def _live_catalog(kube: Kube, config: Settings) -> Catalog | None:
    configmap = await kube.get(CONFIGMAP.path(config.catalog_namespace, config.catalog_name))
    return _catalog_or_none(configmap.get("data")) if configmap else None


async def _snapshots(kube: Kube) -> list[admission.OrgUsage]:
    orgs = await kube.list(ORGANIZATION.path(""))
    quotas = await kube.list(HRQ.path(""), fieldSelector=f"metadata.name={HRQ_NAME}")
    used = {q["metadata"]["namespace"]: (q.get("status") or {}).get("used") or {} for q in quotas}
    kept = [Organization.from_body(org, ()) for org in orgs]
    return [(org, used.get(org.namespace, {})) for org in kept]


async def _organization_of(kube: Kube, namespace: str) -> dict[str, Any] | None:
    """The Organization a namespace belongs to: the nearest HNC ancestor that is one, else its own."""
    ns = await kube.get(f"{NAMESPACE_PATH}/{namespace}")
    labels: dict[str, str] = (ns or {}).get("metadata", {}).get("labels") or {}
    for candidate in nearest_first(tree_depths(labels)) or [namespace]:
        org = await kube.get(ORGANIZATION.path(candidate, candidate))
        if org is not None:
            return org
    return None


async def _public_eips_held(kube: Kube, org: str) -> int:
    """The organization's public EIps, listed in its own namespaces only: a review never reads every
    EIp of the cluster (its cost grows with the organization, not with the platform)."""
    tree = await kube.list(NAMESPACE_PATH, labelSelector=f"{org}{TREE_LABEL_SUFFIX}")
    namespaces = sorted({ns["metadata"]["name"] for ns in tree} | {org})
    held = 0
    for namespace in namespaces:
        held += len(await kube.list(EIP.path(namespace), labelSelector=f"{PUBLIC_EIP_LABEL}=public"))
    return held
