"""Start-up and re-listing on an in-memory apiserver: a restart on a converged cluster costs no write,
Kopf's first listing repeats the start-up LIST for free, and a later listing re-reads the quota
objects (a watch that was down reports no deletion)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from orgquota.core.annotations import PLAN_ID
from orgquota.core.catalog import Catalog
from orgquota.kube.client import ORGANIZATION
from tests.support.controller_harness import Harness, hrq_path, org_path, run

PRO = {PLAN_ID: "pro-pool"}


def test_a_restart_on_a_converged_cluster_writes_nothing_and_logs_the_startup_line(
    catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        first = Harness(catalog)
        for name in ("acme", "globex"):
            first.add_org(name, PRO)
        await first.converge()
        first.kube.writes.clear()
        restarted = Harness(catalog, kube=first.kube)
        await restarted.reconciler.prime()
        await restarted.reconciler.observe_initial_list(first.kube.pages(ORGANIZATION.path("")))
        await restarted.converge()
        assert first.kube.writes == []
        assert "startup: 2 organizations reconciled" in caplog.text

    with caplog.at_level(logging.INFO):
        run(scenario)


def test_a_new_listing_rereads_the_quota_objects_and_recreates_one_deleted_meanwhile(catalog: Catalog) -> None:
    """A watch that was down reports no deletion: Kopf's next listing has the cache primed again."""

    async def scenario() -> None:
        h = Harness(catalog)
        body = h.add_org("acme", PRO)
        await h.converge()
        h.kube.drop(hrq_path("acme"))  # no watch event arrives
        h.reconciler.observe_org(body, listed=True)  # Kopf lists organizations anew
        async with asyncio.timeout(5):
            while h.kube.stored(hrq_path("acme")) is None:
                await h.converge()
                await asyncio.sleep(0.01)
        assert h.events.reasons()[-1] == "QuotaCreated"

    run(scenario)


def test_kopfs_first_listing_right_after_the_startup_list_reconciles_nothing_again(catalog: Catalog) -> None:
    async def scenario() -> None:
        first = Harness(catalog)
        first.add_org("acme", PRO)
        await first.converge()
        restarted = Harness(catalog, kube=first.kube)
        await restarted.reconciler.prime()
        await restarted.reconciler.observe_initial_list(first.kube.pages(ORGANIZATION.path("")))
        await restarted.converge()
        first.kube.reads.clear()
        body = first.kube.stored(org_path("acme"))
        assert body is not None
        restarted.reconciler.observe_org(body, listed=True)
        assert len(restarted.reconciler.queue) == 0
        await restarted.converge()
        assert first.kube.reads == []  # and no re-read of the quota objects either

    run(scenario)
