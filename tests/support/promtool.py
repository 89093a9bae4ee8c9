"""Debian's promtool for the tests: present where `make prometheus` ran; CI (`CI=true`, .ci/run installs
it) fails without it, anywhere else the test is skipped saying how to install it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from localcluster.prometheus import PrometheusError, debian_binary


def prometheus_binary(name: str) -> Path:
    """`prometheus` or `promtool`, or a skip (outside CI) / a failure (on CI) naming `make prometheus`."""
    try:
        return debian_binary(name)
    except PrometheusError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (CI installs it: .ci/run)")
        pytest.skip(str(exc))


def promtool(*args: str | Path, cwd: Path | None = None) -> str:
    """Run promtool; its output, or a test failure with it."""
    proc = subprocess.run(
        [str(prometheus_binary("promtool")), *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"promtool {' '.join(map(str, args))}:\n{proc.stdout}{proc.stderr}"
    return proc.stdout
