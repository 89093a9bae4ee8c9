"""stripe-mock, Stripe's own API stand-in: the billing API's Stripe calls are checked against it.

It validates paths and parameters against Stripe's OpenAPI description and answers with fixed fixtures
(stateless: nothing created is stored, no webhooks are sent). Built once per version from the pinned Go
module (hack/stripe-mock/) into `~/.cache/orgquota/stripe-mock/<version>/stripe-mock`; each run starts
it on a free loopback port.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Final

from .binaries import _go_build, log
from .cache import cache_root
from .controlplane import free_ports, log_tail
from .gotool import cached_tool, check_pin
from .procs import spawn, stop_child, wait_started
from .versions import STRIPE_MOCK_MODULE_DIR, STRIPE_MOCK_VERSION

STRIPE_MOCK_MODULE: Final = "github.com/stripe/stripe-mock"
# Any key of the test-mode form works: stripe-mock checks only that one is sent.
TEST_API_KEY: Final = "sk_test_123"
_OPENER: Final = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StripeMockError(RuntimeError):
    """stripe-mock could not be built or did not start; the message carries its log tail."""


def cache_stripe_mock_dir() -> Path:
    return cache_root() / "stripe-mock" / STRIPE_MOCK_VERSION


def stripe_mock_path() -> Path:
    """The stripe-mock binary, built with the machine's Go on first use; `$ORGQUOTA_STRIPE_MOCK` overrides.

    No release download: there is no checksummed one to trust.
    """
    return cached_tool(
        cache_stripe_mock_dir(), "stripe-mock", build=build_stripe_mock, override_env="ORGQUOTA_STRIPE_MOCK"
    )


def build_stripe_mock(go: str, dest: Path) -> None:
    check_pin(STRIPE_MOCK_MODULE_DIR / "go.mod", STRIPE_MOCK_MODULE, STRIPE_MOCK_VERSION)
    _go_build(
        go,
        STRIPE_MOCK_MODULE_DIR,
        dest / "stripe-mock",
        [STRIPE_MOCK_MODULE],
        "-s -w",
        f"stripe-mock {STRIPE_MOCK_VERSION}",
        "under a minute",
    )


def _answers(api_base: str) -> bool:
    """True once stripe-mock serves the API (an authenticated list call answers 200)."""
    request = urllib.request.Request(f"{api_base}/v1/customers", headers={"Authorization": f"Bearer {TEST_API_KEY}"})
    try:
        with _OPENER.open(request, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


class StripeMock:
    """stripe-mock on 127.0.0.1 (HTTP only); a context manager. `api_base` is what a Stripe client points at.

    The process dies with this Python process (PDEATHSIG); its log is `workdir/stripe-mock.log`.
    """

    def __init__(self, workdir: Path | None = None, *, start_timeout: float = 30.0) -> None:
        self._own_dir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="stripe-mock-")) if workdir is None else workdir.resolve()
        self.start_timeout = start_timeout
        self.api_base = ""
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "stripe-mock.log"

    def __enter__(self) -> StripeMock:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> StripeMock:
        """Start it on a free port and wait until it answers; stop it again on failure."""
        binary = stripe_mock_path()  # may build: not part of the start
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port, https_port = free_ports(2)
        self.api_base = f"http://127.0.0.1:{self.port}"
        # Addresses rather than -http-port: a port alone listens on every interface. HTTPS is named too,
        # else stripe-mock also listens on its default :12112, which another instance may hold.
        args = [str(binary), "-http-addr", f"127.0.0.1:{self.port}", "-https-addr", f"127.0.0.1:{https_port}"]
        self._proc = spawn(args, self.log_path, detached=False)
        problem = wait_started(self._proc, lambda: _answers(self.api_base), self.start_timeout)
        if problem is not None:
            self.stop()
            raise StripeMockError(f"stripe-mock {problem}; last log lines:\n{log_tail(self.log_path)}")
        log(f"stripe-mock {STRIPE_MOCK_VERSION} ready at {self.api_base}")
        return self

    def stop(self) -> None:
        """Stop the process (TERM, then KILL); idempotent."""
        if self._proc is not None:
            stop_child(self._proc)
            self._proc = None
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)
