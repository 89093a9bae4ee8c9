"""Waiting for a condition instead of sleeping: `eventually` for what must happen, `consistently`
for what must not (Gomega's pair), and small assertions usable inside their lambdas."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Retry `check` until it returns without an AssertionError; then return its value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(interval)


def consistently(check: Callable[[], object], duration: float, interval: float = 0.5) -> None:
    """`check` holds for the whole `duration` (Gomega's Consistently: for things that must not happen)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        check()
        time.sleep(interval)


def assert_eq(actual: object, expected: object) -> None:
    """An assertion usable in lambdas (for `eventually`)."""
    assert actual == expected


def present(value: T | None) -> T:
    assert value is not None
    return value
