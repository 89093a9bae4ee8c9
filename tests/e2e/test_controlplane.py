"""The harness itself: a real API server with real CRDs, RBAC and validation; clean process handling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from localcluster import platform
from localcluster.cli import platform_wanted
from localcluster.controlplane import ControlPlane, ControlPlaneError, stop_detached
from localcluster.kubectl import Cluster
from localcluster.procs import pid_alive, wait_until
from localcluster.versions import KUBERNETES_VERSION

pytestmark = pytest.mark.e2e

ORG_CRD = "organizations.kube-dc.com"
HRQ_CRD = "hierarchicalresourcequotas.hnc.x-k8s.io"


def org_manifest(name: str, email: str | None = None, annotations: dict[str, str] | None = None) -> str:
    spec = {"displayName": "Acme"} | ({"email": email} if email is not None else {})
    return yaml.safe_dump(
        {
            "apiVersion": "kube-dc.com/v1",
            "kind": "Organization",
            "metadata": {"name": name, "namespace": name, "annotations": annotations or {}},
            "spec": spec,
        }
    )


@pytest.fixture(scope="module")
def namespace(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace; organizations live in the namespace of their own name."""
    name = f"e2e-cp-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    yield name
    # No controller-manager in the local control plane: the namespace would stay Terminating if we waited.
    cluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def organization(cluster: Cluster, namespace: str) -> str:
    annotations = {"billing.kube-dc.com/plan-id": "pro-pool", "billing.kube-dc.com/subscription": "active"}
    cluster.kubectl("create", "-f", "-", input=org_manifest(namespace, "owner@acme.example", annotations))
    return namespace


@pytest.mark.parametrize("crd", [ORG_CRD, HRQ_CRD])
def test_crd_is_established(cluster: Cluster, crd: str) -> None:
    conditions = {
        c["type"]: c["status"] for c in cluster.get_json(f"customresourcedefinition/{crd}")["status"]["conditions"]
    }
    assert conditions["Established"] == "True"
    assert conditions["NamesAccepted"] == "True"


def test_server_and_kubectl_report_the_pinned_version(managed_cluster: Cluster) -> None:
    server = json.loads(managed_cluster.kubectl("get", "--raw", "/version").stdout)
    assert server["gitVersion"] == KUBERNETES_VERSION
    assert (server["major"], server["minor"]) == ("1", "37")
    client = json.loads(managed_cluster.kubectl("version", "--client", "-o", "json").stdout)
    assert client["clientVersion"]["gitVersion"] == KUBERNETES_VERSION


def test_organization_without_email_is_rejected(cluster: Cluster, namespace: str) -> None:
    proc = cluster.kubectl("create", "-f", "-", input=org_manifest(namespace), check=False)
    assert proc.returncode != 0
    assert "spec.email" in proc.stderr
    assert "Required value" in proc.stderr


def test_organization_with_malformed_email_is_rejected(cluster: Cluster, namespace: str) -> None:
    proc = cluster.kubectl("create", "-f", "-", input=org_manifest(namespace, "not-an-address"), check=False)
    assert proc.returncode != 0
    assert "spec.email" in proc.stderr


def test_organization_with_email_is_accepted(cluster: Cluster, organization: str) -> None:
    obj = cluster.get_json("organization", organization, "-n", organization)
    assert obj["spec"]["email"] == "owner@acme.example"
    assert obj["metadata"]["uid"]


def test_printer_columns(cluster: Cluster, organization: str) -> None:
    lines = cluster.kubectl("get", "organizations", "-n", organization).stdout.splitlines()
    assert lines[0].split() == ["NAME", "PLAN", "SUBSCRIPTION", "MODE", "READY", "AGE"]
    row = lines[1].split()
    assert row[:3] == [organization, "pro-pool", "active"]  # Plan and Subscription come from the annotations


