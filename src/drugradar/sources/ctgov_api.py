"""The live ClinicalTrials.gov API v2 connector: ``GET https://clinicaltrials.gov/api/v2/studies``.

A :class:`Query` says what to ask for, a :class:`Client` fetches one page politely, :func:`pages`
follows ``nextPageToken`` and :func:`fetch` maps every study with ``ctgov_v2.parse_study``,
yielding ``StudyDoc`` or ``Rejected`` exactly like the file readers do.

Rate limits. ClinicalTrials.gov asks clients to stay around 50 requests per minute per IP address
and answers HTTP 429 beyond that. The client therefore waits at least ``min_interval`` seconds
between two requests (default 1.2 s, i.e. at most 50 a minute), backs off exponentially with full
jitter on 429/5xx and on connection errors, and honours ``Retry-After``. With ``page_size=1000``
(the API's maximum) a full sync of the ~550,000 registered studies is ~550 requests, about 11
minutes of waiting between pages.

Resuming. ``fetch(..., on_page=...)`` hands each finished page to the caller, whose
``page.next_token`` can be stored; ``fetch(..., start_token=token)`` goes on from there after a
killed sync. A page token is only valid with the same query parameters, and for a limited time.

Daily churn. ``derivedSection.miscInfoModule.versionHolder`` is the date of the data snapshot the
API serves: it changes every day for every study, so the raw JSON of an unchanged study differs
from one day to the next. Compare studies without it (or by ``lastUpdatePostDate``), never by the
raw text alone.
"""

from __future__ import annotations

import gzip
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Any

import orjson

from drugradar.sources import ctgov_v2
from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import StudyDoc

JSON = dict[str, Any]

API_URL = "https://clinicaltrials.gov/api/v2"
MAX_PAGE_SIZE = 1000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "drugradar/0.1 (+open drug R&D intelligence)"


