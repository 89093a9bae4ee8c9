"""The image's Dockerfile: what hadolint (`make lint`) does not insist on, and what the build needs.

There is no Docker engine here to build it; `make kind-e2e` builds and runs it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from tests.support.dockerfile import LAST_STAGE, REPO_ROOT, build_context, ignored, instructions, replay, stages

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_every_base_image_is_pinned_to_a_release() -> None:
    bases = [args.split()[0] for keyword, args in instructions() if keyword == "FROM"]
    assert bases
    for base in bases:
        # a digest, or an exact X.Y.Z tag (never latest, never a moving 3.13 or slim)
        assert re.search(r"@sha256:[0-9a-f]{64}$", base) or re.search(r":\d+\.\d+\.\d+[-\w.]*$", base), base
        assert "slim" in base or "@sha256:" in base, f"{base}: a slim base keeps the image small"


def test_it_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in instructions() if keyword == "USER"]
    assert users, "no USER: the container would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit(), "a numeric uid lets the kubelet verify runAsNonRoot"
    assert int(uid) != 0


def test_it_runs_the_operator() -> None:
    last = dict(instructions())
    assert last["ENTRYPOINT"] == '["orgquota"]'
    assert last["CMD"] == '["run"]'


def test_nothing_is_fetched_from_urls() -> None:
    for keyword, args in instructions():
        assert not (keyword == "ADD" and re.search(r"https?://", args)), "ADD of a URL: unpinned and unverified"
        assert not (keyword == "RUN" and re.search(r"\b(curl|wget)\b", args)), "downloads in RUN: unverified"


def test_the_build_copies_what_the_package_is_built_from() -> None:
    sources = {f"{where}/" for where in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"]}
    copied = {
        w for keyword, args in instructions() if keyword == "COPY" and "--from" not in args for w in args.split()[:-1]
    }
    for source in sources | {"pyproject.toml", "requirements.lock", "requirements-build.lock"}:
        assert any(source.startswith(c) for c in copied), f"the build does not COPY {source}"
        assert not ignored(source.rstrip("/")), f".dockerignore keeps {source} out of the build context"


def test_the_page_is_built_from_the_lock_file_in_a_node_stage() -> None:
    ui = stages()["ui"]
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
    runtime = stages()[LAST_STAGE]
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
        assert not ignored(kept), f".dockerignore keeps {kept} out of the build context"
    for left_out in (
        "ui/node_modules/react/index.js",
        "ui/dist/index.html",
        "operator/orgquota/__pycache__/x.pyc",
        "operator/orgquota.egg-info/PKG-INFO",
        "hack/localcluster/cli.py",
        "hack/pyproject.toml",
    ):
        assert ignored(left_out), f".dockerignore lets {left_out} into the build context"
    assert ignored("tests/unit/test_dockerfile.py")


def _sources(directory: Path) -> set[str]:
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if "__pycache__" not in p.parts}


def test_the_build_stage_gets_the_package_sources_and_the_locks_only(tmp_path: Path) -> None:
    """Its COPY steps replayed (tests/unit/packaging/test_wheel.py also runs its RUN steps)."""
    build = replay("build", tmp_path, stage_roots={}, run=lambda command: False)
    src = build.host(".")
    assert build.workdir.as_posix() == "/src"
    assert {p.name for p in src.iterdir()} == {
        "pyproject.toml",
        "requirements.lock",
        "requirements-build.lock",
        "operator",
    }
    # every file of the package's sources, data files too (what `make venv` leaves beside them aside)
    assert [p.name for p in (src / "operator").iterdir()] == ["orgquota"]
    assert _sources(src / "operator/orgquota") == _sources(REPO_ROOT / "operator/orgquota")
    assert "hack/localcluster/cli.py" not in build_context(), "the development harness is in the build context"


def test_python_dependencies_are_installed_as_locked() -> None:
    """Nothing resolved or fetched unverified: every requirement with its hash, the build backend too."""
    runs = " && ".join(args for keyword, args in stages()["build"] if keyword == "RUN").split("&&")
    installs = [run.split() for run in runs if re.search(r"\bpip (install|wheel)\b", run)]
    locked = {words[words.index("-r") + 1] for words in installs if "-r" in words}
    assert locked == {"requirements.lock", "requirements-build.lock"}
    for words in installs:
        assert "--no-deps" in words, f"{' '.join(words)}: pip would resolve and fetch what the lock does not name"
        if "-r" in words:
            assert "--require-hashes" in words, f"{' '.join(words)}: hashes unchecked"
        elif "wheel" in words:
            assert "--no-build-isolation" in words, "an isolated build fetches its backend unverified"
        else:
            assert words[-1].startswith("/wheels/"), f"{' '.join(words)}: only the wheel built here installs unlocked"


def test_the_image_takes_nothing_from_the_build_context_directly() -> None:
    """The runtime stage's files come from the build and ui stages only; sources and locks stay behind."""
    copies = [args.split() for keyword, args in stages()[LAST_STAGE] if keyword == "COPY"]
    assert copies
    assert all(words[0] in ("--from=build", "--from=ui") for words in copies), copies
