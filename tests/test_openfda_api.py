"""The live openFDA connector against a local openFDA look-alike on 127.0.0.1 (never the real
host) serving REAL content: the 235 flattened openFDA label rows of ../shared/data re-shaped into
openFDA label JSON, and the 26,233 real Drugs@FDA applications of the 2023-04 files re-shaped
into drugsfda JSON. Paging, the 26,000 cap and its split, retries, errors."""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from drugradar.sources import openfda_api as api
from drugradar.sources.base import Record, Rejected

from .conftest import ROOT

DATA = ROOT.parent / "shared" / "data" / "fda"
ROWS = DATA / "labels/openfda_section_extracts/databricks_clean_drug_table_openfda_labels.csv.gz"
APPS = DATA / "drugsatfda" / "2023-04"
JSON = dict[str, Any]

pytestmark = pytest.mark.skipif(
    not (ROWS.is_file() and APPS.is_dir()), reason="shared FDA data not present"
)

SECTION_COLUMNS = (
    "active_ingredient",
    "purpose",
    "indications_and_usage",
    "warnings",
    "dosage_and_administration",
    "inactive_ingredient",
)


@functools.cache
def _real_labels() -> str:
    """REAL openFDA labels: each flattened row back in openFDA's label JSON shape (lists of
    strings per section, an ``openfda`` block of lists); ``NULL`` cells are absent sections."""
    out = []
    with gzip.open(ROWS, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            label: JSON = {
                "id": row["id"],
                "set_id": row["set_id"],
                "version": row["version"],
                "effective_time": row["effective_time"],
            }
            for col in SECTION_COLUMNS:
                if row[col].strip().upper() != "NULL":
                    label[col] = [row[col]]
            label["openfda"] = {
                "brand_name": [row["brand_name"]],
                "generic_name": [row["generic_name"]],
                "manufacturer_name": [row["manufacturer_name"]],
                "product_ndc": row["product_ndc"].split(", "),
                "route": row["route"].split(", "),
                "substance_name": [row["substance_name"]],
                "spl_set_id": [row["set_id"]],
            }
            out.append(label)
    return json.dumps(out)


def real_labels() -> list[JSON]:
    return list(json.loads(_real_labels()))


def synthetic_label_corpus(n: int, per_day: int = 20) -> list[JSON]:
    """``n`` labels of REAL content (the real rows in turn) under synthetic ids, set ids and
    effective times (``per_day`` labels a day from 2010-01-01): a total above openFDA's cap."""
    real = real_labels()
    out = []
    for i in range(n):
        label = dict(real[i % len(real)])
        label["id"] = str(uuid.UUID(int=i + 1))
        label["set_id"] = str(uuid.UUID(int=(1 << 64) + i))
        label["effective_time"] = f"{date(2010, 1, 1) + timedelta(days=i // per_day):%Y%m%d}"
        out.append(label)
    return out


@functools.cache
def _real_applications() -> str:
    """REAL Drugs@FDA applications (2023-04 ``Applications.txt`` + ``Products.txt.gz``) in the
    drugsfda JSON shape: ``application_number`` (type + number), ``sponsor_name``, ``products``."""
    products: dict[str, list[JSON]] = {}
    with gzip.open(APPS / "Products.txt.gz", "rt", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            form, _, route = row["Form"].partition(";")
            products.setdefault(row["ApplNo"], []).append(
                {
                    "product_number": row["ProductNo"],
                    "brand_name": row["DrugName"],
                    "dosage_form": form,
                    "route": route,
                    "active_ingredients": [
                        {"name": row["ActiveIngredient"], "strength": row["Strength"]}
                    ],
                }
            )
    text = (APPS / "Applications.txt").read_bytes().decode("utf-8", "replace")
    apps = [
        {
            "application_number": row["ApplType"].strip() + row["ApplNo"].strip(),
            "sponsor_name": row["SponsorName"],
            "products": products.get(row["ApplNo"], []),
        }
        for row in csv.DictReader(io.StringIO(text), delimiter="\t")
    ]
    return json.dumps(apps)


def real_applications() -> list[JSON]:
    return list(json.loads(_real_applications()))


# ---------------------------------------------------------------- the local server


def _field(record: JSON, name: str) -> list[str]:
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _matcher(search: str) -> Callable[[JSON], bool]:
    """The little of openFDA's search syntax the connector writes: ``(base) AND clause``,
    ``effective_time:[A TO B]``, ``application_number:PREFIX*``, ``field:"value"``, and
    ``a OR b`` of those (the label sync's names)."""
    if " OR " in search and " AND " not in search and "(" not in search:
        alternatives = [_matcher(t) for t in search.split(" OR ")]
        return lambda r: any(m(r) for m in alternatives)
    terms: list[str] = []
    rest = search.strip()
    if rest.startswith("("):
        close = rest.index(")")
        terms.append(rest[1:close])
        rest = rest[close + 1 :].removeprefix(" AND ")
    terms += [t for t in rest.split(" AND ") if t]
    tests: list[Callable[[JSON], bool]] = []
    for term in terms:
        if m := re.fullmatch(r"effective_time:\[(\d{8}) TO (\d{8})\]", term):
            lo, hi = m.groups()
            tests.append(lambda r, lo=lo, hi=hi: lo <= str(r.get("effective_time")) <= hi)
        elif m := re.fullmatch(r"application_number:([A-Z0-9]+)\*", term):
            prefix = m.group(1)
            tests.append(lambda r, p=prefix: str(r["application_number"]).startswith(p))
        elif m := re.fullmatch(r'([\w.]+):"?([^"]+)"?', term):
            field, value = m.groups()
            tests.append(lambda r, f=field, v=value: v.upper() in (x.upper() for x in _field(r, f)))
        else:
            raise ValueError(term)
    return lambda r: all(t(r) for t in tests)


class OpenFdaServer(ThreadingHTTPServer):
    """``/drug/label.json`` and ``/drug/drugsfda.json`` with openFDA's paging rules (limit
    1..1000, skip at most ``max_skip``, 404 "No matches found!"). ``failures`` are consumed one
    per request: ``"429:<seconds>"``, ``"500"``, ``"503"``, ``"404"`` (no such path), ``"drop"``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), OpenFdaHandler)
        self.data: dict[str, list[Any]] = {"label": real_labels(), "drugsfda": []}
        self.max_skip = 25_000
        self.failures: list[str] = []
        self.requests: list[dict[str, str]] = []
        self.times: list[float] = []
        self.clock: Callable[[], float] = time.monotonic
        self.served: dict[str, int] = {}  # result id -> times served in a full page
        self.found: dict[tuple[str, str], tuple[list[Any], list[Any]]] = {}
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class OpenFdaHandler(BaseHTTPRequestHandler):
    server: OpenFdaServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", **(headers or {})}
        if status == 200 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str, **headers: str) -> None:
        self._send(status, {"error": {"code": code, "message": message}}, headers)

    def do_GET(self) -> None:
        srv = self.server
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        with srv.lock:
            srv.requests.append(params)
            srv.times.append(srv.clock())
            action = srv.failures.pop(0) if srv.failures else ""
        endpoint = {"/drug/label.json": "label", "/drug/drugsfda.json": "drugsfda"}.get(url.path)
        if endpoint is None or action == "404":
            return self._error(404, "NOT_FOUND", "Not found")
        if action.startswith("429"):
            return self._error(429, "TOO_MANY_REQUESTS", "Slow down", **{"Retry-After": action[4:]})
        if action in ("500", "503"):
            return self._error(int(action), "SERVER_ERROR", "Check your request and try again")
        if action == "drop":
            self.close_connection = True
            return None
        limit, skip = int(params.get("limit", "1")), int(params.get("skip", "0"))
        if not 1 <= limit <= 1000:
            return self._error(400, "BAD_REQUEST", "Limit cannot exceed 1000 results.")
        if skip > srv.max_skip:
            return self._error(400, "BAD_REQUEST", f"Skip value must {srv.max_skip} or less.")
        try:
            match = _matcher(params.get("search", ""))
        except ValueError:
            return self._error(400, "BAD_REQUEST", "Syntax error in 'search' parameter.")
        key, data = (endpoint, params.get("search", "")), srv.data[endpoint]
        with srv.lock:
            cached = srv.found.get(key)
        if cached is not None and cached[0] is data:  # pages of one search: filtered once
            found = cached[1]
        else:
            found = [r for r in data if match(r)]
            with srv.lock:
                srv.found[key] = (data, found)
        if not found:
            return self._error(404, "NOT_FOUND", "No matches found!")
        page = found[skip : skip + limit]
        if limit > 1:
            id_field = api.ID_FIELDS[endpoint]
            with srv.lock:
                for r in page:
                    ident = r.get(id_field) if isinstance(r, dict) else repr(r)
                    srv.served[ident] = srv.served.get(ident, 0) + 1
        meta = {"results": {"skip": skip, "limit": limit, "total": len(found)}}
        self._send(200, {"meta": meta, "results": page})
        return None


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenFdaServer]:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    srv = OpenFdaServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=2)


class Upper(random.Random):
    """Jitter that always takes the top of the range, to see the backoff bounds themselves."""

    def uniform(self, a: float, b: float) -> float:
        return b


def client(srv: OpenFdaServer, sleeps: list[float], **kw: Any) -> api.Client:
    opts: dict[str, Any] = {"min_interval": 0.0, "timeout": 5.0, "rng": random.Random(7)}
    opts.update(kw)
    return api.Client(srv.base_url, sleep=sleeps.append, **opts)


# ---------------------------------------------------------------- paging and mapping


def test_labels_paged_and_mapped(server: OpenFdaServer) -> None:
    sleeps: list[float] = []
    c = client(server, sleeps)
    out = list(api.fetch_labels(api.Query("label", limit=50), c))
    served = real_labels()
    assert len(out) == 235 and all(isinstance(r, Record) for r in out)
    recs = [r for r in out if isinstance(r, Record)]
    assert [r.record_id for r in recs] == [s["set_id"] for s in served]
    probe, *paged = server.requests
    assert probe == {"limit": "1"}
    assert [r.get("skip", "0") for r in paged] == ["0", "50", "100", "150", "200"]
    assert all(r["limit"] == "50" for r in paged) and sleeps == [] and c.duplicates == 0
    first, row = recs[0], served[0]
    d = first.data
    assert d["source"] == "openfda" and d["partial"] is False
    assert d["brand_names"] == row["openfda"]["brand_name"]
    assert first.as_of == date(
        int(row["effective_time"][:4]),
        int(row["effective_time"][4:6]),
        int(row["effective_time"][6:]),
    )
    assert {s["name"] for s in d["sections"]} == {k for k in row if k in SECTION_COLUMNS}


def test_search_sort_and_api_key_are_sent(server: OpenFdaServer) -> None:
    q = api.Query("label", search='openfda.route:"ORAL"', sort="effective_time:asc", limit=1000)
    c = client(server, [], api_key="secret-key")
    got = list(api.results(q, c))
    oral = [r for r in real_labels() if "ORAL" in r["openfda"]["route"]]
    assert [r["id"] for r in got] == [r["id"] for r in oral] and 0 < len(oral) < 235
    assert server.requests[-1] == {
        "search": 'openfda.route:"ORAL"',
        "sort": "effective_time:asc",
        "limit": "1000",
        "api_key": "secret-key",
    }
    assert "api_key=***" in c.url("label", {"limit": "1"}, redact=True)


def test_query_limits() -> None:
    assert api.Query().params(None) == {"limit": "1000"}
    assert api.Query(search="  ").params("x", skip=2000, limit=1) == {
        "search": "x",
        "limit": "1",
        "skip": "2000",
    }
    with pytest.raises(ValueError, match="limit"):
        api.Query(limit=1001)
    with pytest.raises(ValueError, match="endpoint"):
        api.Query("event")


def test_no_matches_is_an_empty_result(server: OpenFdaServer) -> None:
    q = api.Query("label", search='openfda.brand_name:"NO SUCH BRAND"')
    c = client(server, [])
    assert list(api.fetch_labels(q, c)) == [] and len(server.requests) == 1


# ---------------------------------------------------------------- the 26,000 cap


def test_label_search_over_the_cap_split_by_effective_time(server: OpenFdaServer) -> None:
    server.data["label"] = synthetic_label_corpus(26_500)
    sleeps: list[float] = []
    c = client(server, sleeps)
    # paged naively, the server refuses the skip the 27th page needs
    with pytest.raises(api.OpenFdaError, match=r"HTTP 400 .*: BAD_REQUEST: Skip value must 25000"):
        c.get("label", {"limit": "1000", "skip": "26000"})
    server.requests.clear()
    parts = api.plan(api.Query("label"), c)
    assert len(parts) >= 2 and sum(p.total for p in parts) == 26_500
    assert all(p.total <= 26_000 and "effective_time:[" in (p.search or "") for p in parts)
    server.requests.clear()
    ids = [r["id"] for r in api.results(api.Query("label"), c, parts)]
    assert len(ids) == 26_500 and len(set(ids)) == 26_500
    assert set(ids) == {r["id"] for r in server.data["label"]}
    assert set(server.served.values()) == {1}  # every label served exactly once
    assert max(int(r.get("skip", "0")) for r in server.requests) <= 25_000
    assert c.duplicates == 0 and sleeps == []


def test_split_keeps_the_callers_search_and_recurses(server: OpenFdaServer) -> None:
    labels = synthetic_label_corpus(3000, per_day=7)
    server.data["label"] = labels
    server.max_skip = 300  # a small cap, to split several levels deep
    c = client(server, [], max_skip=300)
    q = api.Query("label", search='openfda.route:"TOPICAL"', limit=100)
    out = [r for r in api.fetch_labels(q, c) if isinstance(r, Record)]
    topical = [r["set_id"] for r in labels if "TOPICAL" in r["openfda"]["route"]]
    assert sorted(r.record_id for r in out) == sorted(topical) and len(topical) > 400
    searches = {r.get("search") for r in server.requests}
    base = 'openfda.route:"TOPICAL"'
    assert all(
        s == base or (s or "").startswith(f"({base}) AND effective_time:[") for s in searches
    )
    assert len({s for s in searches if s and "effective_time" in s}) > 4


def test_too_many_on_one_day_cannot_be_split(server: OpenFdaServer) -> None:
    server.data["label"] = synthetic_label_corpus(500, per_day=500)
    server.max_skip = 100
    with pytest.raises(api.OpenFdaError, match=r"500 labels with effective time 20100101"):
        api.plan(api.Query("label", limit=100), client(server, [], max_skip=100))


def test_drugsfda_over_the_cap_split_by_application_number(server: OpenFdaServer) -> None:
    apps = real_applications()
    server.data["drugsfda"] = apps
    assert len(apps) == 26_233  # the real count: more than one search can page through
    c = client(server, [])
    parts = api.plan(api.Query("drugsfda"), c)
    assert [p.search for p in parts] == [
        "application_number:ANDA*",
        "application_number:BLA*",
        "application_number:NDA*",
    ]
    got = [r["application_number"] for r in api.results(api.Query("drugsfda"), c, parts)]
    assert sorted(got) == sorted(a["application_number"] for a in apps) and len(set(got)) == len(
        got
    )
    assert set(server.served.values()) == {1}
    lipitor = next(r for r in apps if r["application_number"] == "NDA020702")
    assert lipitor["products"][0]["brand_name"] == "LIPITOR"


def test_drugsfda_prefixes_refined_digit_by_digit(server: OpenFdaServer) -> None:
    server.data["drugsfda"] = real_applications()
    server.max_skip = 2000
    c = client(server, [], max_skip=2000)
    parts = api.plan(api.Query("drugsfda"), c)
    assert "application_number:BLA*" in [p.search for p in parts]  # 353 BLAs fit
    prefixes = [(p.search or "").removeprefix("application_number:") for p in parts]
    assert "ANDA01*" in prefixes and "ANDA070*" in prefixes  # refined as deep as needed
    assert all(p.total <= 3000 for p in parts)
    got = [r["application_number"] for r in api.results(api.Query("drugsfda"), c, parts)]
    assert len(got) == len(set(got)) == 26_233


def test_split_that_misses_results_raises(server: OpenFdaServer) -> None:
    odd = {"application_number": "BN000001", "sponsor_name": "SYNTHETIC", "products": []}
    server.data["drugsfda"] = [*real_applications()[:2500], odd]
    server.max_skip = 1000
    with pytest.raises(api.OpenFdaError, match=r"reaches 2500 of its 2501 results"):
        api.plan(api.Query("drugsfda"), client(server, [], max_skip=1000))


# ---------------------------------------------------------------- failures


def test_429_retry_after_then_success(server: OpenFdaServer) -> None:
    server.failures = ["429:2"]
    sleeps: list[float] = []
    assert len(list(api.results(api.Query("label"), client(server, sleeps)))) == 235
    assert sleeps == [2.0] and len(server.requests) == 3  # 429, probe, one page
    server.failures, sleeps[:] = ["429:120"], []
    list(api.results(api.Query("label"), client(server, sleeps, max_backoff=5.0)))
    assert sleeps == [5.0]  # capped


def test_500_then_success_with_jittered_backoff(server: OpenFdaServer) -> None:
    server.failures = ["500", "503", "drop"]
    sleeps: list[float] = []
    c = client(server, sleeps, backoff=0.01, max_backoff=1.0, rng=Upper())
    assert len(list(api.fetch_labels(api.Query("label"), c))) == 235
    assert sleeps == [0.01, 0.02, 0.04]  # backoff * 2**attempt: the top of each jitter range
    server.failures, sleeps[:] = ["500"] * 4, []
    c = client(server, sleeps, backoff=0.01, max_backoff=1.0, rng=random.Random(3))
    assert len(list(api.results(api.Query("label"), c))) == 235
    assert len(set(sleeps)) == 4 and all(0 <= s <= 0.01 * 2**i for i, s in enumerate(sleeps))


def test_permanent_errors_are_one_sentence(server: OpenFdaServer) -> None:
    server.failures = ["404"]
    sleeps: list[float] = []
    c = client(server, sleeps, api_key="secret-key")
    with pytest.raises(api.OpenFdaError) as info:
        list(api.results(api.Query("label"), c))
    err, msg = info.value, str(info.value)
    assert err.status == 404 and sleeps == [] and len(server.requests) == 1
    assert msg.startswith("openFDA answered HTTP 404 Not Found for http://127.0.0.1:")
    assert msg.endswith(": NOT_FOUND: Not found.") and "\n" not in msg
    assert "secret-key" not in msg and "api_key=***" in msg
    assert err.__cause__ is None and err.__suppress_context__
    with pytest.raises(api.OpenFdaError) as bad:
        list(api.results(api.Query("label", search="((("), client(server, [])))
    assert bad.value.status == 400
    assert str(bad.value).endswith("BAD_REQUEST: Syntax error in 'search' parameter.")


def test_retries_exhausted(server: OpenFdaServer) -> None:
    server.failures = ["503"] * 10
    sleeps: list[float] = []
    with pytest.raises(api.OpenFdaError) as info:
        list(api.results(api.Query("label"), client(server, sleeps, max_retries=2, backoff=0.01)))
    msg = str(info.value)
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert "failed after 3 attempts (last: HTTP 503 Service Unavailable)" in msg


def test_malformed_label_rejected_the_rest_go_on(server: OpenFdaServer) -> None:
    labels = real_labels()
    broken = dict(labels[3], effective_time="2024")
    server.data["label"] = [*labels[:3], broken, "not a label", *labels[4:]]
    out = list(api.fetch_labels(api.Query("label", limit=100), client(server, [])))
    rejected = [r for r in out if isinstance(r, Rejected)]
    assert len(out) == 236 and len(rejected) == 2
    first, second = rejected
    assert first.file_name == "api:label search=* skip=0" and first.line == 4
    assert first.field == "effective_time" and first.record_id == broken["set_id"]
    assert second.line == 5 and second.reason == "label is not a JSON object"


def test_rate_limit_spaces_requests(server: OpenFdaServer) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    server.clock = lambda: now[0]
    c = api.Client(server.base_url, min_interval=0.5, sleep=sleep, clock=lambda: now[0], timeout=5)
    assert len(list(api.results(api.Query("label", limit=100), c))) == 235
    assert sleeps == pytest.approx([0.5, 0.5, 0.5])  # probe + 3 pages, 0.5 s apart
    assert api.Client().min_interval >= 0.25  # openFDA allows 240 requests a minute
