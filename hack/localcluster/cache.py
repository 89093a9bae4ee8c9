"""Per-user cache directory and the locking/atomic-publish helpers shared by binaries, CRD and Keycloak fetches."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def cache_root() -> Path:
    """`${XDG_CACHE_HOME:-~/.cache}/orgquota`: shared by every checkout, so a build happens once per user."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orgquota"


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive flock, so parallel test runs don't build or download the same thing twice."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def staging_dir(final: Path) -> Iterator[Path]:
    """Yield a temp dir next to `final`; on success rename it into place, so a half result is never seen."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the result is a normal cache entry
    try:
        yield tmp
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def made_once(target: Path, complete: Callable[[Path], bool], make: Callable[[Path], None]) -> Path:
    """`target`, made by `make(staging dir)` unless `complete(target)` already holds.

    Locked, so parallel runs make it once; staged, so nobody sees a half-made `target`.
    """
    if complete(target):
        return target
    with locked(target.parent / ".lock"):
        if not complete(target):  # another process may have made it while we waited for the lock
            with staging_dir(target) as tmp:
                make(tmp)
    return target