class ApiError(Exception):
    """The API refused a request, or kept failing after every retry; the message is one sentence."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass
class Query:
    """A search of ``/studies``: the ``query.*`` and ``filter.*`` parameters and the page size.

    ``status`` holds API v2 overall statuses (``RECRUITING``, ``COMPLETED``…); ``updated_since``
    keeps studies whose last update was posted on or after that day.
    """

    cond: str | None = None
    intr: str | None = None
    spons: str | None = None
    term: str | None = None
    status: list[str] = field(default_factory=list)
    updated_since: date | None = None
    page_size: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}: {self.page_size}")

    def params(self, page_token: str | None = None) -> dict[str, str]:
        """The query string of one page; the first page (no token) also asks for the total."""
        out = {"format": "json"}
        for key, value in (
            ("query.cond", self.cond),
            ("query.intr", self.intr),
            ("query.spons", self.spons),
            ("query.term", self.term),
        ):
            if value and value.strip():
                out[key] = value.strip()
        statuses = [s.strip() for s in self.status if s.strip()]
        if statuses:
            out["filter.overallStatus"] = ",".join(statuses)
        if self.updated_since is not None:
            since = self.updated_since.isoformat()
            out["filter.advanced"] = f"AREA[LastUpdatePostDate]RANGE[{since},MAX]"
        out["pageSize"] = str(self.page_size)
        if page_token is None:
            out["countTotal"] = "true"
        else:
            out["pageToken"] = page_token
        return out


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class PoliteClient:
    """What the live connectors share: at least ``min_interval`` seconds between two requests,
    jittered exponential backoff capped at ``max_backoff`` (or the server's ``Retry-After``), and
    one gzip-aware GET. Subclasses set the attributes in their ``__init__``."""

    min_interval: float
    max_backoff: float
    backoff: float
    timeout: float
    user_agent: str
    requests: int
    rng: random.Random
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    _last_request: float | None

    def _wait_turn(self) -> None:
        if self._last_request is not None and self.min_interval > 0:
            wait = self.min_interval - (self.clock() - self._last_request)
            if wait > 0:
                self.sleep(wait)
        self._last_request = self.clock()

    def _delay(self, attempt: int, header: str | None) -> float:
        told = retry_after(header)
        if told is not None:
            return min(self.max_backoff, told)
        return self.rng.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))

    def _request(self, url: str) -> bytes:
        req = urllib.request.Request(
            url,
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
                "User-Agent": self.user_agent,
            },
        )
        self._wait_turn()
        self.requests += 1
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            body: bytes = resp.read()
            if resp.headers.get("Content-Encoding", "").lower() == "gzip":
                body = gzip.decompress(body)
            return body


class Client(PoliteClient):
    """Fetches pages of ``/studies``: rate-limited, retried with backoff, errors as ApiError.

    At least ``min_interval`` seconds separate the start of two requests (default 1.2 s: the
    ~50 requests a minute ClinicalTrials.gov asks for). On HTTP 429, 500, 502, 503, 504, on a
    dropped connection, a timeout or a truncated body, the request is retried up to
    ``max_retries`` times, waiting ``Retry-After`` when the server sends one (capped at
    ``max_backoff``), else ``uniform(0, min(max_backoff, backoff * 2**attempt))``. Any other 4xx
    raises at once. ``sleep``, ``clock`` and ``rng`` are injectable so tests never wait.
    """

    def __init__(
        self,
        base_url: str = API_URL,
        *,
        max_retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        min_interval: float = 1.2,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.min_interval = min_interval
        self.timeout = timeout
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.user_agent = user_agent
        self._last_request: float | None = None
        self.requests = 0  # requests sent, retries included

    def url(self, query: Query, page_token: str | None = None) -> str:
        return f"{self.base_url}/studies?{urllib.parse.urlencode(query.params(page_token))}"

    def get_page(self, query: Query, page_token: str | None = None) -> JSON:
        """One page of ``/studies`` as JSON: ``studies``, ``nextPageToken``, ``totalCount``."""
        url = self.url(query, page_token)
        last = ""
        for attempt in range(self.max_retries + 1):
            header: str | None = None
            try:
                body = self._request(url)
            except urllib.error.HTTPError as exc:
                status, reason = exc.code, exc.reason
                header = exc.headers.get("Retry-After") if exc.headers else None
                detail = ""
                try:
                    detail = _one_line(exc.read().decode("utf-8", "replace"))
                except (OSError, HTTPException):
                    pass
                finally:
                    exc.close()
                if status not in RETRY_STATUSES:
                    said = f": {detail.rstrip('.')}" if detail else ""
                    raise ApiError(
                        f"ClinicalTrials.gov API answered HTTP {status} {reason} for {url}{said}.",
                        url=url,
                        status=status,
                    ) from None
                last = f"HTTP {status} {reason}"
            except (OSError, HTTPException) as exc:  # URLError, reset, refused, timeout, cut body
                err = exc.reason if isinstance(exc, urllib.error.URLError) else exc
                text = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
                last = _one_line(text.rstrip(": "))
            else:
                try:
                    data = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    last = _one_line(f"a body that is not JSON ({exc})")
                else:
                    if not isinstance(data, dict) or not isinstance(data.get("studies", []), list):
                        raise ApiError(
                            f"ClinicalTrials.gov API answered {url} with JSON that is not a page "
                            "of studies.",
                            url=url,
                        )
                    return data
            if attempt < self.max_retries:
                self.sleep(self._delay(attempt, header))
        raise ApiError(
            f"ClinicalTrials.gov API request failed after {self.max_retries + 1} attempts "
            f"(last: {last.rstrip('.')}) for {url}.",
            url=url,
        )


@dataclass
class Page:
    """One page of studies; ``token`` fetched it, ``next_token`` fetches the next (None: done)."""

    studies: list[JSON]
    next_token: str | None
    token: str | None
    total: int | None


def pages(query: Query, client: Client, start_token: str | None = None) -> Iterator[Page]:
    """Every page of the query, following ``nextPageToken`` until the API stops giving one."""
    token = start_token
    while True:
        data = client.get_page(query, token)
        nxt = data.get("nextPageToken") or None
        total = data.get("totalCount")
        yield Page(
            studies=list(data.get("studies") or []),
            next_token=str(nxt) if nxt is not None else None,
            token=token,
            total=total if isinstance(total, int) else None,
        )
        if nxt is None:
            return
        if nxt == token:
            raise ApiError(
                f"ClinicalTrials.gov API gave page token {token} as its own next page.",
                url=client.url(query, token),
            )
        token = str(nxt)


def _study_doc(study: Any, page: Page, n: int) -> StudyDoc | Rejected:
    raw = orjson.dumps(study).decode()
    try:
        trial = ctgov_v2.parse_study(study, "api")
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        ident = study.get("protocolSection") if isinstance(study, dict) else None
        ident = ident.get("identificationModule") if isinstance(ident, dict) else None
        nct = ident.get("nctId") if isinstance(ident, dict) else None
        return Rejected(
            f"api:{page.token or 'first page'}",
            n,
            f"study could not be read: {exc}",
            record_id=nct if isinstance(nct, str) else None,
            raw=raw[:2000],
        )
    return StudyDoc(trial, raw, "api", datetime.now(UTC).date())


def fetch(
    query: Query,
    client: Client,
    *,
    start_token: str | None = None,
    on_page: Callable[[Page], None] | None = None,
) -> Iterator[StudyDoc | Rejected]:
    """Every study the query finds, as ``StudyDoc`` (origin ``api``, as of today UTC) or Rejected.

    ``on_page(page)`` runs once all of a page's studies have been yielded and before the next
    page is requested: store ``page.next_token`` there to resume with ``start_token`` later.
    """
    for page in pages(query, client, start_token):
        for n, study in enumerate(page.studies, start=1):
            yield _study_doc(study, page, n)
        if on_page is not None:
            on_page(page)
