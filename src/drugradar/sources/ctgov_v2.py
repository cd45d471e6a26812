"""ClinicalTrials.gov API v2 study JSON: one study, an array ("Download JSON"), an API page
(``{"studies": [...]}``), or JSON Lines — plain or compressed (.xz, .gz, .bz2), streamed.

JSON Lines may hold the TIGIT watch list's version wrappers (``nct_id``, ``seen_dates``,
``study``): the snapshot of day D is every version seen on day D (UTC); without a date, the latest
version of each study.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from drugradar.model.trial import ArmGroup, Intervention, Mesh, Party, Site, Trial, TrialDate
from drugradar.sources import ctgov_common as cg
from drugradar.sources.base import Rejected

JSON = dict[str, Any]


def _open(path: Path) -> IO[bytes]:
    opener = {".xz": lzma.open, ".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix)
    return opener(path, "rb") if opener else path.open("rb")  # type: ignore[operator]


def _get(obj: JSON | None, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _date(struct: JSON | None) -> TrialDate | None:
    if not isinstance(struct, dict) or not struct.get("date"):
        return None
    return TrialDate(str(struct["date"]), struct.get("type"))


def _text(value: Any) -> str | None:
    return " ".join(str(value).split()) if value not in (None, "") else None


def parse_study(study: JSON, origin: str = "") -> Trial:
    """Map one API v2 study onto a Trial; ``ValueError`` names the field when it cannot."""
    if not isinstance(study, dict) or "protocolSection" not in study:
        raise ValueError("not an API v2 study: no protocolSection")
    ps = study["protocolSection"]
    nct = _get(ps, "identificationModule", "nctId")
    if not isinstance(nct, str) or not cg.NCT_ID.match(nct):
        raise ValueError(f"identificationModule.nctId is missing or malformed: {nct!r}")
    t = Trial(nct_id=nct, source_format="v2-json")
    ident, st = ps.get("identificationModule", {}), ps.get("statusModule", {}) or {}
    design = ps.get("designModule", {}) or {}
    t.brief_title = _text(ident.get("briefTitle"))
    t.official_title = _text(ident.get("officialTitle"))
    t.acronym = _text(ident.get("acronym"))
    t.study_type = cg.study_type(design.get("studyType"), t)
    t.phases = cg.phases(list(design.get("phases") or []), t)
    t.overall_status = cg.status(st.get("overallStatus"), t)
    t.why_stopped = _text(st.get("whyStopped"))
    t.start_date = _date(st.get("startDateStruct"))
    t.primary_completion_date = _date(st.get("primaryCompletionDateStruct"))
    t.completion_date = _date(st.get("completionDateStruct"))
    t.first_posted = _get(st, "studyFirstPostDateStruct", "date")
    t.results_first_posted = _get(st, "resultsFirstPostDateStruct", "date")
    t.last_update_posted = _get(st, "lastUpdatePostDateStruct", "date")
    enrol = design.get("enrollmentInfo") or {}
    if isinstance(enrol.get("count"), int):
        t.enrollment = enrol["count"]
    t.enrollment_type = enrol.get("type")
    cond = ps.get("conditionsModule") or {}
    t.conditions = [c for c in (_text(x) for x in cond.get("conditions") or []) if c]
    t.keywords = [k for k in (_text(x) for x in cond.get("keywords") or []) if k]
    browse = _get(study, "derivedSection", "conditionBrowseModule") or {}
    t.condition_meshes = [
        Mesh(m.get("id"), m["term"]) for m in browse.get("meshes") or [] if m.get("term")
    ]
    t.condition_ancestors = [
        Mesh(m.get("id"), m["term"]) for m in browse.get("ancestors") or [] if m.get("term")
    ]
    arms = ps.get("armsInterventionsModule") or {}
    for iv in arms.get("interventions") or []:
        name = _text(iv.get("name"))
        if not name:
            t.unknown_values.append("intervention without a name")
            continue
        t.interventions.append(
            Intervention(
                type=cg.intervention_type(iv.get("type"), t),
                name=name,
                other_names=[n for n in (_text(x) for x in iv.get("otherNames") or []) if n],
                arm_groups=[a for a in (_text(x) for x in iv.get("armGroupLabels") or []) if a],
                description=_text(iv.get("description")),
            )
        )
    for ag in arms.get("armGroups") or []:
        label = _text(ag.get("label"))
        if label:
            t.arm_groups.append(
                ArmGroup(
                    label,
                    cg.arm_type(ag.get("type"), t),
                    [n for n in (_text(x) for x in ag.get("interventionNames") or []) if n],
                )
            )
    spons = ps.get("sponsorCollaboratorsModule") or {}
    lead = spons.get("leadSponsor") or {}
    if _text(lead.get("name")):
        t.sponsor = Party(_text(lead["name"]) or "", cg.sponsor_class(lead.get("class"), t))
    t.collaborators = [
        Party(_text(c["name"]) or "", cg.sponsor_class(c.get("class"), t))
        for c in spons.get("collaborators") or []
        if _text(c.get("name"))
    ]
    for loc in _get(ps, "contactsLocationsModule", "locations") or []:
        site = Site(
            _text(loc.get("facility")),
            _text(loc.get("city")),
            _text(loc.get("state")),
            _text(loc.get("country")),
            loc.get("status"),
        )
        t.sites.append(site)
        if site.country and site.country not in t.countries:
            t.countries.append(site.country)
    t.countries.sort()  # the order of sites means nothing; XML lists countries sorted
    t.has_results = bool(study.get("hasResults"))
    return t


def _utc(stamp: str) -> datetime:
    """A snapshot time such as ``2026-02-05T17:04:54+09:00`` in UTC (one without a zone is taken
    as UTC); ``ValueError`` or ``TypeError`` when it is not a time."""
    t = datetime.fromisoformat(stamp)
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _seen_day(stamp: str) -> date:
    """The UTC calendar day of a snapshot time."""
    return _utc(stamp).date()


def _stamps(head: JSON) -> list[datetime]:
    """A wrapper's snapshot times (``_utc``)."""
    seen = head["seen_dates"]
    if not isinstance(seen, list):
        raise TypeError(f"a list of times was expected, not {type(seen).__name__}")
    return [_utc(s) for s in seen]


