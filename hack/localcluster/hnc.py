"""The HNC HierarchicalResourceQuota CRD, taken from HNC's published Go module rather than copied by hand.

The operator writes HRQ objects; the e2e cluster needs the genuine CRD (schema included) so that API
validation matches a real HNC installation, and pinning the module version keeps it reproducible.
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

from .cache import cache_root, locked
from .versions import HNC_HRQ_CRD, HNC_MODULE, HNC_MODULE_SUM, HNC_VERSION

DEFAULT_GOPROXY = "https://proxy.golang.org"


class HncError(RuntimeError):
    """The HNC module could not be fetched or did not match its pinned hash."""


def hnc_crd_path() -> Path:
    """Path of the cached HRQ CRD YAML, fetching HNC's module on first use."""
    target = cache_root() / "hnc" / HNC_VERSION / Path(HNC_HRQ_CRD).name
    if target.is_file():
        return target
    with locked(target.parent / ".lock"):
        if not target.is_file():
            go = shutil.which("go")
            data = _read_with_go(go) if go else _read_from_proxy()
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(data)
            tmp.rename(target)  # atomic: readers never see a partial file
    return target


def _read_with_go(go: str) -> bytes:
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
    return (Path(info["Dir"]) / HNC_HRQ_CRD).read_bytes()


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


def _read_from_proxy() -> bytes:
    """Without Go: fetch the module zip over HTTP and check it against the pinned go.sum hash."""
    url = f"{goproxy_url()}/{_escape(HNC_MODULE)}/@v/{HNC_VERSION}.zip"
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            raw = resp.read()
    except OSError as exc:
        raise HncError(f"cannot fetch {url}: {exc}") from exc
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        if (got := module_zip_hash(zf)) != HNC_MODULE_SUM:
            raise HncError(f"{url} has hash {got}, expected {HNC_MODULE_SUM}")
        return zf.read(f"{HNC_MODULE}@{HNC_VERSION}/{HNC_HRQ_CRD}")
