"""The live openFDA connector: ``https://api.fda.gov/drug/label.json`` and ``drugsfda.json``.

A :class:`Query` names the endpoint (``label`` or ``drugsfda``), an openFDA ``search``
(``openfda.brand_name:"HUMIRA"``, ``effective_time:[20240101 TO 20241231]``; None: everything),
an optional ``sort`` and the page size (``limit``, at most 1,000). A :class:`Client` fetches one
page politely; :func:`pages` pages with ``skip``; :func:`results` yields every raw result dict
exactly once; :func:`fetch_labels` maps each label with ``openfda_labels.map_label`` into the
record shape of ``spl`` (``Record`` keyed by set id, or ``Rejected``).

The 26,000 cap. openFDA refuses ``skip`` above 25,000, so one search reaches at most
25,000 + ``limit`` results. :func:`plan` asks for a search's total (``meta.results.total``, with
``limit=1``) and, when it is above that, splits the search into parts that each fit, ANDing a
clause to it:

- labels: ``effective_time:[YYYYMMDD TO YYYYMMDD]`` ranges, bisected (from 1900-01-01 to
  2099-12-31) until each range fits; the parts are disjoint days, so no label comes twice;
- drugsfda: ``application_number:ANDA*``, ``BLA*``, ``NDA*`` (every Drugs@FDA application number
  starts with its type), then one more digit at a time (``ANDA07*``…) until each prefix fits.

The parts' totals must add up to the search's total: a label without an effective time, or an
application number of another type, would otherwise be missed silently, so a shortfall raises
:class:`OpenFdaError`. A single day with more than the cap (or a 10-character prefix) raises
too. Each probe is one request with ``limit=1``; each level of bisection costs two, so even
the whole label set takes a few dozen. (openFDA also offers ``search_after`` paging through
``Link`` headers; splitting keeps every request a plain, repeatable search.) Results are
deduplicated by ``id`` (labels) or ``application_number`` (drugsfda), in case the data changes
while a search is being paged; ``Client.duplicates`` counts what was dropped. Label records carry
no ``raw`` (a label's JSON is tens of kilobytes; ``results`` gives it as openFDA sent it). A
killed sync starts again: the store recognises unchanged labels by their content hash.

No matches. openFDA answers a search that finds nothing with HTTP 404 and ``{"error": {"code":
"NOT_FOUND", "message": "No matches found!"}}``: that is an empty result, not an error. Any other
404, and any other 4xx, raises at once.

Rate limits. Without an API key openFDA allows 240 requests a minute and 1,000 a day per IP
address; with one (``api_key=``, free at https://open.fda.gov/apis/authentication/) 120,000 a
day. The client waits at least ``min_interval`` seconds between requests (default 0.5 s, half
the per-minute allowance), backs off exponentially with full jitter on HTTP 429/5xx and
connection errors and honours ``Retry-After``. The key never appears in error messages.
"""

from __future__ import annotations

import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from http.client import HTTPException
from typing import Any

import orjson

from drugradar.sources import openfda_labels
from drugradar.sources.base import Record, Rejected
from drugradar.sources.ctgov_api import (
    RETRY_STATUSES,
    USER_AGENT,
    ApiError,
    PoliteClient,
)

JSON = dict[str, Any]

API_URL = "https://api.fda.gov"
ENDPOINTS = {"label": "drug/label.json", "drugsfda": "drug/drugsfda.json"}
ID_FIELDS = {"label": "id", "drugsfda": "application_number"}
MAX_LIMIT = 1000
MAX_SKIP = 25_000
LABEL_FIRST_DAY = date(1900, 1, 1)
LABEL_LAST_DAY = date(2099, 12, 31)
APPLICATION_TYPES = ("ANDA", "BLA", "NDA")
MAX_PREFIX = 10  # "ANDA" + six digits: a whole application number


class OpenFdaError(ApiError):
    """openFDA refused a request, kept failing, or a search cannot be split to fit its cap."""


@dataclass(frozen=True)
class Query:
    """A search of one openFDA endpoint; ``search`` None asks for every record.

    Write the search with spaces (``a:"x" AND b:[20200101 TO 20201231]``), not the ``+`` of
    openFDA's URL examples: the client encodes spaces as ``+`` itself.
    """

    endpoint: str = "label"
    search: str | None = None
    sort: str | None = None
    limit: int = MAX_LIMIT

    def __post_init__(self) -> None:
        if self.endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {sorted(ENDPOINTS)}: {self.endpoint!r}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}: {self.limit}")

    def params(self, search: str | None, skip: int = 0, limit: int | None = None) -> dict[str, str]:
        """The query string of one page of ``search`` (a part of this query's search)."""
        out: dict[str, str] = {}
        if search and search.strip():
            out["search"] = search.strip()
        if self.sort:
            out["sort"] = self.sort
        out["limit"] = str(limit or self.limit)
        if skip:
            out["skip"] = str(skip)
        return out


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_detail(body: bytes) -> tuple[str | None, str]:
    """``(code, message)`` of an openFDA error body (``{"error": {"code", "message"}}``)."""
    text = body.decode("utf-8", "replace")
    try:
        err = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None, _one_line(text)
    if isinstance(err, dict):
        code = err.get("code")
        msg = _one_line(str(err.get("message") or ""))
        return (str(code) if code else None), msg
    return None, _one_line(text)


