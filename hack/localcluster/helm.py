"""Helm, for the chart in deploy/chart/: built from its official Go module (hack/helm/), cached per user.

Like the control-plane binaries: a Go build from the pinned module when Go is there (it needs only a
module proxy), else the official release download checked against its published sha256; built once per
version into `~/.cache/orgquota/helm/<version>/helm`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

from .binaries import (
    BinariesError,
    _fetch_text,
    _go_build,
    _go_platform,
    _install_from_tarball,
    check_pinned,
    log,
)
from .cache import cache_root, made_once
from .versions import HELM_MODULE_DIR, HELM_VERSION

HELM_MODULE: Final = "helm.sh/helm/v4"


def cache_helm_dir() -> Path:
    return cache_root() / "helm" / HELM_VERSION


def helm_path() -> Path:
    """The helm binary, building (or downloading) it on first use; `$ORGQUOTA_HELM` overrides."""
    override = os.environ.get("ORGQUOTA_HELM")
    if override:
        if not os.access(override, os.X_OK):
            raise BinariesError(f"ORGQUOTA_HELM={override} is not an executable")
        return Path(override)
    return made_once(cache_helm_dir(), lambda d: os.access(d / "helm", os.X_OK), _make_helm) / "helm"


def _make_helm(dest: Path) -> None:
    go = shutil.which("go")
    if go and (HELM_MODULE_DIR / "go.mod").is_file():
        build_helm(go, dest)
    else:
        download_helm(dest)


def build_helm(go: str, dest: Path) -> None:
    check_pinned(HELM_MODULE_DIR / "go.mod", HELM_MODULE, HELM_VERSION)
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
