"""The package as the image builds and ships it, run: the Dockerfile's stages replayed without Docker
(tests/support/dockerfile.py), then every module imported and each command started from the image's venv.

Every other test runs the editable checkout, which has every module whatever the wheel leaves out: the
WHMCS provider once went missing from the wheel that way. Needs no cluster: the commands are shown to
start and to get as far as reaching for an apiserver that is not there. The replay's pip installs the
locked files from a wheelhouse filled from PyPI once per machine; the page's stage is `make ui`, whose
build stands in for its `npm` steps. Slow (two venvs, the locked dependencies installed and compiled):
marked `slow`, which `make test` runs and `-m "not slow"` leaves out.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
import pytest

from localcluster.cache import cache_root, locked
from localcluster.controlplane import free_ports
from localcluster.procs import spawn, stop_child
from tests.support.billing_api import eventually
from tests.support.browser import UI_DIST, ensure_ui_built
from tests.support.dockerfile import LAST_STAGE, REPO_ROOT, Replay, files, replay
from tests.support.operator_process import OperatorProcess
from tests.support.waiting import present

# the image's venv is built in the first test: 100 s on a quiet machine, 4 minutes on a loaded one
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

PACKAGE: Final = REPO_ROOT / "operator" / "orgquota"
VERSION: Final = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
VENV: Final = "/opt/orgquota"
PROVIDERS: Final[dict[str, tuple[dict[str, str], set[str]]]] = {
    # BILLING_PROVIDER: (the settings it needs, the routes only it adds)
    "none": ({}, set()),
    "stripe": (
        {"STRIPE_SECRET_KEY": "sk_test_packaging", "STRIPE_WEBHOOK_SECRET": "whsec_packaging"},
        {"/api/billing/webhook", "/api/billing/customer-portal", "/api/billing/verify-checkout"},
    ),
    "whmcs": ({"WHMCS_WEBHOOK_SECRET": "packaging" * 4}, {"/api/billing/webhook"}),
}
PROVIDER_ROUTES: Final = set().union(*(routes for _, routes in PROVIDERS.values()))
IMPORT_ALL: Final = """
import importlib, json, pkgutil, orgquota
names = [m.name for m in pkgutil.walk_packages(orgquota.__path__, "orgquota.") if m.name != "orgquota.__main__"]
for name in names:
    importlib.import_module(name)
print(json.dumps(["orgquota", *names]))
"""
"""`orgquota.__main__` runs the command line when imported: the commands below run it"""


@dataclass(frozen=True)
class Image:
    build: Replay
    runtime: Replay

    @property
    def python(self) -> Path:
        """The venv's python: the image's `orgquota` script runs with it (its first line names it)."""
        return self.runtime.host(f"{VENV}/bin/python")

    def env(self, **settings: str) -> dict[str, str]:
        """The image's ENV, its paths moved where the replay put them, over this machine's environment."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "ORGQUOTA_", "OIDC_"))}
        for name, value in self.runtime.env.items():
            parts = value.split(os.pathsep)
            env[name] = os.pathsep.join(
                str(self.runtime.host(p)) if p.startswith("/") and self.runtime.host(p).exists() else p for p in parts
            )
        return {**env, **settings}


def wheelhouse() -> Path:
    """The locks' files for this machine's Python, fetched once per machine (hash-checked, and again when
    installed): pip's own cache keeps nothing here, and every replay would download them all again."""
    path = cache_root() / "wheelhouse"
    with locked(cache_root() / "wheelhouse.lock"):
        for lock in ("requirements.lock", "requirements-build.lock"):
            download = [sys.executable, "-m", "pip", "download", "-q", "--require-hashes", "--no-deps"]
            download += ["-r", str(REPO_ROOT / lock), "-d", str(path)]
            offline = subprocess.run([*download, "--no-index", "--find-links", str(path)], capture_output=True)
            if offline.returncode != 0:
                subprocess.run(download, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    ensure_ui_built()
    root = tmp_path_factory.mktemp("image")
    ui = replay("ui", root / "ui", stage_roots={}, run=lambda command: False)
    assert ui.skipped == ["npm ci --no-audit --no-fund", "npm run build"], "no longer what `make ui` runs"
    subprocess.run(["cp", "-a", f"{UI_DIST}/.", str(ui.host("dist"))], check=True)
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse())}
    build = replay("build", root / "build", stage_roots={}, env_overrides=offline)
    runtime = replay(
        LAST_STAGE, root / "runtime", stage_roots={"ui": ui.root, "build": build.root}, run=lambda command: False
    )
    assert all(re.fullmatch(r"groupadd .*&& useradd .*", command) for command in runtime.skipped), (
        "the image's own RUN steps only add its user (not replayed: they would change this machine)"
    )
    return Image(build, runtime)


