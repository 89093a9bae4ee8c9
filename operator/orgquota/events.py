"""Kubernetes Events: what a cluster admin sees in `kubectl describe organization`."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from orgquota.kube import EVENT, Kube, KubeError

COMPONENT: Final = "orgquota"
NORMAL: Final = "Normal"
WARNING: Final = "Warning"

logger = logging.getLogger(__name__)


class EventRecorder:
    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._instance = socket.gethostname()

    async def record(self, ref: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Post an Event about `ref` (an object reference); best effort, as events are."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        namespace = ref["namespace"]
        body = {
            "metadata": {"generateName": f"{ref['name']}.", "namespace": namespace},
            "involvedObject": dict(ref),
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": COMPONENT},
            "reportingComponent": COMPONENT,
            "reportingInstance": self._instance,
        }
        try:
            await self._kube.create(EVENT.path(namespace), body)
        except KubeError as exc:
            logger.warning("[%s/%s] could not post event %s: %s", namespace, ref["name"], reason, exc)
