"""Prometheus's HTTP query API, as the history routes use it: instant and range queries, bounded in time.

A query that Prometheus does not answer within the timeout, or answers with an error, raises
`HistoryUnavailable`: the route answers 503 and nothing else of the API waits on Prometheus.
No client library: two endpoints and their JSON are all that is used. The session given must not
trust the environment: aiohttp would then look the proxy up (reading the environment and .netrc)
on every query; it is looked up once here instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

TIMEOUT_SECONDS: Final = 2.0
UNCOMPRESSED: Final = {"Accept-Encoding": "identity"}
"""answers of a few kilobytes over the cluster's network: gzip cost Prometheus 1.6 ms and the API 0.3 ms
of CPU per 30-day hourly history (measured), more than the whole query without it"""


class HistoryUnavailable(RuntimeError):
    """Prometheus could not be asked or did not answer; the message says which, without the query."""


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]
    """(unix seconds, value), oldest first; NaN and infinite samples are left out"""


class Prometheus:
    def __init__(self, url: str, session: aiohttp.ClientSession, timeout: float = TIMEOUT_SECONDS) -> None:
        self._base = url.rstrip("/")
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._proxy, self._proxy_auth = _env_proxy(self._base)

    async def query_range(self, query: str, start: float, end: float, step: float) -> list[Series]:
        return await self._ask("query_range", {"query": query, "start": start, "end": end, "step": step})

    async def query(self, query: str, at: float) -> list[Series]:
        return await self._ask("query", {"query": query, "time": at})

    async def _ask(self, endpoint: str, params: Mapping[str, str | float]) -> list[Series]:
        form = {key: value if isinstance(value, str) else repr(float(value)) for key, value in params.items()}
        try:
            async with self._session.post(
                f"{self._base}/api/v1/{endpoint}",
                data=form,
                headers=UNCOMPRESSED,
                timeout=self._timeout,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
            ) as response:
                body = await response.json(loads=orjson.loads, content_type=None)
        except TimeoutError as exc:
            raise HistoryUnavailable("Prometheus did not answer in time") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise HistoryUnavailable(f"Prometheus cannot be reached ({type(exc).__name__})") from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise HistoryUnavailable(f"Prometheus refused the query: {str(error)[:200] or response.status}")
        return [_series(item) for item in (body.get("data") or {}).get("result") or []]


def _env_proxy(url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy that HTTP(S)_PROXY / NO_PROXY (and .netrc) give for `url`, as aiohttp would find it."""
    try:
        return get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None


def _series(item: Mapping[str, Any]) -> Series:
    raw = item.get("values") or ([item["value"]] if "value" in item else [])
    points = tuple([(float(stamp), value) for stamp, text in raw if math.isfinite(value := float(text))])
    return Series(dict(item.get("metric") or {}), points)
