"""The validating webhooks' decisions, on an in-memory apiserver: what is denied, with which
message and code, and what is let through with a warning. (tests/e2e/quota/test_admission.py
sends the same through a real apiserver.)"""

from __future__ import annotations

from typing import Any

import kopf
import pytest
import yaml

from orgquota.controller import webhooks
from orgquota.controller.memo import AdmissionMemo
from orgquota.controller.settings import Settings
from orgquota.core.annotations import PLAN_ID
from orgquota.core.catalog import CATALOG_KEY, Catalog
from orgquota.core.topology import PUBLIC_EIP_LABEL
from orgquota.kube.client import CONFIGMAP, EIP, HRQ, ORGANIZATION
from orgquota.kube.last_good import LastGoodCatalog
from tests.support.catalog import CATALOG
from tests.support.controller_harness import run
from tests.support.fake_kube import FakeKube

SETTINGS = Settings()
CATALOG_PATH = CONFIGMAP.path(SETTINGS.catalog_namespace, SETTINGS.catalog_name)


def memo(kube: FakeKube, last_good: str | None = None) -> AdmissionMemo:
    """The admission memo as its startup handler leaves it; `last_good`: the catalog the leader saved as
    the last good one (a standby or a leader alike read it from there, never from a memory)."""
    shared = AdmissionMemo(SETTINGS)
    shared.kube = kube
    shared.last_good = LastGoodCatalog(kube, SETTINGS.catalog_namespace, SETTINGS.last_good_name)
    if last_good is not None:
        kube.put(
            CONFIGMAP.path(SETTINGS.catalog_namespace, SETTINGS.last_good_name), {"data": {CATALOG_KEY: last_good}}
        )
    return shared


def with_catalog(text: str = CATALOG) -> FakeKube:
    kube = FakeKube()
    kube.put(CATALOG_PATH, {"data": {CATALOG_KEY: text}})
    return kube


def catalog_body(text: str) -> dict[str, Any]:
    return {
        "metadata": {"namespace": SETTINGS.catalog_namespace, "name": SETTINGS.catalog_name},
        "data": {CATALOG_KEY: text},
    }


def org_body(name: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"namespace": name, "name": name, "annotations": annotations}}


async def admit(validator: Any, **kwargs: Any) -> None:
    """Call a webhook handler as Kopf would, with the keyword arguments it reads."""
    await validator(**kwargs)


async def denial(validator: Any, **kwargs: Any) -> kopf.AdmissionError:
    with pytest.raises(kopf.AdmissionError) as caught:
        await validator(**kwargs)
    return caught.value


def test_an_unknown_plan_is_denied_with_the_plans_there_are() -> None:
    async def scenario() -> None:
        kube = with_catalog()
        error = await denial(
            webhooks.validate_organization, body=org_body("acme", {PLAN_ID: "gold"}), memo=memo(kube), warnings=[]
        )
        assert error.code == 422
        assert "'gold' is not a plan of the catalog (plans: burst-pool, dev-pool, pro-pool)" in str(error)

    run(scenario)


def test_a_known_plan_is_admitted_without_a_warning() -> None:
    async def scenario() -> None:
        warnings: list[str] = []
        body = org_body("acme", {PLAN_ID: "pro-pool"})
        await admit(webhooks.validate_organization, body=body, memo=memo(with_catalog()), warnings=warnings)
        assert warnings == []

    run(scenario)


def test_without_a_catalog_an_organization_is_admitted_with_a_warning() -> None:
    async def scenario() -> None:
        warnings: list[str] = []
        body = org_body("acme", {PLAN_ID: "gold"})
        await admit(webhooks.validate_organization, body=body, memo=memo(FakeKube()), warnings=warnings)
        assert warnings == ["the plan catalog is missing or invalid: plan-id and add-ons were not checked"]

    run(scenario)


def test_with_a_broken_live_catalog_the_saved_last_good_one_judges() -> None:
    async def scenario() -> None:
        kube = with_catalog("plans: [not, a, catalog]")
        body = org_body("acme", {PLAN_ID: "gold"})
        error = await denial(webhooks.validate_organization, body=body, memo=memo(kube, CATALOG), warnings=[])
        assert "'gold' is not a plan of the catalog (plans: burst-pool, dev-pool, pro-pool)" in str(error)

    run(scenario)


def test_a_bad_catalog_is_denied_naming_the_problem() -> None:
    async def scenario() -> None:
        bad = CATALOG.replace('cpu: "8"', 'cpu: "eight"')
        error = await denial(webhooks.validate_catalog, body=catalog_body(bad), memo=memo(with_catalog()), warnings=[])
        assert error.code == 422
        assert str(error).startswith(f"{SETTINGS.catalog_name} rejected: ")
        assert "pro-pool" in str(error)
        assert "eight" in str(error)

    run(scenario)


def test_a_catalog_that_lowers_a_quota_below_usage_is_admitted_with_warnings(catalog: Catalog) -> None:
    async def scenario() -> None:
        kube = with_catalog()
        kube.put(ORGANIZATION.path("acme", "acme"), org_body("acme", {PLAN_ID: "pro-pool"}))
        kube.put(HRQ.path("acme", "plan-quota"), {"status": {"used": {"requests.cpu": "12"}}})
        lowered = yaml.safe_load(CATALOG)
        lowered["plans"]["pro-pool"]["requests"]["cpu"] = "2"
        warnings: list[str] = []
        body = catalog_body(yaml.safe_dump(lowered))
        await admit(webhooks.validate_catalog, body=body, memo=memo(kube, CATALOG), warnings=warnings)
        assert warnings[0] == "this catalog changes the quota of 1 of 1 organizations: acme"
        assert warnings[1].startswith("1 organizations would be over their new quota: acme (requests.cpu used 12 > ")

    run(scenario)


def test_a_public_eip_beyond_the_plan_is_denied() -> None:
    async def scenario() -> None:
        kube = with_catalog()
        kube.put(ORGANIZATION.path("acme", "acme"), org_body("acme", {PLAN_ID: "pro-pool"}))
        kube.put("/api/v1/namespaces/acme", {"metadata": {}})
        public = {"metadata": {"labels": {PUBLIC_EIP_LABEL: "public"}}}
        kube.put(EIP.path("acme", "first"), public)
        body = {"metadata": {"namespace": "acme", "name": "second", **public["metadata"]}}
        error = await denial(webhooks.validate_eip, body=body, memo=memo(kube))
        assert error.code == 403
        assert (
            str(error)
            == "organization acme: public EIp quota reached: plan pro-pool allows 1 and the organization holds 1"
        )
        eip_reads = [path.split("?")[0] for path in kube.reads if "/eips" in path]
        assert eip_reads == [EIP.path("acme")]  # its own namespaces' EIps, never the cluster's

    run(scenario)


def test_the_first_public_eip_of_the_plan_is_admitted() -> None:
    async def scenario() -> None:
        kube = with_catalog()
        kube.put(ORGANIZATION.path("acme", "acme"), org_body("acme", {PLAN_ID: "pro-pool"}))
        kube.put("/api/v1/namespaces/acme", {"metadata": {}})
        body = {"metadata": {"namespace": "acme", "name": "first", "labels": {PUBLIC_EIP_LABEL: "public"}}}
        await admit(webhooks.validate_eip, body=body, memo=memo(kube))

    run(scenario)