def _no_matches(status: int, code: str | None, message: str) -> bool:
    return status == 404 and code == "NOT_FOUND" and "no matches" in message.lower()


class Client(PoliteClient):
    """Fetches pages of an openFDA endpoint: rate-limited, retried with backoff, errors as
    ``OpenFdaError``.

    At least ``min_interval`` seconds separate the start of two requests. On HTTP 429, 500,
    502, 503, 504, a dropped connection, a timeout or a body that is not JSON, a request is
    retried up to ``max_retries`` times, waiting ``Retry-After`` when sent (capped at
    ``max_backoff``), else ``uniform(0, min(max_backoff, backoff * 2**attempt))``. ``max_skip``
    is openFDA's skip cap (lower it only to test). ``sleep``, ``clock`` and ``rng`` are
    injectable so tests never wait.
    """

    def __init__(
        self,
        base_url: str = API_URL,
        *,
        api_key: str | None = None,
        max_retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        min_interval: float = 0.5,
        timeout: float = 60.0,
        max_skip: int = MAX_SKIP,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.min_interval = min_interval
        self.timeout = timeout
        self.max_skip = max_skip
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.user_agent = user_agent
        self._last_request: float | None = None
        self.requests = 0  # requests sent, retries included
        self.duplicates = 0  # results dropped by ``results`` as already yielded

    def url(self, endpoint: str, params: dict[str, str], *, redact: bool = False) -> str:
        query = dict(params)
        if self.api_key:
            query["api_key"] = "***" if redact else self.api_key
        text = urllib.parse.urlencode(query, safe=':[]*"()')
        return f"{self.base_url}/{ENDPOINTS[endpoint]}?{text}"

    def get(self, endpoint: str, params: dict[str, str]) -> JSON:
        """One page: ``{"meta": {"results": {"skip", "limit", "total"}}, "results": [...]}``
        (a search with no match: an empty page with total 0)."""
        url, shown = self.url(endpoint, params), self.url(endpoint, params, redact=True)
        last = ""
        for attempt in range(self.max_retries + 1):
            header: str | None = None
            try:
                body = self._request(url)
            except urllib.error.HTTPError as exc:
                status, reason = exc.code, exc.reason
                header = exc.headers.get("Retry-After") if exc.headers else None
                raw = b""
                try:
                    raw = exc.read()
                except (OSError, HTTPException):
                    pass
                finally:
                    exc.close()
                code, message = _error_detail(raw)
                if _no_matches(status, code, message):
                    return {"meta": {"results": {"skip": 0, "limit": 0, "total": 0}}, "results": []}
                if status not in RETRY_STATUSES:
                    said = ": ".join(x for x in (code, message.rstrip(".")) if x)
                    raise OpenFdaError(
                        f"openFDA answered HTTP {status} {reason} for {shown}"
                        + (f": {said}." if said else "."),
                        url=shown,
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
                    if not isinstance(data, dict) or not isinstance(data.get("results", []), list):
                        raise OpenFdaError(
                            f"openFDA answered {shown} with JSON that is not a page of results.",
                            url=shown,
                        )
                    return data
            if attempt < self.max_retries:
                self.sleep(self._delay(attempt, header))
        raise OpenFdaError(
            f"openFDA request failed after {self.max_retries + 1} attempts "
            f"(last: {last.rstrip('.')}) for {shown}.",
            url=shown,
        )


def page_total(page: JSON) -> int:
    """``meta.results.total`` of a page (0 when absent)."""
    meta = page.get("meta")
    res = meta.get("results") if isinstance(meta, dict) else None
    total = res.get("total") if isinstance(res, dict) else None
    return total if isinstance(total, int) else 0


# ---------------------------------------------------------------- splitting


@dataclass(frozen=True)
class Part:
    """One search that fits under the skip cap, and how many results it has."""

    search: str | None
    total: int


def _and(base: str | None, clause: str) -> str:
    return f"({base.strip()}) AND {clause}" if base and base.strip() else clause


def count(query: Query, client: Client, search: str | None) -> int:
    """How many results ``search`` has (one request, ``limit=1``)."""
    return page_total(client.get(query.endpoint, query.params(search, limit=1)))


def _date_parts(query: Query, client: Client, lo: date, hi: date, window: int) -> list[Part]:
    search = _and(query.search, f"effective_time:[{lo:%Y%m%d} TO {hi:%Y%m%d}]")
    total = count(query, client, search)
    if total <= window:
        return [Part(search, total)] if total else []
    if lo == hi:
        raise OpenFdaError(
            f"openFDA has {total} labels with effective time {lo:%Y%m%d} for this search, more "
            f"than the {window} one search can page through; narrow the search.",
            url=client.url(query.endpoint, query.params(search), redact=True),
        )
    mid = lo + timedelta(days=(hi - lo).days // 2)
    return _date_parts(query, client, lo, mid, window) + _date_parts(
        query, client, mid + timedelta(days=1), hi, window
    )


def _prefix_parts(query: Query, client: Client, prefix: str, window: int) -> list[Part]:
    search = _and(query.search, f"application_number:{prefix}*")
    total = count(query, client, search)
    if total <= window:
        return [Part(search, total)] if total else []
    if len(prefix) >= MAX_PREFIX:
        raise OpenFdaError(
            f"openFDA has {total} applications numbered {prefix}* for this search, more than "
            f"the {window} one search can page through.",
            url=client.url(query.endpoint, query.params(search), redact=True),
        )
    return [p for d in "0123456789" for p in _prefix_parts(query, client, prefix + d, window)]


def plan(query: Query, client: Client) -> list[Part]:
    """The searches to page through: the query's own when it fits under the skip cap, else the
    parts it splits into (effective-time ranges for labels, application number prefixes for
    drugsfda), whose totals add up to the query's."""
    window = client.max_skip + query.limit
    total = count(query, client, query.search)
    if total <= window:
        return [Part(query.search, total)] if total else []
    if query.endpoint == "label":
        parts = _date_parts(query, client, LABEL_FIRST_DAY, LABEL_LAST_DAY, window)
        how = "effective time"
    else:
        parts = [p for t in APPLICATION_TYPES for p in _prefix_parts(query, client, t, window)]
        how = "application number"
    covered = sum(p.total for p in parts)
    if covered < total:
        raise OpenFdaError(
            f"splitting the search by {how} reaches {covered} of its {total} results; the "
            f"other {total - covered} cannot be paged through under openFDA's skip cap.",
            url=client.url(query.endpoint, query.params(query.search), redact=True),
        )
    return parts


# ---------------------------------------------------------------- paging


@dataclass
class Page:
    """One page of a part's results, fetched with ``skip``."""

    search: str | None
    skip: int
    results: list[Any]
    total: int


def pages(query: Query, client: Client, parts: list[Part] | None = None) -> Iterator[Page]:
    """Every page of every part of the query (``plan`` unless ``parts`` are given)."""
    for part in plan(query, client) if parts is None else parts:
        skip = 0
        while True:
            if skip > client.max_skip:
                raise OpenFdaError(
                    f"the search {part.search!r} grew past openFDA's skip cap while being "
                    "paged; run the sync again.",
                    url=client.url(query.endpoint, query.params(part.search, skip), redact=True),
                )
            data = client.get(query.endpoint, query.params(part.search, skip))
            found = list(data.get("results") or [])
            total = page_total(data)
            yield Page(part.search, skip, found, total)
            skip += len(found)
            if len(found) < query.limit or skip >= total:
                break


def _unique(
    query: Query, client: Client, parts: list[Part] | None
) -> Iterator[tuple[Page, int, Any]]:
    """``(page, position in it, result)`` for each result not already yielded (by id)."""
    key = ID_FIELDS[query.endpoint]
    seen: set[str] = set()
    for page in pages(query, client, parts):
        for n, result in enumerate(page.results, start=1):
            ident = result.get(key) if isinstance(result, dict) else None
            if isinstance(ident, str):
                if ident in seen:
                    client.duplicates += 1
                    continue
                seen.add(ident)
            yield page, n, result


def results(query: Query, client: Client, parts: list[Part] | None = None) -> Iterator[Any]:
    """Every result of the query once, as openFDA wrote it (a dict per label/application);
    ``parts``: the query's ``plan`` when already made."""
    for _, _, result in _unique(query, client, parts):
        yield result


def fetch_labels(
    query: Query, client: Client, parts: list[Part] | None = None
) -> Iterator[Record | Rejected]:
    """Every label the query finds as a label ``Record`` (source ``openfda``, ``record_id`` =
    set id, ``as_of`` = effective date) or ``Rejected`` (file ``api:label search=… skip=…``,
    line = position in that page)."""
    if query.endpoint != "label":
        raise ValueError(f"fetch_labels reads the label endpoint, not {query.endpoint!r}")
    for page, n, result in _unique(query, client, parts):
        where = f"api:label search={page.search or '*'} skip={page.skip}"
        yield openfda_labels.label_record(result, where, n, source="openfda")
