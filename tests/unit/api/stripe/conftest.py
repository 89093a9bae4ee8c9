"""The billing API with BILLING_PROVIDER=stripe over the in-memory cluster, calling a real stripe-mock.

Organization writes go to an in-memory stand-in of the apiserver's Organization endpoint (GET and
merge patch with the resourceVersion precondition), which can be told to fail; the same chain
against the real apiserver and operator is in tests/e2e/stripe.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from localcluster.stripe_mock import StripeMock
from orgquota.api.app import create_app
from orgquota.api.cluster import Cluster
from orgquota.api.settings import ApiSettings
from orgquota.kube.client import KubeError, Manifest
from tests.support.oidc import Issuer
from tests.support.stripe_events import FIXTURE_PRICE, SECRET_KEY, WEBHOOK_SECRET
from tests.unit.api.fixtures import cluster_objects

PRICES = {
    "STRIPE_PRICE_PRO_POOL": FIXTURE_PRICE,  # stripe-mock's subscriptions are on pro-pool
    "STRIPE_PRICE_DEV_POOL": "price_dev_pool",
    "STRIPE_PRICE_TURBO_X1": "price_turbo_x1",
}  # turbo-x2 has no price: it is not for sale


class Organizations:
    """The apiserver's Organization GET and merge patch, in memory; `failing` makes every call fail."""

    def __init__(self, objects: list[Manifest]) -> None:
        self.objects = {obj["metadata"]["name"]: copy.deepcopy(obj) for obj in objects}
        for number, obj in enumerate(self.objects.values(), start=1):
            obj["metadata"]["resourceVersion"] = str(number)
        self.version = len(self.objects)
        self.failing = False
        self.writes = 0

    def annotations(self, name: str) -> dict[str, str]:
        return dict(self.objects[name]["metadata"].get("annotations") or {})

    def _name(self, path: str) -> str:
        return path.rsplit("/", 1)[1]

    async def get(self, path: str) -> Manifest | None:
        if self.failing:
            raise KubeError("GET", path, 500, "etcd is down")
        found = self.objects.get(self._name(path))
        return copy.deepcopy(found) if found else None

    async def merge_patch(self, path: str, body: Manifest) -> Manifest:
        if self.failing:
            raise KubeError("PATCH", path, 500, "etcd is down")
        obj = self.objects.get(self._name(path))
        if obj is None:
            raise KubeError("PATCH", path, 404, "not found", "NotFound")
        meta = body["metadata"]
        if "resourceVersion" in meta and meta["resourceVersion"] != obj["metadata"]["resourceVersion"]:
            raise KubeError("PATCH", path, 409, "the object has been modified", "Conflict")
        annotations = obj["metadata"].setdefault("annotations", {})
        for key, value in meta["annotations"].items():
            if value is None:
                annotations.pop(key, None)
            else:
                annotations[key] = value
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.writes += 1
        return copy.deepcopy(obj)


@pytest.fixture(scope="session")
def stripe_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with StripeMock(tmp_path_factory.mktemp("stripe-mock")) as mock:
        yield mock.api_base


@pytest.fixture
def settings(issuer: Issuer, stripe_api: str) -> ApiSettings:
    return ApiSettings.from_env(
        {
            "OIDC_ISSUER_URL": issuer.url,
            "ORGANIZATION_PROJECTS_LIMIT": "3",
            "BILLING_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": stripe_api,
            "CONSOLE_URL": "https://console.example.com",
            **PRICES,
        }
    )


@pytest.fixture
def orgs(settings: ApiSettings) -> Organizations:
    return Organizations(cluster_objects(settings)["orgs"])


@pytest.fixture
def client(settings: ApiSettings, cluster: Cluster, issuer: Issuer, orgs: Organizations) -> Iterator[TestClient]:
    cluster.kube = orgs  # type: ignore[assignment]
    with TestClient(create_app(settings, cluster), raise_server_exceptions=False) as client:
        yield client


def data(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    return body
