"""A stand-in for Prometheus's query API on loopback, for the history routes' unit tests.

It answers `query_range` from series given as functions of time (one per metric and resource), at the
asked step, and records the queries; `delay` makes it slow and `fail` makes it answer an error. It
evaluates no PromQL beyond picking the series: the real Prometheus is in the e2e tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SeriesFunction = Callable[[float], float | None]


class FakePrometheus:
    def __init__(self) -> None:
        self.series: dict[tuple[str, str, str], SeriesFunction] = {}
        """(metric, organization, resource) -> value at a unix time (None: no sample)"""
        self.queries: list[str] = []
        self.encodings: list[str | None] = []
        """each request's Accept-Encoding"""
        self.delay = 0.0
        self.fail = ""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.encodings.append(self.headers.get("Accept-Encoding"))
                time.sleep(fake.delay)
                body = fake.answer(self.path, form)
                raw = json.dumps(body).encode()
                self.send_response(200 if body["status"] == "success" else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        query = form.get("query", "")
        self.queries.append(query)
        if self.fail:
            return {"status": "error", "errorType": "bad_data", "error": self.fail}
        metric = re.search(r"(orgquota_[a-z_]+)", query)
        org = re.search(r'organization="([^"]*)"', query)
        wanted = re.search(r'resource="([^"]*)"', query)
        start, end, step = float(form["start"]), float(form["end"]), float(form["step"])
        result = []
        for (name, organization, resource), values in self.series.items():
            if not metric or name != metric[1] or not org or organization != org[1]:
                continue
            if wanted and resource != wanted[1]:
                continue
            points, at = [], start
            while at <= end:
                value = values(at)
                if value is not None:
                    points.append([at, repr(value)])
                at += step
            if points:
                labels = {"__name__": name, "organization": organization, "resource": resource}
                result.append({"metric": labels, "values": points})
        return {"status": "success", "data": {"resultType": "matrix", "result": result}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
