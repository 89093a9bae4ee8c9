"""An in-memory apiserver behind `Kube`'s sending of one request, for unit tests of the controller
and the API.

Only the sending of one request (`_request_once`) and `watch` are replaced: `request` (its retries
and the write fence), `get`, `list`, `pages`, `create`, `replace`, `merge_patch` and `delete` are
the real ones, so a 404 on GET is still None, a 404 on DELETE still False and a write refused by
the fence never reaches it. It keeps objects by path, answers lists with field (`metadata.name=`,
`metadata.namespace=`) and label (`k=v`, `k`) selectors, applies JSON merge patches (RFC 7386;
`/status` patches only the status) and conditional writes (a PATCH or PUT with another
resourceVersion is 409, as the apiserver answers), records every write and can fail chosen
requests with an apiserver status (404, 409, 500...). WATCHes stream the changes made to it, or,
with `scripted_watch`, exactly the `watch_steps` a test puts. A test can make someone else's write
happen just before the next write (`before_next_write`) and take the whole apiserver away (`down`).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orgquota.kube.client import ORGANIZATION, Kube, KubeError, Manifest
from orgquota.kube.events import EventRecorder
from orgquota.kube.fence import WriteFence


@dataclass(frozen=True)
class Location:
    """Where a path points: a collection (`name` empty) or one object, maybe a subresource."""

    base: str
    plural: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    @classmethod
    def of(cls, path: str) -> Location:
        parts = path.split("?")[0].strip("/").split("/")
        width = 2 if parts[0] == "api" else 3
        base, rest = "/" + "/".join(parts[:width]), parts[width:]
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        else:
            namespace = ""
        name, subresource = [*rest[1:3], "", ""][:2]
        return cls(base, rest[0], namespace, name, subresource)

    @property
    def collection(self) -> tuple[str, str]:
        return (self.base, self.plural)


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: Manifest | None


@dataclass
class Failure:
    method: str
    path: str
    status: int
    times: int


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _field(obj: Manifest, name: str) -> str:
    """A field selector's field of `obj` (`metadata.name`, `status.phase`), "" when absent."""
    node: Any = obj
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def _selected(obj: Manifest, query: Mapping[str, str]) -> bool:
    meta = obj["metadata"]
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        negated = "!=" in term
        name, _, value = term.partition("!=" if negated else "=")
        if (_field(obj, name) == value) == negated:
            return False
    labels = meta.get("labels") or {}
    for term in filter(None, query.get("labelSelector", "").split(",")):
        name, equals, value = term.partition("=")
        if name not in labels or (equals and labels[name] != value):
            return False
    return True


END_OF_WATCH = "end"
"""A `watch_steps` step: the server ends the stream (as it does after its timeout)."""


