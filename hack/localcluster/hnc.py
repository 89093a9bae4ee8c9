"""HNC's manifests (CRDs, RBAC, webhooks), taken from HNC's published Go module rather than copied by hand.

The operator writes HRQ objects; the e2e cluster needs the genuine CRD (schema included) so that API
validation matches a real HNC installation, and pinning the module version keeps it reproducible. The
rest of `config/` is what the local cluster installs around the HNC manager it runs (hncmanifests.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from .cache import cache_root, made_once
from .versions import HNC_HRQ_CRD, HNC_MODULE, HNC_MODULE_SUM, HNC_VERSION

DEFAULT_GOPROXY = "https://proxy.golang.org"


class HncError(RuntimeError):
    """The HNC module could not be fetched or did not match its pinned hash."""


def hnc_crd_path() -> Path:
    """Path of the cached HRQ CRD YAML, fetching HNC's module on first use."""
    return hnc_config_dir().parent / HNC_HRQ_CRD


def hnc_config_dir() -> Path:
    """The module's `config/` tree (CRDs, RBAC, webhooks, variants), cached; fetched on first use."""
    return made_once(cache_root() / "hnc" / HNC_VERSION / "config", Path.is_dir, _fetch_config)


def _fetch_config(dest: Path) -> None:
    go = shutil.which("go")
    if go:
        shutil.copytree(_module_dir_with_go(go) / "config", dest, dirs_exist_ok=True)
    else:
        _extract_config_from_proxy(dest)
    for path in dest.rglob("*"):  # the module cache's files are read-only
        path.chmod(0o755 if path.is_dir() else 0o644)


def _module_dir_with_go(go: str) -> Path:
    """`go mod download` verifies against the checksum database and reuses the module cache."""
    # Run outside any module (and with GOWORK off) so no go.mod is consulted or touched.
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(
            [go, "mod", "download", "-json", f"{HNC_MODULE}@{HNC_VERSION}"],
            cwd=cwd,
            env={**os.environ, "GOWORK": "off", "GOFLAGS": ""},
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        info = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise HncError(f"go mod download failed: {proc.stderr.strip()}") from None
    if proc.returncode != 0 or "Error" in info:
        raise HncError(f"go mod download failed: {info.get('Error') or proc.stderr.strip()}")
    if info.get("Sum") != HNC_MODULE_SUM:
        raise HncError(f"{HNC_MODULE}@{HNC_VERSION} has sum {info.get('Sum')}, expected {HNC_MODULE_SUM}")
    return Path(info["Dir"])


def goproxy_url() -> str:
    """First HTTP(S) entry of $GOPROXY (entries split on ',' or '|'), else the public proxy."""
    for entry in os.environ.get("GOPROXY", "").replace("|", ",").split(","):
        if entry.startswith(("https://", "http://")):
            return entry.rstrip("/")
    return DEFAULT_GOPROXY


def _escape(path: str) -> str:
    """Module proxy case-escaping: upper-case letters become '!' + lower-case."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def module_zip_hash(zf: zipfile.ZipFile) -> str:
    """Go's dirhash.Hash1 over a module zip: the `h1:` value of go.sum."""
    summary = hashlib.sha256()
    for name in sorted(zf.namelist()):
        summary.update(f"{hashlib.sha256(zf.read(name)).hexdigest()}  {name}\n".encode())
    return "h1:" + base64.b64encode(summary.digest()).decode()


def _extract_config_from_proxy(dest: Path) -> None:
    """Without Go: fetch the module zip over HTTP, check it against the pinned go.sum hash, unpack config/."""
    url = f"{goproxy_url()}/{_escape(HNC_MODULE)}/@v/{HNC_VERSION}.zip"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            raw = resp.read()
    except OSError as exc:
        raise HncError(f"cannot fetch {url}: {exc}") from exc
    prefix = f"{HNC_MODULE}@{HNC_VERSION}/config/"
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        if (got := module_zip_hash(zf)) != HNC_MODULE_SUM:
            raise HncError(f"{url} has hash {got}, expected {HNC_MODULE_SUM}")
        for name in zf.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                out = dest / name.removeprefix(prefix)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(name))
