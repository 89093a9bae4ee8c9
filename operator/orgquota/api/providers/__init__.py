"""Payment providers: each is a router of its own, mounted only when `BILLING_PROVIDER` selects it.

A provider is the module `orgquota.api.providers.<name>` with a function `router(context) ->
APIRouter`; it is imported only when selected. With `none`, nothing is mounted and the provider
paths (checkout, portal, webhook, subscription changes) answer 404 in the error envelope like
any unknown route.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from orgquota.api.settings import ApiSettings, Provider


@dataclass(frozen=True)
class ProviderContext:
    """What a provider's routes may use: the settings, the informers (`orgquota.api.cluster.Cluster`)
    and the apiserver client for `orgquota.kube.billing_annotations.write_billing_annotations`."""

    settings: ApiSettings
    cluster: Any
    kube: Any


def provider_router(context: ProviderContext) -> APIRouter | None:
    """The selected provider's router (None in quota-only mode); SystemExit if this build has none."""
    provider = context.settings.provider
    if provider == Provider.NONE:
        return None
    try:
        module = importlib.import_module(f"{__name__}.{provider.value}")
    except ModuleNotFoundError as exc:
        raise SystemExit(
            f"orgquota api: BILLING_PROVIDER={provider.value}: this version has no {provider.value} provider"
        ) from exc
    router: APIRouter = module.router(context)
    return router
