"""Facts applied to an Organization: a decision taken again when the object changed between the
read and the write."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from orgquota.api.providers.apply import apply_facts
from orgquota.core import annotations as ann
from orgquota.core.billing_facts import CancelRequested, Subscribed
from orgquota.kube.client import Manifest
from tests.unit.api.stripe.conftest import Organizations

NOW = datetime(2026, 11, 29, tzinfo=UTC)
PAID = Subscribed("pro-pool", "Pro Pool", "sub_1", "cus_1")


def org(annotations: dict[str, str]) -> Manifest:
    return {"metadata": {"namespace": "acme", "name": "acme", "annotations": annotations}}


class ChangedOnce(Organizations):
    """Someone else writes the Organization between our first read and our write."""

    def __init__(self, objects: list[Manifest]) -> None:
        super().__init__(objects)
        self.interfered = False

    async def get(self, path: str) -> Manifest | None:
        found = await super().get(path)
        if not self.interfered:
            self.interfered = True
            await super().merge_patch(path, {"metadata": {"annotations": {ann.SUBSCRIPTION: "canceled"}}})
        return found


def test_a_write_on_a_changed_object_is_decided_again() -> None:
    orgs = ChangedOnce([org({ann.SUBSCRIPTION: "active", ann.PROVIDER_SUBSCRIPTION_ID: "sub_1"})])
    kube: Any = orgs
    applied = asyncio.run(apply_facts(kube, "acme", [CancelRequested()], created=7))
    # decided on "canceled" the second time: a late cancel request does not revive an ended subscription
    assert applied.changes == {}
    assert orgs.annotations("acme")[ann.SUBSCRIPTION] == "canceled"
