"""The live API v2 connector against a local ``/api/v2/studies`` server on 127.0.0.1 (never the
real host): paging, query parameters, retries, rate limit, resume and rejected studies."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_api import ApiError, Client, Page, Query, fetch, pages, retry_after
from drugradar.sources.ctgov_common import StudyDoc

from .api_server import StudyServer, nct, real_studies, serve


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StudyServer]:
    with serve(monkeypatch) as srv:
        yield srv


class Upper(random.Random):
    """Jitter that always takes the top of the range, to see the backoff bounds themselves."""

    def uniform(self, a: float, b: float) -> float:
        return b


def client(srv: StudyServer, sleeps: list[float], **kw: Any) -> Client:
    opts: dict[str, Any] = {"min_interval": 0.0, "timeout": 5.0, "rng": random.Random(7)}
    opts.update(kw)
    return Client(srv.base_url, sleep=sleeps.append, **opts)


def test_all_studies_once_across_pages_in_order(server: StudyServer) -> None:
    sleeps: list[float] = []
    seen: list[Page] = []
    docs = list(fetch(Query(page_size=10), client(server, sleeps), on_page=seen.append))
    expected = real_studies()
    assert len(expected) == 36
    assert all(isinstance(d, StudyDoc) for d in docs)
    assert [d.trial.nct_id for d in docs if isinstance(d, StudyDoc)] == [nct(s) for s in expected]
    assert [len(p.studies) for p in seen] == [10, 10, 10, 6]
    assert seen[0].token is None and seen[0].total == 36
    assert [p.total for p in seen[1:]] == [None, None, None]
    assert [p.token for p in seen[1:]] == [p.next_token for p in seen[:-1]]
    assert seen[-1].next_token is None
    assert [r.get("pageToken") for r in server.requests] == [p.token for p in seen]
    doc = docs[0]
    assert isinstance(doc, StudyDoc)
    assert doc.origin == "api" and doc.as_of == datetime.now(UTC).date()
    assert json.loads(doc.raw) == expected[0]
    assert sleeps == []


def test_query_parameters(server: StudyServer) -> None:
    q = Query(
        cond="Non-small Cell Lung Cancer",
        intr="tiragolumab",
        spons="Hoffmann-La Roche",
        term="TIGIT",
        status=["RECRUITING", "ACTIVE_NOT_RECRUITING"],
        updated_since=date(2026, 2, 1),
        page_size=20,
    )
    got = list(pages(q, client(server, [])))
    assert len(got) == 2
    common = {
        "format": "json",
        "query.cond": "Non-small Cell Lung Cancer",
        "query.intr": "tiragolumab",
        "query.spons": "Hoffmann-La Roche",
        "query.term": "TIGIT",
        "filter.overallStatus": "RECRUITING,ACTIVE_NOT_RECRUITING",
        "filter.advanced": "AREA[LastUpdatePostDate]RANGE[2026-02-01,MAX]",
        "pageSize": "20",
    }
    first, second = server.requests
    assert first == {**common, "countTotal": "true"}
    assert second == {**common, "pageToken": got[0].next_token}
    headers = server.headers_seen[0]
    assert headers["User-Agent"].startswith("drugradar/")
    assert "gzip" in headers["Accept-Encoding"]  # and the gzipped pages were read


def test_query_defaults_and_limits() -> None:
    assert Query().params(None) == {"format": "json", "pageSize": "1000", "countTotal": "true"}
    assert Query(cond="  ", status=[]).params("tok") == {
        "format": "json",
        "pageSize": "1000",
        "pageToken": "tok",
    }
    for bad in (0, 1001):
        with pytest.raises(ValueError, match="page_size"):
            Query(page_size=bad)


def test_429_honours_retry_after(server: StudyServer) -> None:
    server.failures = ["429:2"]
    sleeps: list[float] = []
    docs = list(fetch(Query(page_size=20), client(server, sleeps)))
    assert len(docs) == 36
    assert sleeps == [2.0]
    assert len(server.requests) == 3  # 429, then both pages

    server.failures, sleeps[:] = ["429:120"], []
    list(pages(Query(page_size=1000), client(server, sleeps, max_backoff=5.0)))
    assert sleeps == [5.0]  # capped at max_backoff


def test_503_retried_with_growing_jittered_delays(server: StudyServer) -> None:
    server.failures = ["503", "503", "503", "503"]
    sleeps: list[float] = []
    c = client(server, sleeps, backoff=0.5, max_backoff=3.0, rng=Upper())
    assert len(list(fetch(Query(page_size=1000), c))) == 36
    assert sleeps == [0.5, 1.0, 2.0, 3.0]  # the bounds: backoff * 2**attempt, capped

    server.failures, sleeps[:] = ["503"] * 5, []
    c = client(server, sleeps, backoff=0.5, max_backoff=3.0, rng=random.Random(3))
    assert len(list(fetch(Query(page_size=1000), c))) == 36
    assert len(sleeps) == 5 and len(set(sleeps)) == 5  # jittered
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= min(3.0, 0.5 * 2**attempt)


def test_dropped_connection_and_timeout_retried(server: StudyServer) -> None:
    server.failures = ["drop", "garbage"]
    sleeps: list[float] = []
    assert len(list(fetch(Query(page_size=1000), client(server, sleeps)))) == 36
    assert len(sleeps) == 2 and len(server.requests) == 3

    server.failures, sleeps[:] = ["hang"], []
    c = client(server, sleeps, timeout=2.0)  # a normal page answers well within it under load
    assert len(list(fetch(Query(page_size=1000), c))) == 36
    assert len(sleeps) == 1


def test_404_raises_at_once(server: StudyServer) -> None:
    server.failures = ["404"]
    sleeps: list[float] = []
    with pytest.raises(ApiError) as info:
        list(fetch(Query(cond="x"), client(server, sleeps)))
    err = info.value
    msg = str(err)
    assert err.status == 404 and sleeps == [] and len(server.requests) == 1
    assert msg.startswith("ClinicalTrials.gov API answered HTTP 404")
    assert f"{server.base_url}/studies?" in msg and msg.endswith(".")
    assert "\n" not in msg and "Traceback" not in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_bad_token_400_names_the_reason(server: StudyServer) -> None:
    with pytest.raises(ApiError, match=r"HTTP 400 .*: The pageToken is invalid\. Try again\.$"):
        list(fetch(Query(), client(server, []), start_token="not-a-token"))


def test_retries_exhausted(server: StudyServer) -> None:
    server.failures = ["503"] * 10
    sleeps: list[float] = []
    with pytest.raises(ApiError) as info:
        list(fetch(Query(), client(server, sleeps, max_retries=2)))
    msg = str(info.value)
    assert len(server.requests) == 3 and len(sleeps) == 2
    assert "failed after 3 attempts" in msg and "HTTP 503" in msg and "\n" not in msg

    server.failures = ["drop"] * 10
    with pytest.raises(ApiError, match="RemoteDisconnected"):
        list(fetch(Query(), client(server, [], max_retries=1)))


def test_rate_limit_spaces_requests(server: StudyServer) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    server.clock = lambda: now[0]

    def work(page: Page) -> None:  # the caller spends 0.5 s storing each page
        now[0] += 0.5

    c = Client(server.base_url, min_interval=1.2, sleep=sleep, clock=lambda: now[0], timeout=5)
    docs = list(fetch(Query(page_size=10), c, on_page=work))
    assert len(docs) == 36
    assert sleeps == pytest.approx([0.7, 0.7, 0.7])  # 1.2 s apart, less the time already spent
    gaps = [b - a for a, b in zip(server.times, server.times[1:], strict=False)]
    assert len(gaps) == 3 and all(g >= 1.2 - 1e-9 for g in gaps)
    assert Client().min_interval >= 1.2  # the default: at most ~50 requests a minute


def test_resume_from_saved_token(server: StudyServer) -> None:
    class Killed(Exception):
        pass

    saved: list[str | None] = []

    def persist_then_die(page: Page) -> None:
        saved.append(page.next_token)
        raise Killed

    q = Query(cond="TIGIT", page_size=10)
    first: list[StudyDoc | Rejected] = []
    with pytest.raises(Killed):
        for doc in fetch(q, client(server, []), on_page=persist_then_die):
            first.append(doc)
    assert len(first) == 10 and saved[0] is not None
    assert len(server.requests) == 1  # killed before asking for page 2

    rest = list(fetch(q, client(server, []), start_token=saved[0]))
    ids = [d.trial.nct_id for d in first + rest if isinstance(d, StudyDoc)]
    assert len(rest) == 26
    assert ids == [nct(s) for s in real_studies()] and len(set(ids)) == 36
    resumed = server.requests[1]
    assert resumed["pageToken"] == saved[0] and "countTotal" not in resumed


def test_malformed_study_rejected_the_rest_go_on(server: StudyServer) -> None:
    good = real_studies()
    broken = copy.deepcopy(good[0])
    broken["protocolSection"]["identificationModule"]["nctId"] = "NCT-BROKEN"
    server.studies = [*good[:2], broken, *good[2:9], "not a study", *good[9:]]
    seen: list[Page] = []
    out = list(fetch(Query(page_size=10), client(server, []), on_page=seen.append))
    rejected = [d for d in out if isinstance(d, Rejected)]
    assert len(out) == 38 and len(rejected) == 2
    assert sum(isinstance(d, StudyDoc) for d in out) == 36
    first, second = rejected
    assert first.file_name == "api:first page" and first.line == 3
    assert first.record_id == "NCT-BROKEN" and "nctId" in first.reason
    assert first.raw is not None and len(first.raw) == 2000
    assert second.file_name == f"api:{seen[1].token}" and second.line == 1
    assert second.record_id is None and second.raw == '"not a study"'


def test_retry_after_header_forms() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after("2") == 2.0
    assert retry_after(" 1.5 ") == 1.5
    assert retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None and retry_after("") is None