def _sources() -> set[str]:
    return {
        p.relative_to(PACKAGE.parent).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_wheel_holds_every_file_of_the_package_and_nothing_else(image: Image) -> None:
    (wheel,) = image.build.host("/wheels").iterdir()
    assert wheel.name == f"orgquota-{VERSION}-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert _sources() <= names, f"left out of the wheel: {sorted(_sources() - names)}"
    assert {n.split("/")[0] for n in names} == {"orgquota", f"orgquota-{VERSION}.dist-info"}
    assert not {n for n in names if n.startswith("orgquota/")} - _sources()


def test_the_image_has_the_venv_and_the_page_and_not_the_harness(image: Image) -> None:
    contents = list(files(image.runtime.root))
    assert all(path.startswith(f"{VENV}/") for path in contents), "the image gets its files from the venv only"
    assert f"{VENV}/ui/index.html" in contents
    assert (image.runtime.host(f"{VENV}/ui/index.html")).read_bytes() == (UI_DIST / "index.html").read_bytes()
    assert f"{VENV}/bin/orgquota" in contents
    installed = {p for p in contents if "/site-packages/orgquota/" in p and "__pycache__" not in p}
    assert {p.split("/site-packages/")[1] for p in installed} == _sources()
    assert not [p for p in contents if "localcluster" in p or "/hack/" in p], "the development harness is in the image"
    assert not [p for p in contents if re.search(r"/site-packages/(pytest|mypy|ruff|uv|playwright)\b", p)], "dev tools"


def test_the_entrypoint_is_the_venvs_orgquota(image: Image) -> None:
    env = image.env()
    script = Path(env["PATH"].split(os.pathsep)[0]) / "orgquota"
    assert script == image.runtime.host(f"{VENV}/bin/orgquota"), "ENTRYPOINT orgquota: first on the image's PATH"
    # the venv was made in the build stage, at the same path as in the image
    shebang = script.read_text().splitlines()[0]
    assert shebang == f"#!{image.build.host(f'{VENV}/bin/python')}", shebang
    assert image.python.exists()


def test_every_module_imports(image: Image) -> None:
    result = subprocess.run(
        [image.python, "-c", IMPORT_ALL], env=image.env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    imported = set(json.loads(result.stdout))
    expected = {
        ".".join(p.removesuffix(".py").split("/")).removesuffix(".__init__") for p in _sources() if p.endswith(".py")
    } - {"orgquota.__main__"}
    assert imported == expected, f"missing: {sorted(expected - imported)}"


@pytest.fixture
def nowhere(tmp_path: Path) -> tuple[Path, int]:
    """A kubeconfig for an apiserver that is not there (a free loopback port nobody listens on)."""
    (port,) = free_ports(1)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "nowhere", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
                "users": [{"name": "nobody", "user": {"token": "none"}}],
                "contexts": [{"name": "nowhere", "context": {"cluster": "nowhere", "user": "nobody"}}],
                "current-context": "nowhere",
            }
        )
    )
    return kubeconfig, port


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_the_api_serves_with_each_provider(
    image: Image, nowhere: tuple[Path, int], tmp_path: Path, provider: str
) -> None:
    """It listens, mounts the provider's routes and serves the image's page; keys and the apiserver are
    fetched in the background, so neither being away stops it (it is not ready: /readyz says why)."""
    kubeconfig, absent = nowhere
    settings, routes = PROVIDERS[provider]
    (port,) = free_ports(1)
    env = image.env(
        KUBECONFIG=str(kubeconfig),
        OIDC_ISSUER_URL=f"http://127.0.0.1:{absent}/realms/kube-dc",
        BILLING_PROVIDER=provider,
        **settings,
    )
    log = tmp_path / "api.log"
    proc = spawn([str(image.python), "-m", "orgquota", "api", "--port", str(port)], log, detached=False, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:

            def healthy() -> None:
                assert proc.poll() is None, f"orgquota api exited with {proc.returncode}:\n{log.read_text()}"
                assert http.get("/healthz").status_code == 200

            eventually(healthy, timeout=60)
            paths = set(http.get("/api/billing/openapi.json").json()["paths"])
            assert paths & PROVIDER_ROUTES == routes
            page = http.get("/")
            assert page.status_code == 200
            assert page.content == (UI_DIST / "index.html").read_bytes()
            assert http.get("/readyz").status_code == 503
    finally:
        stop_child(proc)
    # uvicorn ends an orderly shutdown by raising the signal it got again
    assert proc.returncode == -signal.SIGTERM, log.read_text()
    assert "Application shutdown complete." in log.read_text()
    assert f"provider {provider}," in log.read_text()


def test_the_operator_starts_and_reaches_for_its_apiserver(
    image: Image, nowhere: tuple[Path, int], tmp_path: Path
) -> None:
    """Its metrics are served, its handlers registered, and its start-up handler asks the apiserver of
    the kubeconfig for its state (and retries, as with an apiserver that is slow to come); SIGTERM ends it."""
    kubeconfig, absent = nowhere
    metrics, health = free_ports(2)
    env: Mapping[str, str] = image.env(
        KUBECONFIG=str(kubeconfig), ORGQUOTA_METRICS_PORT=str(metrics), ORGQUOTA_HEALTH_PORT=str(health)
    )
    operator = OperatorProcess(env, tmp_path / "operator.log", [str(image.python), "-m", "orgquota", "run"])
    operator.launch()
    proc = present(operator.proc)
    try:

        def reached() -> None:
            assert proc.poll() is None, operator.log()
            assert re.search(rf"Activity 'start' failed .*127\.0\.0\.1:{absent}", operator.log()), operator.log()

        eventually(reached, timeout=60)
        assert "# TYPE orgquota_reconciles_total counter" in operator.metrics_text()
    finally:
        operator.stop()
    assert proc.returncode == 0, operator.log()
