"""Helm, for the chart in deploy/chart/: built from its official Go module (hack/helm/), cached per user.

Like the control-plane binaries: a Go build from the pinned module when Go is there (it needs only a
module proxy), else the official release download checked against its published sha256; built once per
version into `~/.cache/orgquota/helm/<version>/helm`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from .binaries import _fetch_text, _go_build, _go_platform, _install_from_tarball, log
from .cache import cache_root
from .gotool import cached_tool, check_pin
from .versions import HELM_MODULE_DIR, HELM_VERSION

HELM_MODULE: Final = "helm.sh/helm/v4"


def cache_helm_dir() -> Path:
    return cache_root() / "helm" / HELM_VERSION


def helm_path() -> Path:
    """The helm binary, building (or downloading) it on first use; `$ORGQUOTA_HELM` overrides."""
    return cached_tool(cache_helm_dir(), "helm", build=build_helm, download=download_helm, override_env="ORGQUOTA_HELM")


def build_helm(go: str, dest: Path) -> None:
    check_pin(HELM_MODULE_DIR / "go.mod", HELM_MODULE, HELM_VERSION)
    # Stamp the version as Helm's own Makefile does, else `helm version` says v4.3 and no tree state.
    ldflags = (
        f"-s -w -X {HELM_MODULE}/internal/version.version={HELM_VERSION}"
        f" -X {HELM_MODULE}/internal/version.gitTreeState=clean"
    )
    _go_build(go, HELM_MODULE_DIR, dest / "helm", [f"{HELM_MODULE}/cmd/helm"], ldflags, f"helm {HELM_VERSION}")


def download_helm(dest: Path) -> None:
    goos, arch = _go_platform()
    log(f"no Go toolchain: downloading the helm {HELM_VERSION} release…")
    url = f"https://get.helm.sh/helm-{HELM_VERSION}-{goos}-{arch}.tar.gz"
    _install_from_tarball(url, _fetch_text(f"{url}.sha256sum").split()[0], f"{goos}-{arch}/helm", dest)
