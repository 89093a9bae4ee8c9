"""The Keycloak server distribution, fetched once per user from Maven Central with the machine's Maven.

Maven Central is a registry CI machines reach, and `mvn dependency:copy` checks the artifact's checksum;
the zip is unpacked into `~/.cache/orgquota/keycloak/<version>/`, so each run only starts a JVM.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from .binaries import BinariesError, log
from .cache import cache_root, made_once
from .versions import KEYCLOAK_ARTIFACT, KEYCLOAK_VERSION, MAVEN_DEPENDENCY_PLUGIN

FETCH_TIMEOUT = 900.0


def cache_keycloak_dir() -> Path:
    return cache_root() / "keycloak" / KEYCLOAK_VERSION


BUILT_MARKER = ".orgquota-built"


def _complete(home: Path) -> bool:
    # Written after `kc.sh build`: a distribution without it was not built for `start --optimized`.
    return os.access(home / "bin" / "kc.sh", os.X_OK) and (home / BUILT_MARKER).is_file()


def keycloak_home() -> Path:
    """The unpacked distribution (holds bin/kc.sh), fetching it on first use; `$ORGQUOTA_KEYCLOAK_HOME` overrides."""
    override = os.environ.get("ORGQUOTA_KEYCLOAK_HOME")
    if override:
        if not _complete(Path(override)):
            raise BinariesError(f"ORGQUOTA_KEYCLOAK_HOME={override} has no executable bin/kc.sh")
        return Path(override)
    return made_once(cache_keycloak_dir(), _complete, fetch_distribution)


def fetch_distribution(dest: Path) -> None:
    """Download the zip with Maven into `dest` and unpack it there (no version directory level)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BinariesError("fetching Keycloak needs Maven (`mvn`) on PATH, or ORGQUOTA_KEYCLOAK_HOME")
    log(f"fetching Keycloak {KEYCLOAK_VERSION} from Maven Central (first run, ~170 MB)…")
    began = time.monotonic()
    # A throw-away local repository: the zip is unpacked below, a second copy in ~/.m2 would only take space.
    cmd = [
        mvn,
        "--batch-mode",
        "--no-transfer-progress",
        f"-Dmaven.repo.local={dest / '.m2'}",
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={KEYCLOAK_ARTIFACT}",
        f"-DoutputDirectory={dest}",
    ]
    try:
        _run(cmd, dest)
    finally:
        shutil.rmtree(dest / ".m2", ignore_errors=True)
    zips = list(dest.glob("keycloak-quarkus-dist-*.zip"))
    if len(zips) != 1:
        raise BinariesError(f"`{' '.join(cmd)}` left {len(zips)} Keycloak zips in {dest}, expected one")
    fetched = time.monotonic()
    _unpack(zips[0], dest)
    zips[0].unlink()
    log(f"fetched Keycloak in {fetched - began:.0f}s, unpacked in {time.monotonic() - fetched:.0f}s")
    build(dest)


def build(home: Path) -> None:
    """Pre-augment for `kc.sh start --optimized` (the build options below are fixed from then on).

    Done once here rather than on every start: Quarkus' augmentation takes ~25 s and rewrites lib/.
    dev-file is the embedded H2 database; a local cache means no cluster discovery on the network.
    """
    began = time.monotonic()
    cmd = [str(home / "bin" / "kc.sh"), "build", "--db=dev-file", "--cache=local"]
    _run(cmd, home)
    (home / BUILT_MARKER).write_text(" ".join(cmd[1:]) + "\n")
    log(f"built Keycloak for optimized starts in {time.monotonic() - began:.0f}s")


def _run(cmd: list[str], cwd: Path) -> None:
    """Run `cmd` with output captured; BinariesError with the output's tail if it fails or hangs."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=FETCH_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BinariesError(f"`{' '.join(cmd)}` took over {FETCH_TIMEOUT:.0f}s") from exc
    if proc.returncode != 0:
        output = f"{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        raise BinariesError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}:\n{output}")


def _unpack(archive: Path, dest: Path) -> None:
    """Extract `archive`'s single top directory's contents into `dest`, keeping the Unix modes (kc.sh is +x)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            _, _, inner = info.filename.partition("/")  # drop the top directory, keycloak-<version>/
            if not inner:
                continue
            target = dest / inner
            if not target.resolve().is_relative_to(dest.resolve()):
                raise BinariesError(f"{archive.name} has an entry outside its directory: {info.filename}")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
