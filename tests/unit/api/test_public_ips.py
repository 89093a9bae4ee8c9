"""An organization's public EIPs: those in its HNC tree, counted anew after every change of the EIPs."""

from __future__ import annotations

from orgquota.api.cluster import Cluster


def _walked(cluster: Cluster, org: str) -> int:
    """The count as every EIP of the cluster walked."""
    members = set(cluster.members(org)) | {org}
    return sum(1 for namespace, _, _ in cluster.eips.items() if namespace in members)


def test_counts_follow_every_change(cluster: Cluster) -> None:
    orgs = ("acme", "beta", "gone", "nobody")
    assert [cluster.public_ips(org) for org in orgs] == [_walked(cluster, org) for org in orgs]
    acme = cluster.public_ips("acme")
    cluster.eips.apply("ADDED", {"metadata": {"namespace": "acme-dev", "name": "eip-new"}})
    cluster.eips.apply("ADDED", {"metadata": {"namespace": "beta-x", "name": "eip-b"}})
    cluster.eips.apply("ADDED", {"metadata": {"namespace": "elsewhere", "name": "eip-x"}})
    assert cluster.public_ips("acme") == acme + 1
    assert cluster.public_ips("beta") == _walked(cluster, "beta") >= 1
    cluster.eips.apply("DELETED", {"metadata": {"namespace": "acme-dev", "name": "eip-new"}})
    assert cluster.public_ips("acme") == acme
    cluster.eips.replace([])
    assert [cluster.public_ips(org) for org in orgs] == [0, 0, 0, 0]
