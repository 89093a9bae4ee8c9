"""The billing API reads only the pods it counts: its pod cache asks the apiserver for live pods (a field
selector), so finished pods, which pile up in a cluster, are never read."""

from __future__ import annotations

import asyncio

from orgquota.api.cluster import Cluster, PodUsage
from orgquota.api.settings import ApiSettings
from orgquota.kube.client import Manifest
from tests.support.fake_kube import FakeKube


def test_the_api_reads_only_pods_that_count() -> None:
    async def scenario() -> None:
        kube = FakeKube()
        for name, phase in (("web", "Running"), ("new", "Pending"), ("done", "Succeeded"), ("crashed", "Failed")):
            kube.put(f"/api/v1/namespaces/acme/pods/{name}", {"spec": {"containers": []}, "status": {"phase": phase}})
        cluster = Cluster(ApiSettings.from_env({"OIDC_ISSUER_URL": "https://issuer.example"}))
        cluster.pods.kube = kube
        seen: list[str] = []
        keep = cluster.pods.transform

        def read(body: Manifest) -> PodUsage | None:
            seen.append(body["metadata"]["name"])
            return keep(body)

        cluster.pods.transform = read
        task = asyncio.create_task(cluster.pods.run())
        try:
            for _ in range(500):
                if cluster.pods.synced:
                    break
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
        assert sorted(cluster.pods.in_namespace("acme")) == ["new", "web"]
        assert sorted(seen) == ["new", "web"]  # the finished ones never reached the API
        assert cluster.pods.selectors == {"fieldSelector": "status.phase!=Failed,status.phase!=Succeeded"}

    asyncio.run(scenario())