def test_rbac_forbids_an_unprivileged_user(cluster: Cluster, organization: str) -> None:
    proc = cluster.kubectl("--as=someone", "get", "organizations", "-A", check=False)
    assert proc.returncode != 0
    assert "Forbidden" in proc.stderr
    assert 'User "someone" cannot list resource "organizations"' in proc.stderr
    # ... while the admin, in system:masters, sees the organization.
    assert organization in cluster.kubectl("get", "organizations", "-A", "-o", "name").stdout


def test_hierarchical_resource_quota_can_be_created(cluster: Cluster, namespace: str) -> None:
    hard = {"pods": "10", "requests.cpu": "2", "requests.memory": "4Gi"}
    cluster.kubectl(
        "create",
        "-f",
        "-",
        input=yaml.safe_dump(
            {
                "apiVersion": "hnc.x-k8s.io/v1alpha2",
                "kind": "HierarchicalResourceQuota",
                "metadata": {"name": "hand-made", "namespace": namespace},
                "spec": {"hard": hard},
            }
        ),
    )
    obj = cluster.get_json("hierarchicalresourcequota.hnc.x-k8s.io/hand-made", "-n", namespace)
    assert obj["apiVersion"] == "hnc.x-k8s.io/v1alpha2"
    assert obj["spec"]["hard"] == hard


def _localcluster(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "localcluster.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_cli_up_is_idempotent_and_down_leaves_no_processes(tmp_path: Path) -> None:
    workdir = tmp_path / "cluster"
    try:
        up = _localcluster("up", "--dir", str(workdir))
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == str(workdir / "kubeconfig")
        names = ("etcd", "kube-apiserver", *(platform.PROCESSES if platform_wanted() else ()))
        pids = {name: int((workdir / f"{name}.pid").read_text()) for name in names}
        assert all(pid_alive(pid) for pid in pids.values())
        assert Cluster(workdir / "kubeconfig").kubectl("get", "--raw", "/readyz").stdout == "ok"

        again = _localcluster("up", "--dir", str(workdir))
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stderr
        assert {name: int((workdir / f"{name}.pid").read_text()) for name in pids} == pids

        down = _localcluster("down", "--dir", str(workdir))
        assert down.returncode == 0, down.stderr
        assert not any(pid_alive(pid) for pid in pids.values())
        assert not list(workdir.glob("*.pid"))
        assert _localcluster("down", "--dir", str(workdir)).returncode == 0  # nothing left: still fine
    finally:
        platform.stop_detached(workdir)
        stop_detached(workdir)


def _fake_bin_dir(tmp_path: Path, etcd_script: str) -> Path:
    bins = tmp_path / "bin"
    bins.mkdir()
    for name in ("etcd", "kube-apiserver", "kubectl"):
        (bins / name).write_text("#!/bin/sh\nexit 0\n")
    (bins / "etcd").write_text(f"#!/bin/sh\n{etcd_script}\n")
    for f in bins.iterdir():
        f.chmod(0o755)
    return bins


def test_start_failure_reports_the_log_tail(tmp_path: Path) -> None:
    bins = _fake_bin_dir(tmp_path, "echo 'etcdmain: boom: bad flag' >&2; exit 3")
    with pytest.raises(ControlPlaneError, match=r"(?s)etcd exited with code 3.*boom: bad flag"):
        ControlPlane(tmp_path / "cp", bin_dir=bins).start()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_children_die_when_the_test_process_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "etcd.pid"
    bins = _fake_bin_dir(tmp_path, f"echo $$ > {pid_file}; exec sleep 600")  # never becomes healthy
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys; from pathlib import Path; from localcluster.controlplane import ControlPlane; "
                "ControlPlane(Path(sys.argv[1]), bin_dir=Path(sys.argv[2])).start()"
            ),
            str(tmp_path / "cp"),
            str(bins),
        ]
    )
    child = 0
    try:
        assert wait_until(lambda: pid_file.is_file() and pid_file.read_text().strip() != "", timeout=30)
        child = int(pid_file.read_text())
        assert pid_alive(child)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    assert wait_until(lambda: not pid_alive(child), timeout=10)
