"""The image's Dockerfile: what hadolint (`make lint`) does not insist on, and what the build needs.

There is no Docker engine here to build it; `make kind-e2e` builds and runs it.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
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


def _stages() -> dict[str, list[tuple[str, str]]]:
    """Instructions by stage name (`FROM ... AS name`; the last, unnamed stage is '')."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, args in _instructions():
        if keyword == "FROM":
            words = args.split()
            current = stages.setdefault(words[2] if len(words) == 3 and words[1].upper() == "AS" else "", [])
        current.append((keyword, args))
    return stages


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context, as Docker decides: the last pattern
    that matches the path or one of its parent directories wins, and a `!` pattern keeps."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern = line.removeprefix("!").rstrip("/")
        if pattern.startswith("**/"):  # at any depth
            matched = any(fnmatch.fnmatchcase(c.rsplit("/", 1)[-1], pattern[3:]) for c in candidates)
        else:
            matched = any(fnmatch.fnmatchcase(c, pattern) for c in candidates)
        if matched:
            ignored = not line.startswith("!")
    return ignored


def test_the_page_is_built_from_the_lock_file_in_a_node_stage() -> None:
    ui = _stages()["ui"]
    base = ui[0][1].split()[0]
    assert base.startswith("node:20."), f"{base}: the Node major the page is built and tested with (node 20)"
    runs = [args for keyword, args in ui if keyword == "RUN"]
    assert any(re.match(r"npm ci\b", run) for run in runs), "npm ci: exactly the lock file's dependencies"
    assert not any(re.search(r"\bnpm (install|i)\b", run) for run in runs), "npm install may move versions"
    assert "npm run build" in runs
    copies = [args for keyword, args in ui if keyword == "COPY"]
    # the lock file alone first, so a change of the page's sources does not install dependencies again
    assert copies[0].split()[:2] == ["ui/package.json", "ui/package-lock.json"]


def test_the_runtime_image_serves_the_built_page() -> None:
    runtime = _stages()[""]
    copied = [args.split() for keyword, args in runtime if keyword == "COPY" and args.startswith("--from=ui ")]
    assert copied, "the runtime image does not copy the page from the ui stage"
    (_, source, target) = copied[0]
    assert source == "/ui/dist"
    env = " ".join(args for keyword, args in runtime if keyword == "ENV")
    assert f"ORGQUOTA_UI_DIR={target}" in env, "orgquota api must be told where the page is"


def test_the_build_context_has_the_page_sources_but_not_what_npm_makes() -> None:
    for kept in (
        "ui/package.json",
        "ui/package-lock.json",
        "ui/src/main.tsx",
        "ui/index.html",
        "ui/dev/bundle-size.mjs",
    ):
        assert (REPO_ROOT / kept).exists(), kept
        assert not _ignored(kept), f".dockerignore keeps {kept} out of the build context"
    for left_out in ("ui/node_modules/react/index.js", "ui/dist/index.html", "operator/orgquota/__pycache__/x.pyc"):
        assert _ignored(left_out), f".dockerignore lets {left_out} into the build context"
    assert _ignored("tests/unit/packaging/test_dockerfile.py")
