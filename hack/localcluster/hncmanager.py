"""HNC's manager, built from the pinned module in hack/hnc/ and run as a process on loopback.

HNC publishes no binary release (only a container image), so this needs Go; it is built once per
version into `~/.cache/orgquota/hnc-manager/<version>/hnc-manager`. `--enable-hrq` turns on the
HierarchicalResourceQuota controllers and webhooks; the internal cert rotator stays off (its flag
defaults to off): the webhook server reads the certificate we give it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Final

from .binaries import _go_build
from .cache import cache_root
from .gotool import cached_tool, check_pin
from .versions import HNC_EXCLUDED_NAMESPACES, HNC_MODULE, HNC_MODULE_DIR, HNC_NAMESPACE, HNC_VERSION

NAME: Final = "hnc-manager"
SERVICE_ACCOUNT: Final = "default"  # what upstream's Deployment runs as, and its RBAC binds
# controller-runtime's webhook server reads tls.crt/tls.key from here under $TMPDIR (v1.1.0 has no flag).
CERT_SUBDIR: Final = Path("k8s-webhook-server") / "serving-certs"


def cache_entry() -> Path:
    return cache_root() / NAME / HNC_VERSION


def hnc_manager_path() -> Path:
    """The manager binary, built on first use; `$ORGQUOTA_HNC_MANAGER` overrides."""
    return cached_tool(cache_entry(), NAME, build=build, override_env="ORGQUOTA_HNC_MANAGER")


def build(go: str, dest: Path) -> None:
    check_pin(HNC_MODULE_DIR / "go.mod", HNC_MODULE, HNC_VERSION)
    ldflags = f"-s -w -X {HNC_MODULE}/internal/version.Version={HNC_VERSION}"
    _go_build(go, HNC_MODULE_DIR, dest / NAME, [f"{HNC_MODULE}/cmd/manager"], ldflags, f"HNC manager {HNC_VERSION}")


def args(binary: Path, *, kubeconfig: Path, webhook_port: int, metrics_port: int, probe_port: int) -> list[str]:
    """The command line of upstream's Deployment (hrq variant), minus cert management, on loopback ports.

    The webhook server listens on all interfaces: v1.1.0 offers no flag for its bind address.
    """
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--webhook-server-port={webhook_port}",
        f"--metrics-addr=127.0.0.1:{metrics_port}",
        f"--health-probe-bind-address=127.0.0.1:{probe_port}",
        "--enable-stackdriver=false",  # else it looks for Google Cloud credentials
        "--enable-hrq",
        "--max-reconciles=10",
        "--apiserver-qps-throttle=50",
        f"--namespace={HNC_NAMESPACE}",
        *(f"--excluded-namespace={ns}" for ns in HNC_EXCLUDED_NAMESPACES),
    ]


def ready(probe_port: int, timeout: float = 2.0) -> bool:
    """/readyz is ok once the webhook server serves (HNC's own readiness check)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{probe_port}/readyz", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False
