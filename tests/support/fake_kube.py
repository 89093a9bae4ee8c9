"""An in-memory apiserver behind `Kube`'s one request method, for unit tests of the controller.

Only the sending of one request (`_request_once`) and `watch` are replaced: `request` (its retries
and the write fence), `get`, `list`, `pages`, `create`, `replace`, `merge_patch` and `delete` are
the real ones, so a 404 on GET is still None, a 404 on DELETE still False and a write refused by
the fence never reaches it. It keeps objects by path, answers lists with field (`metadata.name=`,
`metadata.namespace=`) and label (`k=v`, `k`) selectors, applies JSON merge patches (RFC 7386;
`/status` patches only the status) and conditional PUTs (409 for another resourceVersion), streams
changes to watches, records every write and can fail chosen requests with an apiserver status
(404, 409, 500...).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from orgquota.kube.client import Kube, KubeError, Manifest
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


def _selected(obj: Manifest, query: Mapping[str, str]) -> bool:
    meta = obj["metadata"]
    for term in filter(None, query.get("fieldSelector", "").split(",")):
        name, _, value = term.partition("=")
        if str(meta.get(name.removeprefix("metadata."), "")) != value:
            return False
    labels = meta.get("labels") or {}
    for term in filter(None, query.get("labelSelector", "").split(",")):
        name, equals, value = term.partition("=")
        if name not in labels or (equals and labels[name] != value):
            return False
    return True


@dataclass
class FakeKube(Kube):
    objects: dict[Location, Manifest] = field(default_factory=dict)
    writes: list[Write] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    fence: WriteFence | None = None
    _versions: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _watches: list[tuple[Location, dict[str, str], asyncio.Queue[Manifest]]] = field(default_factory=list)

    def put(self, path: str, obj: Manifest) -> Manifest:
        """Store `obj` at `path` as if someone else wrote it (not recorded as a write of the operator)."""
        where = Location.of(path)
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        meta.setdefault("name", where.name)
        if where.namespace:
            meta.setdefault("namespace", where.namespace)
        meta.setdefault("uid", f"uid-{where.namespace}-{where.name}")
        meta["resourceVersion"] = str(next(self._versions))
        key = Location(where.base, where.plural, where.namespace, where.name)
        self._notify("MODIFIED" if key in self.objects else "ADDED", key, stored)
        self.objects[key] = stored
        return copy.deepcopy(stored)

    def drop(self, path: str) -> None:
        """Delete the object at `path` as if someone else did (not recorded as a write of the operator)."""
        where = Location.of(path)
        key = Location(where.base, where.plural, where.namespace, where.name)
        gone = self.objects.pop(key)
        gone["metadata"]["resourceVersion"] = str(next(self._versions))
        self._notify("DELETED", key, gone)

    def _notify(self, kind: str, key: Location, obj: Manifest) -> None:
        for where, query, events in self._watches:
            if _watched(where, query, key, obj):
                events.put_nowait({"type": kind, "object": copy.deepcopy(obj)})

    async def watch(
        self, path: str, resource_version: str, *, timeout_seconds: int = 300, selectors: dict[str, str] | None = None
    ) -> AsyncIterator[Manifest]:
        """Changes from now on; without a `resource_version`, first an ADDED event per object that exists."""
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

    def stored(self, path: str) -> Manifest | None:
        where = Location.of(path)
        found = self.objects.get(Location(where.base, where.plural, where.namespace, where.name))
        return copy.deepcopy(found) if found is not None else None

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
        for failure in self.failures:
            if failure.times and (failure.method, failure.path) == (method, path):
                failure.times -= 1
                raise KubeError(method, path, failure.status, f"injected {failure.status}")
        if method == "GET":
            self.reads.append(path)
        else:
            self.writes.append(Write(method, path, copy.deepcopy(body)))
        where = Location.of(path)
        key = Location(where.base, where.plural, where.namespace, where.name)
        if method == "GET" and not where.name:
            items = [
                copy.deepcopy(obj)
                for at, obj in sorted(self.objects.items(), key=lambda item: (item[0].namespace, item[0].name))
                if at.collection == where.collection
                and (not where.namespace or at.namespace == where.namespace)
                and _selected(obj, query or {})
            ]
            return {"items": items, "metadata": {}}
        if method == "POST":
            assert body is not None
            name = body["metadata"].get("name") or f"{body['metadata']['generateName']}{next(self._versions)}"
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
            expected = body["metadata"].get("resourceVersion")
            if expected and expected != self.objects[key]["metadata"]["resourceVersion"]:
                raise KubeError(method, path, 409, "the object has been modified", "Conflict")
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

    async def record(self, ref: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.recorded.append((type_, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.recorded]
