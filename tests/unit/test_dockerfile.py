"""The image's Dockerfile: what hadolint (`make lint`) does not insist on, and what the build needs.

There is no Docker engine here to build it; `make kind-e2e` builds and runs it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_every_base_image_is_pinned_to_a_release() -> None:
    bases = [args.split()[0] for keyword, args in _instructions() if keyword == "FROM"]
    assert bases
    for base in bases:
        # a digest, or an exact X.Y.Z tag (never latest, never a moving 3.13 or slim)
        assert re.search(r"@sha256:[0-9a-f]{64}$", base) or re.search(r":\d+\.\d+\.\d+[-\w.]*$", base), base
        assert "slim" in base or "@sha256:" in base, f"{base}: a slim base keeps the image small"


def test_it_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in _instructions() if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric uid lets the kubelet verify runAsNonRoot"
    assert int(uid) != 0


def test_it_runs_the_operator() -> None:
    instructions = dict(_instructions())
    assert instructions["ENTRYPOINT"] == '["orgquota"]'
    assert instructions["CMD"] == '["run"]'


def test_nothing_is_fetched_from_urls() -> None:
    for keyword, args in _instructions():
        assert not (keyword == "ADD" and re.search(r"https?://", args)), "ADD of a URL: unpinned and unverified"
        assert not (keyword == "RUN" and re.search(r"\b(curl|wget)\b", args)), "downloads in RUN: unverified"


def test_the_build_copies_what_the_package_is_built_from() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    sources = {f"{path}/" for path in pyproject["tool"]["setuptools"]["package-dir"].values()}
    copied = {args.split()[0] for keyword, args in _instructions() if keyword == "COPY" and "--from" not in args}
    kept = {line[1:] for line in (REPO_ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    for source in sources | {"pyproject.toml"}:
        assert any(source.startswith(c) for c in copied), f"the build does not COPY {source}"
        assert any(source.startswith(k) for k in kept), f".dockerignore keeps {source} out of the build context"
