"""Kopf's memo: one typed container for the whole operator."""

from __future__ import annotations

import copy

from orgquota.controller.memo import OperatorMemo
from orgquota.controller.settings import Settings


def test_every_object_shares_the_operators_memo() -> None:
    """Kopf gives each object it sees `copy.copy` of the operator's memo: that is the memo itself,
    so every handler finds what the startup handler built, and no Organization costs a copy."""
    shared = OperatorMemo(Settings())
    assert copy.copy(shared) is shared


def test_the_memo_can_be_shown_before_start_up() -> None:
    """Its parts are set by the startup handler; a log line or a debugger showing it earlier must not fail."""
    assert "OperatorMemo" in repr(OperatorMemo(Settings()))
