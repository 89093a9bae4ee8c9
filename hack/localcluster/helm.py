"""Helm, for the chart in deploy/chart/: built from its official Go module (hack/helm/), cached per user.

Like the control-plane binaries: a Go build from the pinned module when Go is there (it needs only a
module proxy), else the official release download checked against its published sha256; built once per
version into `~/.cache/orgquota/helm/<version>/helm`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Final

from .binaries import BinariesError, _fetch_text, _go_build, _go_platform, _install_from_tarball, log
from .cache import cache_root, locked, staging_dir
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
    target = cache_helm_dir()
    if os.access(target / "helm", os.X_OK):
        return target / "helm"
    with locked(target.parent / ".lock"):
        if not os.access(target / "helm", os.X_OK):  # another process may have made it meanwhile
            go = shutil.which("go")
            with staging_dir(target) as tmp:
                if go and (HELM_MODULE_DIR / "go.mod").is_file():
                    build_helm(go, tmp)
                else:
                    download_helm(tmp)
    return target / "helm"


def pinned_module_version(go_mod: Path = HELM_MODULE_DIR / "go.mod") -> str:
    """The helm.sh/helm/v4 version hack/helm/go.mod requires."""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(HELM_MODULE)}\s+(v\S+)", go_mod.read_text(), re.MULTILINE)
    if match is None:
        raise BinariesError(f"{go_mod} does not require {HELM_MODULE}")
    return match.group(1)


def build_helm(go: str, dest: Path) -> None:
    pinned = pinned_module_version()
    if pinned != HELM_VERSION:
        raise BinariesError(f"hack/helm/go.mod pins {HELM_MODULE} {pinned}, versions.py says {HELM_VERSION}")
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
