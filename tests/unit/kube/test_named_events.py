"""A named Event is posted once, whichever process posts it: a second one of that name is a duplicate, not a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest

from orgquota.core.manifests import organization_reference
from orgquota.kube.client import EVENT
from orgquota.kube.events import NORMAL, EventRecorder
from tests.support.fake_kube import FakeKube


def test_a_named_event_posted_by_two_processes_is_there_once(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        kube = FakeKube()
        ref = organization_reference("acme", "acme", "uid-1")
        for _process in range(2):  # before and after a restart: each its own recorder
            recorder = EventRecorder(kube)
            senders = asyncio.create_task(recorder.run(senders=1))
            await recorder.record(ref, NORMAL, "TrialEnding", "the trial ends soon", name="acme.trial-ending.1")
            await recorder.record(ref, NORMAL, "Applied", "plan pro-pool")
            for _ in range(500):  # until both are sent (the named one refused the second time)
                if len([w for w in kube.writes if w.method == "POST"]) == 2 * (_process + 1):
                    break
                await asyncio.sleep(0.01)
            senders.cancel()
            await asyncio.gather(senders, return_exceptions=True)
        events = await kube.list(EVENT.path("acme"))
        reasons = sorted(event["reason"] for event in events)
        assert reasons == ["Applied", "Applied", "TrialEnding"]
        assert [e["metadata"]["name"] for e in events if e["reason"] == "TrialEnding"] == ["acme.trial-ending.1"]

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert "could not post" not in caplog.text
