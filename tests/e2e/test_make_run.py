"""`make run` as a user runs it (`localcluster run`, hack/localcluster/stack.py), from a fresh work dir:
it prints the page's address, the page and an API that accepts a Keycloak token answer there, Prometheus
scrapes the operator and the API, and after
Ctrl-C not one process it started is left; meanwhile none of them listens beyond 127.0.0.1 (but
HNC's webhook server, which cannot be told to).

It starts a control plane with the platform slice and a Keycloak of its own, beside the session's
(or uses the cluster of $KUBECONFIG, as `make run` does): measured 29 s on a quiet 2-core machine and
37-105 s on a busy one, most of it Keycloak.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Final

import httpx
import pytest

from localcluster.cli import platform_wanted
from localcluster.keycloak import CLIENT_ID
from localcluster.oidc import password_token
from localcluster.procs import spawn
from tests.support.cluster import external_kubeconfig
from tests.support.files import EXAMPLES, REPO_ROOT
from tests.support.proctree import ProcessInfo, descendants, is_loopback, listening_addresses, still_running
from tests.support.waiting import assert_eq, eventually

PAGE_INDEX: Final = REPO_ROOT / "ui" / "dist" / "index.html"
START_TIMEOUT: Final = 330.0  # Keycloak alone has taken up to 170 s on this machine under load
STOP_TIMEOUT: Final = 90.0
ALWAYS: Final = {
    "operator": "-m orgquota run",
    "billing API": "-m orgquota api",
    "Keycloak's JVM": "java",
    "Prometheus": "/prometheus --config.file=",
    "Alertmanager": "/prometheus-alertmanager --config.file=",
    "the SMTP server": "-m aiosmtpd",
}
CONTROL_PLANE: Final = {"etcd": "/etcd ", "kube-apiserver": "/kube-apiserver "}
PLATFORM: Final = {"kube-controller-manager": "/kube-controller-manager ", "HNC": "/hnc-manager "}


def _addresses(proc: subprocess.Popen[bytes], log: Path) -> tuple[str, str]:
    """(the page's URL, Keycloak's issuer) from the banner; an AssertionError until it is printed."""
    text = log.read_text(errors="replace")
    assert proc.poll() is None, f"localcluster run exited with {proc.returncode}:\n{text[-5000:]}"
    page = re.search(r"^  billing page +(http://127\.0\.0\.1:\d+/)$", text, re.MULTILINE)
    issuer = re.search(r"^  Keycloak +(http://127\.0\.0\.1:\d+/realms/kube-dc)$", text, re.MULTILINE)
    assert page, "no address printed yet"
    assert issuer, "no issuer printed yet"
    return page[1], issuer[1]


def _prometheus(log: Path) -> str:
    found = re.search(r"^  Prometheus +(http://127\.0\.0\.1:\d+)$", log.read_text(errors="replace"), re.MULTILINE)
    assert found, "no Prometheus address printed"
    return found[1]


def _scraped(prometheus: str, query: str) -> float:
    """The value of a PromQL query of one series, once Prometheus has it."""
    with httpx.Client(base_url=prometheus, timeout=10, trust_env=False) as http:
        result = http.get("/api/v1/query", params={"query": query}).json()["data"]["result"]
    assert len(result) == 1, f"{query}: {result}"
    return float(result[0]["value"][1])


def _hnc_webhook(address: str, command: str) -> bool:
    """HNC v1.1.0's manager has a flag for its webhook server's port but none for its address: the one
    socket of the stack that listens on every interface (TLS, a random port, our own CA)."""
    port = address.rsplit(":", 1)[1]
    return "/hnc-manager " in command and f"--webhook-server-port={port} " in command


@pytest.mark.timeout(START_TIMEOUT + STOP_TIMEOUT + 60)
def test_make_run_serves_page_and_api_and_ctrl_c_leaves_nothing(tmp_path: Path, keycloak_dist: Path) -> None:
    assert PAGE_INDEX.is_file(), f"{PAGE_INDEX} is missing: build the page with `make ui` (`make test` does)"
    env = dict(os.environ)
    external = external_kubeconfig()
    if external is None:
        env.pop("KUBECONFIG", None)
    log = tmp_path / "run.log"
    args = ["run", "--dir", str(tmp_path / "run"), "--api-port", "0", "--apply", str(EXAMPLES)]
    proc = spawn([sys.executable, "-m", "localcluster.cli", *args], log, detached=False, env=env)
    started: list[ProcessInfo] = []
    try:
        page, issuer = eventually(lambda: _addresses(proc, log), timeout=START_TIMEOUT, interval=0.5)
        started = descendants(proc.pid)
        expected = {**ALWAYS}
        if external is None:
            expected |= CONTROL_PLANE | (PLATFORM if platform_wanted() else {})
        for what, marker in expected.items():
            assert any(marker in p.command for p in started), f"no {what} among {[p.command for p in started]}"
        listening = listening_addresses(started)
        assert listening, "no listening socket found: the check below would prove nothing"
        exposed = {
            address: command
            for address, command in listening.items()
            if not is_loopback(address) and not _hnc_webhook(address, command)
        }
        assert not exposed, f"listening beyond 127.0.0.1: {exposed}"

        token = password_token(issuer, CLIENT_ID, "acme-admin", "acme-admin")
        with httpx.Client(base_url=page, timeout=10, trust_env=False) as http:
            health = http.get("api/billing/health", headers={"Authorization": f"Bearer {token}"})
            assert health.status_code == 200, health.text
            assert health.json()["data"]["catalog"]["valid"] is True
            usage = http.get("api/billing/quota-usage", headers={"Authorization": f"Bearer {token}"})
            assert usage.status_code == 200, usage.text
            assert usage.json()["data"]["cpu"]["limit"] > 0, "the operator has not applied acme's plan"
            index = http.get("")
            assert index.status_code == 200
            assert index.headers["content-type"].startswith("text/html")
            assert index.text == PAGE_INDEX.read_text()
            env_js = http.get("env.js").text
            assert f'window.keycloakURL = "{issuer}";' in env_js
        assert re.search(r"^  alert mail +/\S+/maildir ", log.read_text(errors="replace"), re.MULTILINE)
        prometheus = _prometheus(log)
        # the API starts after Prometheus: its first scrapes are `up 0` until one reaches it
        eventually(lambda: assert_eq(_scraped(prometheus, 'up{job="orgquota-api"}'), 1))
        cpu = 'orgquota_organization_quota_hard{job="orgquota-operator",organization="acme",resource="cpu"}'
        eventually(lambda: assert_eq(_scraped(prometheus, cpu), usage.json()["data"]["cpu"]["limit"]))
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert proc.returncode == 0, log.read_text(errors="replace")[-5000:]
    left = [p.command for p in started if still_running(p)]
    assert not left, f"still running after Ctrl-C: {left}"
    assert "[run] everything stopped" in log.read_text(errors="replace")