def snapshot_days(path: Path) -> list[date]:
    """The days for which a version-wrapper JSONL file holds a snapshot."""
    days: set[date] = set()
    with _open(path) as fh:
        for line in fh:
            if line.strip():
                head = _wrapper_head(line)
                try:
                    obj = head if head is not None else orjson.loads(line)
                    days.update(t.date() for t in _stamps(obj))
                except (TypeError, ValueError, KeyError, AttributeError):
                    continue  # not a version wrapper, or no times: read() reports it
    return sorted(days)


_STUDY_KEY = b'"study":'


def _wrapper_head(line: bytes) -> JSON | None:
    """A version wrapper's fields before its ``study`` (id, seen dates), without parsing the
    study: most versions of a series are not the snapshot asked for, and a study is ~35 KB of
    JSON. ``None`` when the line is not laid out that way (then it is parsed whole)."""
    at = line.find(_STUDY_KEY)
    if at <= 0:
        return None
    try:
        head = orjson.loads(line[:at].rstrip().rstrip(b",") + b"}")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict) or "seen_dates" not in head or "study" in head:
        return None
    return head


@dataclass(frozen=True, slots=True)
class _Wrapper:
    """A version wrapper read up to its study; the line is parsed whole only if chosen."""

    head: JSON
    line: bytes


def _documents(path: Path) -> Iterator[tuple[int, Any, str]]:
    """``(position, parsed object or exception, raw text)`` for each record of the file."""
    name = path.name
    is_lines = ".jsonl" in name or ".ndjson" in name
    with _open(path) as fh:
        if is_lines:
            for n, line in enumerate(fh, start=1):
                if line.strip():
                    head = _wrapper_head(line)
                    if head is not None:
                        yield n, _Wrapper(head, line), ""
                        continue
                    try:
                        yield n, orjson.loads(line), ""
                    except orjson.JSONDecodeError as exc:
                        yield n, exc, line.decode("utf-8", "replace")
            return
        data = fh.read()
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        yield 1, exc, data[:2000].decode("utf-8", "replace")
        return
    if isinstance(obj, list):
        items = obj
    elif isinstance(obj, dict) and isinstance(obj.get("studies"), list):
        items = obj["studies"]  # one page of the API
    else:
        items = [obj]
    for n, item in enumerate(items, start=1):
        yield n, item, ""


def _is_version(obj: Any) -> bool:
    """A version wrapper (read up to its study, or parsed whole), not a bare study."""
    return isinstance(obj, _Wrapper) or (
        isinstance(obj, dict) and "study" in obj and "seen_dates" in obj
    )


@dataclass(frozen=True, slots=True)
class NotGrouped:
    """Handed out (and nothing after it) by ``read(..., grouped=True)`` when the versions of a
    study are not consecutive in the file: a version newer than the one already handed out
    comes after other studies. The caller starts again with ``grouped=False``."""

    file_name: str
    nct_id: str
    line: int


