"""Run our kubectl against a cluster, and install the CRDs the operator needs."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .binaries import kubectl_path
from .hnc import hnc_config_dir
from .hncmanifests import CRD_FILES
from .procs import POLL
from .versions import PROJECT_CRDS


class KubectlError(subprocess.CalledProcessError):
    """A failed kubectl call whose message includes kubectl's stderr, so test failures explain themselves."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstderr: {(self.stderr or '').strip()}"


@dataclass(frozen=True)
class Cluster:
    """A cluster reachable through `kubeconfig`, driven with our kubectl (same version as our apiserver).

    `cache_dir` keeps kubectl's discovery cache out of ~/.kube/cache for throw-away clusters.
    """

    kubeconfig: Path
    kubectl_bin: Path = field(default_factory=kubectl_path)
    cache_dir: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        """Environment for subprocesses: KUBECONFIG set and our kubectl first on PATH (a fresh copy)."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = os.pathsep.join([str(self.kubectl_bin.parent), env.get("PATH", "")])
        if self.cache_dir is not None:
            env["KUBECACHEDIR"] = str(self.cache_dir)
        return env

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run `kubectl --kubeconfig K *args` (text mode, output captured); raise KubectlError if `check`."""
        cmd = [str(self.kubectl_bin), f"--kubeconfig={self.kubeconfig}", *args]
        proc = subprocess.run(
            cmd, input=input, capture_output=True, text=True, env=self.env, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            raise KubectlError(proc.returncode, cmd, proc.stdout, proc.stderr)
        return proc

    def get_json(self, *args: str) -> Any:
        """`kubectl get *args -o json`, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)


def crd_files(crds_dir: Path = PROJECT_CRDS) -> list[Path]:
    """The project's CRD manifests plus HNC's (its HierarchicalResourceQuota, and the anchors and
    hierarchy configurations the examples' project namespaces are made with)."""
    config = hnc_config_dir()
    return [*sorted(crds_dir.glob("*.yaml")), *(config / name for name in CRD_FILES)]


def _crds_in(files: list[Path]) -> list[dict[str, Any]]:
    docs = (doc for f in files for doc in yaml.safe_load_all(f.read_text()))
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]


def install_crds(cluster: Cluster, crds_dir: Path = PROJECT_CRDS, timeout: float = 60.0) -> list[str]:
    """Apply the CRDs (idempotent, server-side) and wait until each is Established and in discovery.

    Waiting for discovery too matters: Established can precede the group showing up in /apis, and a
    test that creates an object right then would fail with "no matches for kind".
    """
    files = crd_files(crds_dir)
    args = [a for f in files for a in ("-f", str(f))]
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=localcluster", *args)
    return wait_established(cluster, _crds_in(files), timeout)


def wait_established(cluster: Cluster, crds: list[dict[str, Any]], timeout: float = 60.0) -> list[str]:
    """Wait until each CRD is Established and its resource is served; return their names."""
    names = [c["metadata"]["name"] for c in crds]
    cluster.kubectl(
        "wait",
        "--for=condition=Established",
        f"--timeout={timeout:.0f}s",
        *(f"customresourcedefinition/{n}" for n in names),
    )
    deadline = time.monotonic() + timeout
    for crd in crds:
        spec = crd["spec"]
        for version in (v["name"] for v in spec["versions"] if v.get("served")):
            path = f"/apis/{spec['group']}/{version}"
            while True:
                proc = cluster.kubectl("get", "--raw", path, check=False)
                if proc.returncode == 0 and any(
                    r["name"] == spec["names"]["plural"] for r in json.loads(proc.stdout)["resources"]
                ):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{spec['names']['plural']}.{spec['group']} not served at {path}")
                time.sleep(POLL)
    return names
