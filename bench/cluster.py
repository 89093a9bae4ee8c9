"""The cluster a run measures: a fresh local control plane, or $KUBECONFIG's."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from bench.measure import Processes, pids_with_arg
from localcluster.controlplane import ControlPlane
from localcluster.kubectl import Cluster, install_crds


@contextlib.asynccontextmanager
async def cluster_for(workdir: Path) -> AsyncIterator[tuple[Cluster, Processes, str]]:
    """$KUBECONFIG's cluster, or a fresh local control plane in `workdir`."""
    external = os.environ.get("KUBECONFIG")
    if external:
        cluster = Cluster(Path(external), cache_dir=workdir / "kubectl-cache")
        install_crds(cluster)
        yield cluster, Processes(), "external ($KUBECONFIG)"
        return
    with ControlPlane(workdir / "controlplane") as plane:
        cluster = Cluster(plane.kubeconfig, cache_dir=workdir / "kubectl-cache")
        install_crds(cluster)
        found = pids_with_arg(str(plane.workdir), ("kube-apiserver", "etcd"))
        yield (
            cluster,
            Processes(apiserver=found.get("kube-apiserver", 0), etcd=found.get("etcd", 0)),
            "local control plane (etcd + kube-apiserver, no controller-manager)",
        )
