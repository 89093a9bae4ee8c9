"""The API's CPU for one 30-day hourly history answer, beside the standard library doing the same.

What `/usage-history` does with Prometheus's two answers (used and limit, 721 points each): parse
them, turn each point into the number shown, and write the envelope. Run both ways, interleaved,
in one process: `python -m bench.history_encoding [--points 721] [--rounds 7]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from orgquota.api.envelope import JSONBody
from orgquota.api.history.prometheus import _series
from orgquota.api.history.resources import RESOURCE_UNITS, shown_points
from orgquota.api.numbers import Number

Points = Sequence[tuple[float, float]]


def prometheus_answer(points: int, growth: float) -> bytes:
    start = 1_760_000_000
    values = [[start + i * 3600, repr(round(4 + growth * i + 0.37 * math.sin(i), 6))] for i in range(points)]
    result = [{"metric": {"organization": "acme", "resource": "cpu"}, "values": values}]
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()


Shown = Callable[[str, Points], list[list[Number]]]


def point_by_point(resource: str, points: Points) -> list[list[Number]]:
    """How the points were shown before `shown_points`: a call per point."""
    _, shown = RESOURCE_UNITS[resource]
    return [[int(at), shown(value)] for at, value in points]


def answer(bodies: list[bytes], loads: Callable[[bytes], Any], shown: Shown, dumps: Callable[[Any], bytes]) -> bytes:
    series = [[_series(item) for item in loads(body)["data"]["result"]] for body in bodies]
    used, limit = (shown("cpu", found[0].points) for found in series)
    data = {"resource": "cpu", "unit": "cores", "range": "2592000s", "step": "3600s", "used": used, "limit": limit}
    return dumps({"success": True, "data": data})


def stdlib_dumps(content: Any) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=721)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    bodies = [prometheus_answer(args.points, 0.004), prometheus_answer(args.points, 0.0)]
    render = JSONBody(None).render
    ways: dict[str, tuple[Callable[[bytes], Any], Shown, Callable[[Any], bytes]]] = {
        "before: json, point by point": (json.loads, point_by_point, stdlib_dumps),
        "orjson, point by point": (orjson.loads, point_by_point, render),
        "now: orjson, shown_points": (orjson.loads, shown_points, render),
    }
    written = [json.loads(answer(bodies, *way)) for way in ways.values()]
    assert all(one == written[0] for one in written), "the ways disagree on the answer"
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            began = time.process_time()
            for _ in range(args.repeat):
                answer(bodies, *way)
            times[name].append((time.process_time() - began) / args.repeat * 1000)
    print(f"one /usage-history answer, 2 series x {args.points} points; load average {os.getloadavg()[0]:.1f}")
    for name, measured in times.items():
        print(f"  {name:32} CPU ms per answer: median {statistics.median(measured):.2f}, min {min(measured):.2f}")


if __name__ == "__main__":
    main()
