"""Find or make etcd, kube-apiserver and kubectl: $KUBEBUILDER_ASSETS, the user cache, a Go build, a download.

Building from the pinned Go modules is preferred over downloading because it needs only a module proxy,
which is what restricted CI machines tend to allow; the release download is the fallback without Go.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path
from typing import Final

from .cache import cache_root, made_once
from .versions import CONTROLPLANE_MODULES, ETCD_VERSION, KUBERNETES_VERSION

BINARIES: Final = ("etcd", "kube-apiserver", "kubectl")


class BinariesError(RuntimeError):
    """The control-plane binaries can't be found, built or downloaded."""


def log(msg: str) -> None:
    """Progress goes to stderr, so stdout stays machine-readable for `$(localcluster binaries)`."""
    print(f"localcluster: {msg}", file=sys.stderr, flush=True)


def cache_bin_dir() -> Path:
    """Versioned cache dir: a version bump lands in a new dir instead of mixing binaries."""
    return cache_root() / "controlplane" / f"k8s-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"


def _complete(d: Path) -> bool:
    return all(os.access(d / name, os.X_OK) for name in BINARIES)


def bin_dir() -> Path:
    """The dir holding etcd, kube-apiserver and kubectl, building or downloading them on first use."""
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        if not _complete(Path(assets)):
            raise BinariesError(f"KUBEBUILDER_ASSETS={assets} must contain executable {', '.join(BINARIES)}")
        return Path(assets)
    return made_once(cache_bin_dir(), _complete, _make_binaries)


def _make_binaries(dest: Path) -> None:
    go = shutil.which("go")
    if go and (CONTROLPLANE_MODULES / "kubernetes" / "go.mod").is_file():
        build_with_go(go, dest)
    else:
        download_release(dest)


def kubectl_path() -> Path:
    """Our kubectl, same version as the server: a stray system kubectl may be skewed or missing."""
    return bin_dir() / "kubectl"


def version_ldflags() -> str:
    """Stamp the version like Kubernetes' release build, else /version says v0.0.0-master."""
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".", 2)
    values = {"gitVersion": KUBERNETES_VERSION, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(
        f"-X {pkg}.{key}={val}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, val in values.items()
    )


def _go_build(
    go: str, module_dir: Path, out: Path, packages: list[str], ldflags: str, what: str, takes: str = "several minutes"
) -> None:
    log(f"building {what} from Go modules (first run, {takes})…")
    start = time.monotonic()
    # CGO off: static binaries like the upstream releases; GOWORK off: a parent go.work must not interfere.
    env = {**os.environ, "CGO_ENABLED": "0", "GOWORK": "off"}
    cmd = [go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(out), *packages]
    result = subprocess.run(cmd, cwd=module_dir, env=env, check=False)
    if result.returncode != 0:
        raise BinariesError(f"`{' '.join(cmd)}` in {module_dir} failed with exit code {result.returncode}")
    log(f"built {what} in {time.monotonic() - start:.0f}s")


def build_with_go(go: str, dest: Path) -> None:
    """Build all three binaries into `dest` from the modules pinned under hack/controlplane/."""
    _go_build(
        go,
        CONTROLPLANE_MODULES / "etcd",
        dest / "etcd",
        ["go.etcd.io/etcd/server/v3"],
        "-s -w",
        f"etcd {ETCD_VERSION}",
        "about a minute",
    )
    _go_build(
        go,
        CONTROLPLANE_MODULES / "kubernetes",
        dest,
        [
            "k8s.io/kubernetes/cmd/kube-apiserver",
            "k8s.io/kubernetes/cmd/kubectl",
        ],
        f"-s -w {version_ldflags()}",
        f"kube-apiserver and kubectl {KUBERNETES_VERSION}",
    )


def _go_platform() -> tuple[str, str]:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if sys.platform != "linux" or arch is None:
        raise BinariesError("no kube-apiserver release for this platform; install Go to build it instead")
    return "linux", arch


def _download(url: str, dest: Path) -> str:
    """Stream `url` to `dest` and return its sha256 (releases are ~100 MB, so not in memory)."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, dest.open("wb") as out:
            while chunk := resp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        raise BinariesError(f"cannot download {url}: {exc}") from exc
    return digest.hexdigest()


def _fetch_text(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return str(resp.read().decode())
    except OSError as exc:
        raise BinariesError(f"cannot download {url}: {exc}") from exc


def download_release(dest: Path) -> None:
    """Fetch the official release binaries into `dest`, checking the published sha256 sums."""
    goos, arch = _go_platform()
    log(f"no Go toolchain: downloading Kubernetes {KUBERNETES_VERSION} and etcd {ETCD_VERSION} releases…")
    for name in ("kube-apiserver", "kubectl"):
        url = f"https://dl.k8s.io/release/{KUBERNETES_VERSION}/bin/{goos}/{arch}/{name}"
        if _download(url, dest / name) != _fetch_text(f"{url}.sha256").split()[0]:
            raise BinariesError(f"sha256 mismatch for {url}")
        (dest / name).chmod(0o755)
    base = f"https://github.com/etcd-io/etcd/releases/download/{ETCD_VERSION}"
    tarball = f"etcd-{ETCD_VERSION}-{goos}-{arch}.tar.gz"
    lines = _fetch_text(f"{base}/SHA256SUMS").splitlines()
    sums = {name: digest for digest, name in (ln.split() for ln in lines if ln.strip())}
    _install_from_tarball(f"{base}/{tarball}", sums.get(tarball), f"{tarball.removesuffix('.tar.gz')}/etcd", dest)
    log("downloaded")


def _install_from_tarball(url: str, sha256: str | None, member: str, dest: Path) -> None:
    """Download a release tarball, check its sha256 and put its `member` binary into `dest`."""
    tarball = dest / url.rsplit("/", 1)[-1]
    if _download(url, tarball) != sha256:
        tarball.unlink()
        raise BinariesError(f"sha256 mismatch for {url}")
    binary = dest / member.rsplit("/", 1)[-1]
    with tarfile.open(tarball) as tar:
        extracted = tar.extractfile(member)
        if extracted is None:
            raise BinariesError(f"{tarball.name} has no {member}")
        binary.write_bytes(extracted.read())
    binary.chmod(0o755)
    tarball.unlink()
