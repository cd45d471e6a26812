"""A local ``/api/v2/studies`` server on 127.0.0.1 serving REAL API v2 records (the TIGIT
sample), with failures on demand — for the live connector's and the sync's tests."""

from __future__ import annotations

import functools
import gzip
import json
import lzma
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import ROOT

SAMPLE = ROOT / "tests" / "fixtures" / "ctgov" / "tigit_versions_sample.jsonl.xz"
JSON = dict[str, Any]


@functools.cache
def _real_studies() -> tuple[str, ...]:
    """The served records are REAL API v2 studies: the latest version of each of the 36 TIGIT
    trials recorded in ``tigit_versions_sample.jsonl.xz`` (one JSON text each, NCT order)."""
    latest: dict[str, tuple[int, JSON]] = {}
    with lzma.open(SAMPLE, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                prev = latest.get(row["nct_id"])
                if prev is None or row["version_index"] > prev[0]:
                    latest[row["nct_id"]] = (row["version_index"], row["study"])
    return tuple(json.dumps(latest[k][1]) for k in sorted(latest))


def real_studies() -> list[JSON]:
    return [json.loads(s) for s in _real_studies()]


def nct(study: JSON) -> str:
    return str(study["protocolSection"]["identificationModule"]["nctId"])


class StudyServer(ThreadingHTTPServer):
    """Serves ``studies`` page by page with opaque tokens; ``failures`` are consumed in order,
    one per request: ``"429:<seconds>"``, ``"503"``, ``"drop"``, ``"hang"``, ``"404"``,
    ``"garbage"``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StudyHandler)
        self.studies: list[Any] = real_studies()
        self.failures: list[str] = []
        self.requests: list[dict[str, str]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.times: list[float] = []  # ``clock()`` at each request
        self.clock: Callable[[], float] = time.monotonic
        self.tokens: dict[str, int] = {}
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v2"


class StudyHandler(BaseHTTPRequestHandler):
    server: StudyServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        headers = dict(headers or {})
        if status == 200 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, text.encode(), {"Content-Type": "text/plain", **(headers or {})})

    def do_GET(self) -> None:
        srv = self.server
        url = urlsplit(self.path)
        multi = parse_qs(url.query, keep_blank_values=True)
        params = {k: v[0] for k, v in multi.items()}
        with srv.lock:
            srv.requests.append(params)
            srv.headers_seen.append(dict(self.headers.items()))
            srv.times.append(srv.clock())
            action = srv.failures.pop(0) if srv.failures else ""
        if url.path != "/api/v2/studies" or action == "404":
            return self._error(404, f"No such resource: {url.path}\n")
        if action.startswith("429"):
            wait = action.partition(":")[2] or "2"
            return self._error(429, "Too many requests", {"Retry-After": wait})
        if action == "503":
            return self._error(503, "Service Unavailable")
        if action == "drop":
            self.close_connection = True
            return None
        if action == "hang":
            time.sleep(4.0)  # well past the test client's 2 s timeout, even on a loaded machine
            self.close_connection = True
            return None
        if action == "garbage":
            return self._send(200, b"<html>maintenance</html>", {"Content-Type": "text/html"})
        if any(len(v) != 1 for v in multi.values()) or params.get("format") != "json":
            return self._error(400, "format must be json, each parameter once")
        size = int(params.get("pageSize", "10"))
        if not 1 <= size <= 1000:
            return self._error(400, "pageSize out of range")
        offset = 0
        if "pageToken" in params:
            with srv.lock:
                if params["pageToken"] not in srv.tokens:
                    return self._error(400, "The pageToken is invalid.\n\nTry again.")
                offset = srv.tokens[params["pageToken"]]
        page: JSON = {"studies": srv.studies[offset : offset + size]}
        if offset + size < len(srv.studies):
            token = secrets.token_urlsafe(9)
            with srv.lock:
                srv.tokens[token] = offset + size
            page["nextPageToken"] = token
        if params.get("countTotal") == "true":
            page["totalCount"] = len(srv.studies)
        self._send(200, json.dumps(page).encode(), {"Content-Type": "application/json"})
        return None


@contextmanager
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[StudyServer]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    srv = StudyServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=2)
