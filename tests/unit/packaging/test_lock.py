"""The image's hash-pinned requirements (`make lock`) agree with pyproject.toml.

The image installs requirements.lock with `--require-hashes --no-deps` (tests/unit/test_dockerfile.py),
so a dependency added to pyproject.toml but not locked would be missing from the image, and one whose
pin moved would ship at the old version. Offline: the lock is read, not resolved again; that it is
complete (every dependency's own dependencies in it) is `pip check` in the image build, which
tests/unit/packaging/test_wheel.py replays.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.dockerfile import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]["name"]
LOCKS = {
    "requirements.lock": PYPROJECT["project"]["dependencies"],
    "requirements-build.lock": PYPROJECT["build-system"]["requires"],
}
STALE = "out of date with pyproject.toml: run `make lock`"


@dataclass
class Locked:
    version: Version
    hashes: list[str] = field(default_factory=list)
    wanted_by: set[str] = field(default_factory=set)
    """what uv's `# via` comments name: packages, or `orgquota (pyproject.toml)`"""


def read_lock(path: Path) -> dict[str, Locked]:
    entries: dict[str, Locked] = {}
    current: Locked | None = None
    for line in path.read_text().splitlines():
        if pin := re.match(r"([A-Za-z0-9][\w.-]*)==(\S+)", line):
            current = entries[canonicalize_name(pin.group(1))] = Locked(Version(pin.group(2)))
        elif current is not None and (digest := re.search(r"--hash=(sha256:[0-9a-f]{64})", line)):
            current.hashes.append(digest.group(1))
        elif current is not None and (via := re.match(r"\s+#\s+(?:via\s+)?(\S.*)", line)):
            if via.group(1) != "via":
                current.wanted_by.add(via.group(1).strip())
        elif line.strip() and not line.lstrip().startswith(("#", "--")):
            raise AssertionError(f"{path.name}: a line that is not a pin, a hash or a comment: {line!r}")
    return entries


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_requirement_is_locked_at_a_version_it_allows(name: str) -> None:
    locked = read_lock(REPO_ROOT / name)
    for text in LOCKS[name]:
        requirement = Requirement(text)
        entry = locked.get(canonicalize_name(requirement.name))
        assert entry is not None, f"{name}: {requirement.name} is not locked; {STALE}"
        assert requirement.specifier.contains(entry.version, prereleases=True), (
            f"{name}: {requirement.name}=={entry.version} but pyproject.toml wants {requirement}; {STALE}"
        )


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_locked_file_has_its_hashes(name: str) -> None:
    locked = read_lock(REPO_ROOT / name)
    assert locked
    for package, entry in locked.items():
        assert entry.hashes, f"{name}: {package} without a hash: pip --require-hashes refuses the lock"
    assert "make lock" in (REPO_ROOT / name).read_text().split("\n", 3)[1], f"{name}: not written by `make lock`"


def test_the_lock_holds_exactly_the_runtime_dependencies_and_what_they_need() -> None:
    """A dependency removed from pyproject.toml leaves the lock too (the image would still carry it)."""
    locked = read_lock(REPO_ROOT / "requirements.lock")
    direct = {canonicalize_name(Requirement(text).name) for text in PYPROJECT["project"]["dependencies"]}
    wanted_by_project = {name for name, entry in locked.items() if f"{PROJECT} (pyproject.toml)" in entry.wanted_by}
    assert wanted_by_project == direct, STALE
    for package, entry in locked.items():
        assert entry.wanted_by, f"requirements.lock: {package} is wanted by nothing; {STALE}"
        assert {canonicalize_name(w.split()[0]) for w in entry.wanted_by} <= set(locked) | {PROJECT}, (
            f"requirements.lock: {package} is wanted by a package the lock does not have; {STALE}"
        )