def read(
    paths: Sequence[Path], as_of: date | None = None, *, grouped: bool = False
) -> Iterator[cg.StudyDoc | Rejected | NotGrouped]:
    """Every study in the files; for version wrappers, the snapshot of ``as_of`` (or the latest).

    Which version of a study is chosen is known only when no later line holds another one, so
    by default the chosen versions are handed out at the end of each file. ``grouped``: the
    file is taken to hold each study's versions on consecutive lines (the TIGIT series does), so
    a study is handed out as soon as the next study starts and the loader works beside the
    reader; a file that turns out otherwise ends with ``NotGrouped``, unless the later version
    would not have been chosen anyway."""
    for path in paths:
        latest: dict[str, tuple[datetime, int, Any]] = {}
        handed: dict[str, datetime] = {}  # grouped: studies handed out, with the time chosen
        current: str | None = None
        for n, obj, raw in _documents(path):
            if isinstance(obj, Exception):
                yield Rejected(path.name, n, f"not valid JSON: {obj}", raw=raw)
                continue
            head = obj.head if isinstance(obj, _Wrapper) else obj
            if not _is_version(obj):
                yield _doc(obj, path.name, n, as_of)
                continue
            key = head.get("nct_id") or ""
            if grouped and key != current:
                if current is not None and current in latest:
                    stamp, at, chosen = latest.pop(current)
                    handed[current] = stamp
                    yield _version_doc(chosen, path.name, at, stamp.date())
                current = key
            try:
                seen = [s for s in _stamps(head) if as_of is None or s.date() == as_of]
            except (TypeError, ValueError) as exc:
                yield Rejected(path.name, n, f"seen_dates: {exc}", record_id=str(key) or None)
                continue
            if not seen:
                continue
            stamp = max(seen)
            if key in handed:
                if stamp > handed[key]:
                    yield NotGrouped(path.name, key, n)
                    return
                continue
            prev = latest.get(key)
            if prev is None or stamp > prev[0]:
                latest[key] = (stamp, n, obj)
        for stamp, n, chosen in latest.values():
            yield _version_doc(chosen, path.name, n, stamp.date())


def read_series(paths: Sequence[Path], days: Sequence[date]) -> Iterator[cg.StudyDoc | Rejected]:
    """The snapshot of each of ``days`` in turn (what ``read(paths, day)`` gives for each), from
    one pass over the files: a version seen on several days is parsed once (its docs share one
    Trial), where reading per day would decompress and scan the whole series every day."""
    wanted = set(days)
    for path in paths:
        chosen: dict[date, dict[str, tuple[datetime, int]]] = {d: {} for d in sorted(wanted)}
        versions: dict[int, Any] = {}
        for n, obj, raw in _documents(path):
            if isinstance(obj, Exception):
                yield Rejected(path.name, n, f"not valid JSON: {obj}", raw=raw)
                continue
            head = obj.head if isinstance(obj, _Wrapper) else obj
            if not _is_version(obj):
                continue  # a bare study has no snapshot days: not part of a series
            key = head.get("nct_id") or ""
            try:
                stamps = _stamps(head)
            except (TypeError, ValueError) as exc:
                yield Rejected(path.name, n, f"seen_dates: {exc}", record_id=str(key) or None)
                continue
            for stamp in stamps:
                day = stamp.date()
                if day not in wanted:
                    continue
                prev = chosen[day].get(key)
                if prev is None or stamp > prev[0]:
                    chosen[day][key] = (stamp, n)
                    versions[n] = obj
        docs: dict[int, cg.StudyDoc | Rejected] = {}
        for day, studies in chosen.items():
            for _stamp, n in studies.values():
                if n not in docs:
                    docs[n] = _version_doc(versions[n], path.name, n)
                doc = docs[n]
                yield doc if isinstance(doc, Rejected) else replace(doc, as_of=day)


def _version_doc(
    obj: Any, origin: str, n: int, as_of: date | None = None
) -> cg.StudyDoc | Rejected:
    """A chosen version of a study, parsed whole only now."""
    if isinstance(obj, _Wrapper):
        try:
            obj = orjson.loads(obj.line)
        except orjson.JSONDecodeError as exc:
            raw = obj.line.decode("utf-8", "replace")[:2000]
            return Rejected(origin, n, f"not valid JSON: {exc}", raw=raw)
    return _doc(obj["study"], origin, n, as_of)


def _doc(study: Any, origin: str, n: int, as_of: date | None) -> cg.StudyDoc | Rejected:
    raw = orjson.dumps(study).decode()
    try:
        trial = parse_study(study, origin)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        nct = _get(study, "protocolSection", "identificationModule", "nctId")
        return Rejected(
            origin,
            n,
            f"study could not be read: {exc}",
            record_id=nct if isinstance(nct, str) else None,
            raw=raw[:2000],
        )
    return cg.StudyDoc(trial, raw, origin, as_of)
