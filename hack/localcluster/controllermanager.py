"""kube-controller-manager for the local cluster: the controllers that make quotas and deletion real.

Without it a ResourceQuota never gets a status (so quota admission refuses everything it covers),
ownerReferences are never followed, deleted namespaces never go away and service accounts get no
tokens. It is built from the same pinned module as kube-apiserver (hack/controlplane/kubernetes/) but
cached in an entry of its own, so the kube-apiserver/etcd/kubectl entry stays complete as it is.
"""

from __future__ import annotations

import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Final

from .binaries import BinariesError, _download, _fetch_text, _go_build, _go_platform, log, version_ldflags
from .cache import cache_root
from .certs import Pki
from .gotool import cached_tool
from .versions import CONTROLPLANE_MODULES, KUBERNETES_VERSION

NAME: Final = "kube-controller-manager"
# Only what the platform slice needs: quotas counted, owned objects collected, namespaces emptied and
# removed, `default` service accounts and their legacy tokens, aggregated ClusterRoles (HNC's admin role).
CONTROLLERS: Final = (
    "resourcequota-controller",
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "clusterrole-aggregation-controller",
)


def cache_entry() -> Path:
    return cache_root() / "controlplane" / f"{NAME}-{KUBERNETES_VERSION}"


def controller_manager_path() -> Path:
    """The binary: $KUBEBUILDER_ASSETS's if it has one, else the cache's (built or downloaded on first use)."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets and os.access(Path(assets) / NAME, os.X_OK):
        return Path(assets) / NAME
    return cached_tool(
        cache_entry(), NAME, build=build, download=download, override_env="ORGQUOTA_KUBE_CONTROLLER_MANAGER"
    )


def build(go: str, dest: Path) -> None:
    _go_build(
        go,
        CONTROLPLANE_MODULES / "kubernetes",
        dest / NAME,
        [f"k8s.io/kubernetes/cmd/{NAME}"],
        f"-s -w {version_ldflags()}",
        f"{NAME} {KUBERNETES_VERSION}",
    )


def download(dest: Path) -> None:
    goos, arch = _go_platform()
    log(f"no Go toolchain: downloading the {NAME} {KUBERNETES_VERSION} release…")
    url = f"https://dl.k8s.io/release/{KUBERNETES_VERSION}/bin/{goos}/{arch}/{NAME}"
    if _download(url, dest / NAME) != _fetch_text(f"{url}.sha256").split()[0]:
        raise BinariesError(f"sha256 mismatch for {url}")
    (dest / NAME).chmod(0o755)


def args(binary: Path, *, kubeconfig: Path, pki: Pki, port: int, cert_dir: Path) -> list[str]:
    """The command line: the admin kubeconfig, loopback only, the apiserver's service-account key pair."""
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        # Delegated authn/authz of its own /healthz etc. go to the same apiserver.
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={cert_dir}",  # a self-signed serving cert is made here
        "--leader-elect=false",  # one instance per cluster
        f"--controllers={','.join(CONTROLLERS)}",
        # The private half of the apiserver's --service-account-key-file: the tokens it signs verify there.
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca_cert}",
    ]


def healthy(port: int, timeout: float = 2.0) -> bool:
    """/healthz answers ok (it is always allowed; the serving cert is self-signed, hence no verification)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    try:
        with opener.open(f"https://127.0.0.1:{port}/healthz", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
