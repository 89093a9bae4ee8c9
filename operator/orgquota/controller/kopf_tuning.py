"""Kopf's settings for this operator: where it keeps its own state, and what it watches, how.

Kopf's defaults suit tens of objects, not tens of thousands: an unpaginated initial LIST, a
task per object kept alive 5 s after its last event, and a deep copy of every body for a diff
base no handler here reads. The figures that motivated each setting are in docs/design.md.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any, Final

import kopf

from orgquota.controller.settings import Settings
from orgquota.core import manifests
from orgquota.core.topology import PUBLIC_EIP_LABEL

STORAGE_PREFIX: Final = "orgquota.kube-dc.com"
LIST_CHUNK: Final = 500
KOPF_WORKERS: Final = 500
KOPF_IDLE_SECONDS: Final = 0.1


class NoDiffBase(kopf.AnnotationsDiffBaseStorage):
    """No essence at all: it serves only `on.create/update` handlers, which this operator has none of,
    yet Kopf would deep-copy every body of every event to build it (measured: a sixth of its work)."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()


def registry() -> kopf.OperatorRegistry:
    """A registry of handlers for one of the process's Kopf runs, which logs in as Kopf's default one
    does: with the `kubernetes` client's kubeconfig or in-cluster identity."""
    made = kopf.OperatorRegistry()
    kopf.on.login(registry=made, errors=kopf.ErrorsMode.IGNORED)(kopf.login_via_client)
    return made


def tune(settings: kopf.OperatorSettings, config: Settings) -> None:
    """Set the settings of a term's reconciling Kopf run for an operator configured by `config`."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=STORAGE_PREFIX)
    settings.persistence.diffbase_storage = NoDiffBase(prefix=STORAGE_PREFIX)
    settings.persistence.finalizer = f"{STORAGE_PREFIX}/finalizer"
    settings.posting.level = logging.WARNING
    # Every handler here returns at once, so a short idle time and a bound on live tasks cost
    # nothing but memory (no indexes, so a limit below the object count cannot deadlock).
    settings.watching.chunk_size = LIST_CHUNK
    settings.queueing.worker_limit = KOPF_WORKERS
    settings.queueing.idle_timeout = KOPF_IDLE_SECONDS
    # Only the objects the operator acts on are sent at all: the catalog ConfigMap, not every
    # ConfigMap of the cluster; the managed LimitRange by name; public EIps only. HRQs come by two
    # names (plan-quota, project-cap), which no field selector can ask for at once: all are sent (a
    # cluster has about one per organization and capped project) and the handler keeps those two.
    catalog_selector = f"metadata.namespace={config.catalog_namespace},metadata.name={config.catalog_name}"
    settings.watching.field_selectors[("v1", "configmaps")] = catalog_selector
    settings.watching.field_selectors[("v1", "limitranges")] = f"metadata.name={manifests.LIMIT_RANGE_NAME}"
    settings.watching.label_selectors[("kube-dc.com", "eips")] = f"{PUBLIC_EIP_LABEL}=public"
    # A term ends by its stop flag, or with the process (which then exits): never by Kopf's
    # last resort, a SIGKILL of its thread (that is, of the whole process) ten minutes later.
    settings.process.ultimate_exiting_timeout = None


def tune_admission(settings: kopf.OperatorSettings, config: Settings) -> None:
    """Set the settings of the admission Kopf run (the webhook server) for `config`."""
    if config.webhooks:
        client_ca = config.webhook_client_ca or None
        settings.admission.server = kopf.WebhookServer(
            addr="0.0.0.0",
            port=config.webhook_port,
            certfile=config.webhook_cert,
            pkeyfile=config.webhook_key,
            verify_mode=ssl.CERT_REQUIRED if client_ca else None,
            verify_cafile=client_ca,
        )
