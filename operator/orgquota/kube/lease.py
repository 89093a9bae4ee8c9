"""The Lease election's I/O: reads, watches and writes the Lease as `core.lease.Leadership` decides,
and keeps the write fence of the term this replica leads.

The election has a client of its own (`Kube` without a fence, a small pool), so a renew never waits
behind the quota writes of a fan-out; every write is conditional on the version last read, and
every request ends by the holder's deadline, so a slow apiserver cannot keep it leading past it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import aiohttp

from orgquota.core.lease import LEASE_NAME, Act, Leadership, LeaseRecord, LeaseTimings, Step
from orgquota.kube.client import Kube, KubeError, Manifest, Resource
from orgquota.kube.fence import WriteFence

LEASE: Final = Resource("coordination.k8s.io", "v1", "leases")
WATCH_BACKOFF_MAX: Final = 5.0
RELEASE_ATTEMPTS: Final = 3

logger = logging.getLogger(__name__)

Elected = Callable[[WriteFence], None]
Deposed = Callable[[], None]


class Elector:
    """Takes part in the election for the Lease `LEASE_NAME` in `namespace` as `identity`.

    `elected(fence)` is called when this replica starts leading (the fence is open while it
    leads, fresh), `deposed()` when it stops: its renew deadline passed, or another holder
    appeared. Both must return at once (renews wait for them). Neither is called on `release`,
    which a graceful stop calls after stopping `run` and its own writers.
    """

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        identity: str,
        timings: LeaseTimings,
        elected: Elected,
        deposed: Deposed,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kube = kube
        self.namespace = namespace
        self.leadership = Leadership(identity, timings)
        self._elected = elected
        self._deposed = deposed
        self._clock = clock
        self.fence: WriteFence | None = None
        """the open fence of the term this replica leads; None while it does not"""
        self._changed = asyncio.Event()
        self._holder_shown: str | None = None

    @property
    def path(self) -> str:
        return LEASE.path(self.namespace, LEASE_NAME)

    async def run(self) -> None:
        """Take part until cancelled, watching the Lease meanwhile."""
        watching = asyncio.create_task(self._watch(), name="orgquota-lease-watch")
        try:
            while True:
                self._changed.clear()
                now = self._clock()
                step = self.leadership.step(now, datetime.now(UTC))
                self._follow(now)
                if step.act is Act.READ:
                    await self._read()
                elif step.act is Act.WRITE:
                    await self._write(step)
                else:
                    await self._sleep_until(step.at)
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)

    async def release(self) -> None:
        """Hand the Lease over at once: no write passes the fence from here on, then the holder is
        cleared (call after stopping `run` and the writers). A renew still in flight may have
        changed its version meanwhile: then the Lease is read and the release tried again."""
        self._close()
        try:
            async with asyncio.timeout(self.leadership.timings.renew_deadline):
                for _ in range(RELEASE_ATTEMPTS):
                    step = self.leadership.release(datetime.now(UTC))
                    if step is None:
                        return
                    try:
                        await self._send(step)
                    except KubeError as exc:
                        if exc.status != 409:
                            raise
                        await self._read()
                        continue
                    logger.info("released Lease %s/%s", self.namespace, LEASE_NAME)
                    return
        except (KubeError, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not release Lease %s/%s (it expires by itself): %s", self.namespace, LEASE_NAME, exc)

    # -- what the decisions lead to ---------------------------------------------------------------

    def _follow(self, now: float) -> None:
        """Start or end this replica's term when its leadership changed."""
        leading = self.leadership.leading(now)
        if leading and self.fence is None:
            self.fence = WriteFence(self._clock)
            self.fence.extend(self._fresh_until())
            record = self.leadership.sighting.record if self.leadership.sighting else None
            logger.info(
                "leading: holding Lease %s/%s as %s (transitions: %d)",
                self.namespace,
                LEASE_NAME,
                self.leadership.me,
                record.transitions if record else 0,
            )
            self._holder_shown = self.leadership.me
            self._elected(self.fence)
        elif not leading and self.fence is not None:
            self._close()
            logger.warning("lost Lease %s/%s: %s", self.namespace, LEASE_NAME, self._why_lost(now))
            self._deposed()
        elif not leading:
            self._show_holder()

    def _close(self) -> None:
        if self.fence is not None:
            self.fence.close()
            self.fence = None

    def _fresh_until(self) -> float:
        assert self.leadership.fresh_until is not None
        return self.leadership.fresh_until

    def _why_lost(self, now: float) -> str:
        sighting = self.leadership.sighting
        holder = sighting.record.holder if sighting and sighting.record else ""
        if holder and holder != self.leadership.me:
            return f"now held by {holder}"
        return "not renewed by the renew deadline"

    def _show_holder(self) -> None:
        """One line when the holder this standby sees changes, none per retry."""
        sighting = self.leadership.sighting
        if sighting is None:
            return
        holder = sighting.record.holder if sighting.record else ""
        if holder == self._holder_shown:
            return
        self._holder_shown = holder
        if holder and holder != self.leadership.me:
            logger.info("standing by: Lease %s/%s is held by %s", self.namespace, LEASE_NAME, holder)

    # -- I/O ------------------------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async with asyncio.timeout(self.leadership.timings.renew_deadline):
                lease = await self._kube.get(self.path)
        except (KubeError, aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not read Lease %s/%s: %s", self.namespace, LEASE_NAME, exc)
            self.leadership.failed(self._clock())
            return
        self._saw(lease, lease is None)

    async def _write(self, step: Step) -> None:
        sent = self._clock()
        timings = self.leadership.timings
        fresh_until = self.leadership.fresh_until
        until = fresh_until if fresh_until is not None and sent < fresh_until else sent + timings.renew_deadline
        try:
            async with asyncio.timeout(max(until - sent, 0.0)):
                written = await self._send(step)
        except KubeError as exc:
            if exc.status == 409:  # another version: someone else wrote it since it was read
                self.leadership.outdated()
                return
            logger.warning("could not write Lease %s/%s: %s", self.namespace, LEASE_NAME, exc)
            self.leadership.failed(self._clock())
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not write Lease %s/%s: %s", self.namespace, LEASE_NAME, type(exc).__name__)
            self.leadership.failed(self._clock())
            return
        meta = written.get("metadata") or {}
        self.leadership.wrote(sent, LeaseRecord.of(written), str(meta.get("resourceVersion", "")), self._clock())
        if self.fence is not None and self.leadership.fresh_until is not None:
            self.fence.extend(self.leadership.fresh_until)

    async def _send(self, step: Step) -> Manifest:
        assert step.record is not None
        metadata = {"name": LEASE_NAME, "namespace": self.namespace}
        body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": step.record.spec()}
        if not step.version:
            return await self._kube.create(LEASE.path(self.namespace), {**body, "metadata": metadata})
        return await self._kube.replace(self.path, {**body, "metadata": {**metadata, "resourceVersion": step.version}})

    def _saw(self, lease: Manifest | None, gone: bool = False) -> None:
        """`lease` as read or watched; `gone`: there is none (a 404, or `lease` is the deleted one)."""
        version = str(((lease or {}).get("metadata") or {}).get("resourceVersion", ""))
        record = None if gone or lease is None else LeaseRecord.of(lease)
        self.leadership.saw(record, version, self._clock())
        self._changed.set()

    async def _sleep_until(self, at: float) -> None:
        try:
            async with asyncio.timeout(max(at - self._clock(), 0.0)):
                await self._changed.wait()
        except TimeoutError:
            pass

    async def _watch(self) -> None:
        """Every change of the Lease as it happens (a standby counts its expiry from the moment it saw
        the last renew); from the current state after every reconnect."""
        delay = self.leadership.timings.retry_period
        selectors = {"fieldSelector": f"metadata.name={LEASE_NAME}"}
        while True:
            try:
                async for event in self._kube.watch(LEASE.path(self.namespace), "", selectors=selectors):
                    kind = event.get("type")
                    if kind in ("ADDED", "MODIFIED", "DELETED"):
                        self._saw(event.get("object") or {}, gone=kind == "DELETED")
                    delay = self.leadership.timings.retry_period
            except asyncio.CancelledError:
                raise
            except (KubeError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
                logger.warning("watching Lease %s/%s: %s", self.namespace, LEASE_NAME, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, WATCH_BACKOFF_MAX)
