"""The image's Dockerfile read as data, and its steps replayed without Docker (there is no engine here).

A replayed stage is a directory standing for the image's root: COPY puts files there (from the build
context, as .dockerignore filters it, or from an earlier stage's directory) and RUN runs the command on
this machine with every absolute path of the image moved under that directory (`/opt/x` becomes
`<root>/opt/x`), in the stage's WORKDIR and with its ENV. The machine's own Python stands for the base
image's; a RUN that would change the machine itself (a path under /usr, /etc, ...) is refused.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
DOCKERFILE: Final = REPO_ROOT / "Dockerfile"
DOCKERIGNORE: Final = REPO_ROOT / ".dockerignore"
IMAGE_ROOT: Final = PurePosixPath("/")
LAST_STAGE: Final = ""
"""the name `stages()` gives the last, unnamed stage: the image itself"""

ABSOLUTE_PATH: Final = re.compile(r"(?<![\w.$/:-])/[A-Za-z][\w.*-]*(?:/[\w.*-]*)*")
MACHINE_PATHS: Final = ("/usr/", "/etc/", "/bin/", "/sbin/", "/lib/", "/var/", "/home/", "/root/", "/nonexistent")
"""absolute paths a replayed RUN must not touch: they are the machine's, not the image's"""
KEPT_PATHS: Final = ("/dev/",)


def instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text() if text is None else text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def stages(text: str | None = None) -> dict[str, list[tuple[str, str]]]:
    """Instructions by stage name (`FROM ... AS name`; the last, unnamed stage is LAST_STAGE)."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, args in instructions(text):
        if keyword == "FROM":
            words = args.split()
            current = found.setdefault(words[2] if len(words) == 3 and words[1].upper() == "AS" else LAST_STAGE, [])
        current.append((keyword, args))
    return found


def _patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context, as Docker decides: the last pattern
    that matches the path or one of its parent directories wins, and a `!` pattern keeps."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for line in _patterns():
        pattern = line.removeprefix("!").rstrip("/")
        if pattern.startswith("**/"):  # at any depth
            matched = any(fnmatch.fnmatchcase(c.rsplit("/", 1)[-1], pattern[3:]) for c in candidates)
        else:
            matched = any(fnmatch.fnmatchcase(c, pattern) for c in candidates)
        if matched:
            result = not line.startswith("!")
    return result


def build_context(root: Path = REPO_ROOT) -> list[str]:
    """Every file the build context holds (paths relative to `root`), as `docker build .` would send it."""
    kept = [line[1:].rstrip("/") for line in _patterns() if line.startswith("!")]
    found: list[str] = []
    for directory, dirs, files in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        # a left-out directory is entered only when a `!` pattern may keep something inside it
        dirs[:] = sorted(
            d for d in dirs if not ignored(prefix + d) or any(k.startswith(prefix + d + "/") for k in kept)
        )
        found.extend(prefix + f for f in sorted(files) if not ignored(prefix + f))
    return found


def environment(args: str, current: Mapping[str, str]) -> dict[str, str]:
    """The variables one `ENV K=V ...` sets, `$NAME` expanded from `current` as Docker does."""
    values = {}
    for word in shlex.split(args):
        name, equals, value = word.partition("=")
        assert equals, f"ENV {args}: only the KEY=VALUE form is replayed"
        values[name] = re.sub(r"\$\{?(\w+)\}?", lambda m: current.get(m.group(1), ""), value)
    return values


@dataclass
class Replay:
    """One stage replayed in `root` (the image's `/`); `env` is what its ENV instructions set."""

    root: Path
    workdir: PurePosixPath = IMAGE_ROOT
    env: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """the RUN commands not run (see `replay`)"""

    def host(self, image_path: str | PurePosixPath) -> Path:
        """Where a path of the image lives on this machine (relative paths are the WORKDIR's)."""
        path = self.workdir / image_path
        return self.root / path.relative_to("/")

    def rewrite(self, command: str) -> str:
        """`command` with the image's absolute paths moved under `root`."""

        def move(match: re.Match[str]) -> str:
            path = match.group(0)
            if path.startswith(KEPT_PATHS):
                return path
            assert not (path + "/").startswith(MACHINE_PATHS), f"a replayed RUN would touch the machine: {path}"
            return str(self.root) + path

        return ABSOLUTE_PATH.sub(move, command)


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def _copy_from_context(sources: list[str], destination: str, replay: Replay, context: list[str]) -> None:
    for source in sources:
        base = source.rstrip("/")
        inside = [path for path in context if path.startswith(base + "/")]
        if inside:  # a directory: its contents go into the destination
            for path in inside:
                _copy(REPO_ROOT / path, replay.host(destination) / path.removeprefix(base + "/"))
            continue
        assert base in context, f"COPY {source}: not in the build context"
        target = replay.host(destination)
        _copy(REPO_ROOT / base, target / Path(base).name if destination.endswith("/") else target)


def replay(
    stage: str,
    root: Path,
    *,
    stage_roots: Mapping[str, Path],
    run: Callable[[str], bool] = lambda command: True,
    env_overrides: Mapping[str, str] | None = None,
    context: list[str] | None = None,
) -> Replay:
    """Replay `stage` into `root`. `run(command)` says whether a RUN is run (a skipped one is
    recorded); `env_overrides` are added to the environment of the commands run; `stage_roots` are
    the earlier stages' roots for `COPY --from`."""
    context = build_context() if context is None else context
    state = Replay(root)
    root.mkdir(parents=True, exist_ok=True)
    for keyword, args in stages()[stage][1:]:
        if keyword == "WORKDIR":
            state.workdir = state.workdir / args
            state.host(".").mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            state.env.update(environment(args, {**os.environ, **state.env}))
        elif keyword == "COPY":
            words = args.split()
            if words[0].startswith("--from="):
                source = stage_roots[words[0].removeprefix("--from=")] / words[1].lstrip("/")
                _copy(source, state.host(words[2]))
            else:
                assert not words[0].startswith("--"), f"COPY {args}: option not replayed"
                _copy_from_context(words[:-1], words[-1], state, context)
        elif keyword == "RUN":
            if run(args):
                _run(state, args, env_overrides or {})
            else:
                state.skipped.append(args)
    return state


def _run(state: Replay, command: str, env_overrides: Mapping[str, str]) -> None:
    python = Path(getattr(sys, "_base_executable", sys.executable))
    shims = state.root.parent / f".{state.root.name}-bin"  # the base image's `python`: this machine's
    shims.mkdir(exist_ok=True)
    for name in ("python", "python3"):
        if not (shims / name).exists():
            (shims / name).symlink_to(python)
    env = {**os.environ, **state.env, **env_overrides}
    env["PATH"] = f"{shims}{os.pathsep}{os.environ['PATH']}"
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run(
        ["/bin/sh", "-c", state.rewrite(command)], cwd=state.host("."), env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"RUN {command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def files(root: Path) -> Iterator[str]:
    """Every file and symlink under `root`, as the image's absolute paths."""
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or path.is_file():
            yield "/" + path.relative_to(root).as_posix()
