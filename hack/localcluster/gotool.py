"""One cached tool built from a pinned Go module (helm, kube-controller-manager, HNC's manager).

Each tool has a cache entry of its own, `~/.cache/orgquota/<tool>/<version>/`, so adding a tool never
makes an existing entry (e.g. the kube-apiserver build) incomplete. The entry is made under a lock and
published atomically: parallel test runs build once and never see half a binary.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from .binaries import BinariesError
from .cache import made_once

Maker = Callable[[Path], None]
"""Writes the tool into the directory it is given (a staging dir that becomes the cache entry)."""


def cached_tool(
    entry: Path,
    name: str,
    *,
    build: Callable[[str, Path], None],
    download: Maker | None = None,
    override_env: str = "",
) -> Path:
    """`entry/name`, made on first use: `build(go, dir)` when Go is there, else `download(dir)`.

    `override_env` names an environment variable that points at a binary to use instead.
    """
    override = os.environ.get(override_env) if override_env else None
    if override:
        if not os.access(override, os.X_OK):
            raise BinariesError(f"{override_env}={override} is not an executable")
        return Path(override)
    go = shutil.which("go")
    if go is None and download is None:
        raise BinariesError(f"{name} has no release binary to download: building it needs Go on PATH")

    def make(tmp: Path) -> None:
        if go:
            build(go, tmp)
        elif download is not None:
            download(tmp)

    return made_once(entry, lambda d: os.access(d / name, os.X_OK), make) / name


def pinned_module_version(go_mod: Path, module: str) -> str:
    """The version of `module` that `go_mod` requires (what the build will compile)."""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", go_mod.read_text(), re.MULTILINE)
    if match is None:
        raise BinariesError(f"{go_mod} does not require {module}")
    return match.group(1)


def check_pin(go_mod: Path, module: str, expected: str) -> None:
    """Fail if go.mod and versions.py disagree: the cache entry is named after versions.py."""
    pinned = pinned_module_version(go_mod, module)
    if pinned != expected:
        raise BinariesError(f"{go_mod} pins {module} {pinned}, versions.py says {expected}")
