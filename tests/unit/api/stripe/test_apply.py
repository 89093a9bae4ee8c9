"""Facts applied to an Organization: a decision taken again when the object changed between the
read and the write."""

from __future__ import annotations

import asyncio

from orgquota.api.providers.apply import apply_facts
from orgquota.core import annotations as ann
from orgquota.core.billing_facts import CancelRequested
from tests.support.fake_kube import FakeKube


def test_a_write_on_a_changed_object_is_decided_again() -> None:
    kube = FakeKube()
    kube.put_organization("acme", {ann.SUBSCRIPTION: "active", ann.PROVIDER_SUBSCRIPTION_ID: "sub_1"})
    kube.before_next_write(lambda: kube.annotate("acme", {ann.SUBSCRIPTION: "canceled"}))  # someone else's write
    applied = asyncio.run(apply_facts(kube, "acme", [CancelRequested()], created=7))
    # decided on "canceled" the second time: a late cancel request does not revive an ended subscription
    assert applied.changes == {}
    assert kube.annotations("acme")[ann.SUBSCRIPTION] == "canceled"