@dataclass
class FakeKube(Kube):
    objects: dict[Location, Manifest] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    fence: WriteFence | None = None
    down: BaseException | None = None
    """Raised by every request (and every WATCH) while set: the apiserver is away."""
    refused: list[str] = field(default_factory=list)
    """`METHOD path` of each request (or WATCH) `down` failed."""
    scripted_watch: bool = False
    """WATCHes stream `watch_steps` (shared by every WATCH in turn), not the changes made here."""
    watches: list[str] = field(default_factory=list)
    """The resourceVersion each WATCH started from."""
    watch_steps: asyncio.Queue[Manifest | BaseException | str] = field(default_factory=asyncio.Queue)
    """What scripted WATCHes stream, in order: an event, an exception to raise, or END_OF_WATCH."""
    version: int = 0
    """The last resourceVersion given out; a LIST is at this version."""
    _before_writes: list[Callable[[], object]] = field(default_factory=list)
    _watches: list[tuple[Location, dict[str, str], asyncio.Queue[Manifest]]] = field(default_factory=list)

    def _next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def put(self, path: str, obj: Manifest) -> Manifest:
        """Store `obj` at `path` as if someone else wrote it (not recorded as a write of the operator)."""
        where = Location.of(path)
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        meta.setdefault("name", where.name)
        if where.namespace:
            meta.setdefault("namespace", where.namespace)
        meta.setdefault("uid", f"uid-{where.namespace}-{where.name}")
        meta["resourceVersion"] = self._next_version()
        key = Location(where.base, where.plural, where.namespace, where.name)
        self._notify("MODIFIED" if key in self.objects else "ADDED", key, stored)
        self.objects[key] = stored
        return copy.deepcopy(stored)

    def drop(self, path: str) -> None:
        """Delete the object at `path` as if someone else did (not recorded as a write of the operator)."""
        where = Location.of(path)
        key = Location(where.base, where.plural, where.namespace, where.name)
        gone = self.objects.pop(key)
        gone["metadata"]["resourceVersion"] = self._next_version()
        self._notify("DELETED", key, gone)

    def _notify(self, kind: str, key: Location, obj: Manifest) -> None:
        for where, query, events in self._watches:
            if _watched(where, query, key, obj):
                events.put_nowait({"type": kind, "object": copy.deepcopy(obj)})

    async def watch(
        self, path: str, resource_version: str, *, timeout_seconds: int = 300, selectors: dict[str, str] | None = None
    ) -> AsyncIterator[Manifest]:
        """Changes from now on (without a `resource_version`, first an ADDED event per object that
        exists), or the scripted `watch_steps`."""
        if self.down is not None:
            self.refused.append(f"WATCH {path}")
            raise self.down
        self.watches.append(resource_version)
        if self.scripted_watch:
            async for step in self._scripted():
                yield step
            return
        where, query = Location.of(path), dict(selectors or {})
        events: asyncio.Queue[Manifest] = asyncio.Queue()
        if not resource_version:
            for key, obj in sorted(self.objects.items(), key=lambda item: (item[0].namespace, item[0].name)):
                if _watched(where, query, key, obj):
                    events.put_nowait({"type": "ADDED", "object": copy.deepcopy(obj)})
        watch = (where, query, events)
        self._watches.append(watch)
        try:
            while True:
                yield await events.get()
        finally:
            self._watches.remove(watch)

    async def _scripted(self) -> AsyncIterator[Manifest]:
        while True:
            step = await self.watch_steps.get()
            if step == END_OF_WATCH:
                return
            if isinstance(step, BaseException):
                raise step
            assert isinstance(step, dict)
            yield step

    def stored(self, path: str) -> Manifest | None:
        where = Location.of(path)
        found = self.objects.get(Location(where.base, where.plural, where.namespace, where.name))
        return copy.deepcopy(found) if found is not None else None

    def put_organization(self, name: str, annotations: Mapping[str, str] | None = None) -> Manifest:
        """An Organization `name` in its namespace `name`, as the platform makes them, with `annotations`."""
        return self.put(ORGANIZATION.path(name, name), {"metadata": {"annotations": dict(annotations or {})}})

    def annotations(self, name: str) -> dict[str, str]:
        """The annotations of the Organization `name` (in its namespace `name`), as stored now."""
        found = self.stored(ORGANIZATION.path(name, name))
        assert found is not None, f"no Organization {name}"
        return dict(found["metadata"].get("annotations") or {})

    def annotate(self, name: str, changes: Mapping[str, str | None]) -> Manifest:
        """Someone else's merge patch of the Organization `name`'s annotations (None removes one)."""
        path = ORGANIZATION.path(name, name)
        current = self.stored(path)
        assert current is not None, f"no Organization {name}"
        return self.put(path, merge_patch(current, {"metadata": {"annotations": dict(changes)}}))

    def before_next_write(self, callback: Callable[[], object]) -> None:
        """Run `callback` (someone else's write, say) when the next write request arrives, before it is
        answered: the write then meets a changed object, as it would between a read and a write."""
        self._before_writes.append(callback)

    def fail(self, method: str, path: str, status: int, times: int = 1) -> None:
        """The next `times` requests `method path` get `status`."""
        self.failures.append(Failure(method, path, status, times))

    def writes_to(self, method: str = "", plural: str = "") -> list[Write]:
        return [
            write
            for write in self.writes
            if (not method or write.method == method) and (not plural or Location.of(write.path).plural == plural)
        ]

    async def close(self) -> None:
        return None

    async def _request_once(
        self,
        method: str,
        path: str,
        body: Manifest | None,
        *,
        content_type: str,
        query: dict[str, str] | None,
    ) -> Manifest:
        if self.down is not None:
            self.refused.append(f"{method} {path}")
            raise self.down
        if method != "GET":
            callbacks, self._before_writes = self._before_writes, []
            for callback in callbacks:
                callback()
        for failure in self.failures:
            if failure.times and (failure.method, failure.path) == (method, path):
                failure.times -= 1
                raise KubeError(method, path, failure.status, f"injected {failure.status}")
        where = Location.of(path)
        key = Location(where.base, where.plural, where.namespace, where.name)
        if method in ("PATCH", "PUT") and key in self.objects:
            expected = ((body or {}).get("metadata") or {}).get("resourceVersion")
            if expected and expected != self.objects[key]["metadata"]["resourceVersion"]:
                message = f'{where.plural} "{where.name}": the object has been modified'
                raise KubeError(method, path, 409, message, "Conflict")  # a refused precondition writes nothing
        if method == "GET":
            self.reads.append(path)
        else:
            self.writes.append(Write(method, path, copy.deepcopy(body)))
        if method == "GET" and not where.name:
            items = [
                copy.deepcopy(obj)
                for at, obj in sorted(self.objects.items(), key=lambda item: (item[0].namespace, item[0].name))
                if at.collection == where.collection
                and (not where.namespace or at.namespace == where.namespace)
                and _selected(obj, query or {})
            ]
            return {"items": items, "metadata": {"resourceVersion": str(self.version)}}
        if method == "POST":
            assert body is not None
            name = body["metadata"].get("name") or f"{body['metadata']['generateName']}{self._next_version()}"
            key = Location(where.base, where.plural, where.namespace, name)
            if key in self.objects:
                raise KubeError(method, path, 409, f'{where.plural} "{name}" already exists', "AlreadyExists")
            return self.put(_path_of(key), {**body, "metadata": {**body["metadata"], "name": name}})
        if key not in self.objects:
            raise KubeError(method, path, 404, f'{where.plural} "{where.name}" not found', "NotFound")
        if method == "GET":
            return copy.deepcopy(self.objects[key])
        if method == "DELETE":
            self.drop(_path_of(key))
            return {"kind": "Status", "status": "Success"}
        if method == "PUT":
            assert body is not None
            return self.put(_path_of(key), body)
        assert method == "PATCH"
        assert body is not None
        current = self.objects[key]
        patch = {"status": body.get("status")} if where.subresource == "status" else body
        merged = merge_patch(current, patch)
        if where.subresource != "status" and "status" in current:
            merged["status"] = current["status"]  # the main resource's patches leave the status alone
        return self.put(_path_of(key), merged)


def _watched(where: Location, query: Mapping[str, str], key: Location, obj: Manifest) -> bool:
    """Whether a watch of `where` with `query` sees the object at `key`."""
    return where.collection == key.collection and where.namespace in ("", key.namespace) and _selected(obj, query)


def _path_of(where: Location) -> str:
    namespaced = f"/namespaces/{where.namespace}" if where.namespace else ""
    return f"{where.base}{namespaced}/{where.plural}/{where.name}"


class RecordedEvents(EventRecorder):
    """Events as the reconciler records them, in order: (type, reason, message)."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str]] = []
        self.names: set[str] = set()

    async def record(
        self, ref: Mapping[str, Any], type_: str, reason: str, message: str, *, name: str | None = None
    ) -> None:
        if name is not None and name in self.names:
            return  # the apiserver refuses a second Event of one name
        if name is not None:
            self.names.add(name)
        self.recorded.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.recorded]
