"""ClinicalTrials.gov classic search export: the 27-column TSV of the pre-2023 website.

Daily downloads of one query (e.g. every COVID-19 trial, one file a day) are a registry history
that exists in no other form, so they are read onto the same ``Trial`` as API v2 JSON and legacy
XML, each row dated by its file's name (``clinicalTrials-20200729.tsv`` -> 2020-07-29). A bad row
is ``Rejected`` (file, line, reason) and the rest of the file goes on.

What the format does not carry is left empty: official title, date and enrollment types
(ACTUAL/ESTIMATED), MeSH terms, arm groups, site statuses, and a collaborator's agency class
unless every party shares the one class "Funded Bys" lists.
"""

from __future__ import annotations

import csv
import functools
import re
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from drugradar.model.trial import Intervention, Party, Site, Trial, TrialDate
from drugradar.sources.base import Rejected
from drugradar.sources.ctgov_common import (
    ARCHIVE_SUFFIXES as _ARCHIVE_SUFFIXES,
)
from drugradar.sources.ctgov_common import (
    NCT_ID,
    StudyDoc,
    date_text,
    intervention_type,
    phases,
    sponsor_class,
    status,
    study_type,
)

SOURCE_FORMAT = "tsv"
RAW_LIMIT = 2000  # characters of a rejected row kept for the quarantine table
_NCT_COLUMN = "nct number"
_NCT_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])NCT\d{8}(?!\d)")
# 20200729 or 2020-07-29, not part of a longer number.
_FILE_DATE = re.compile(r"(?<!\d)(\d{4})(-?)(\d{2})\2(\d{2})(?!\d)")
# The registry writes some country names with a comma: "Korea, Republic of",
# "Congo, The Democratic Republic of the", "Palestinian Territory, occupied".
_COUNTRY_TAIL = re.compile(r"(?:\bof(?: the)?|^occupied)$", re.IGNORECASE)


class RowError(ValueError):
    """A row that cannot be a trial; ``field`` and ``record_id`` go to the quarantine row."""

    def __init__(self, message: str, field: str | None = None, record_id: str | None = None):
        super().__init__(message)
        self.field = field
        self.record_id = record_id


def _column_key(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").split()).lower()


@functools.lru_cache(maxsize=64)
def _columns(header: tuple[str, ...]) -> dict[str, int]:
    """Column name (normalised) -> index; the first of repeated names wins. Cached: one header
    serves a whole file."""
    out: dict[str, int] = {}
    for i, name in enumerate(header):
        out.setdefault(_column_key(name), i)
    return out


# Dates repeat across rows and days; strptime is most of a row's parse time without the cache.
_date_text = functools.lru_cache(maxsize=65536)(date_text)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _split(value: str | None) -> list[str]:
    """``'a|b||a'`` -> ``['a', 'b']``: a multi-value cell, blanks and repeats dropped."""
    if value is None:
        return []
    return list(dict.fromkeys(p.strip() for p in value.split("|") if p.strip()))


def _date(value: str | None, field_name: str, trial: Trial) -> TrialDate | None:
    """The export drops the Actual/Anticipated word, so the type is ``None``."""
    iso = _posted(value, field_name, trial)
    return None if iso is None else TrialDate(iso, None)


def _posted(value: str | None, field_name: str, trial: Trial) -> str | None:
    if value is None:
        return None
    iso = _date_text(value)
    if iso is None:
        trial.unknown_values.append(f"{field_name}: {value}")
    return iso


def _intervention(text: str, trial: Trial) -> Intervention:
    """``'Drug: Deferoxamine'`` -> DRUG, ``Deferoxamine``; no ``'Type: '`` prefix -> type None."""
    word, sep, name = text.partition(":")
    if not sep or not name.strip():
        return Intervention(None, text)
    return Intervention(intervention_type(word, trial), name.strip())


def _parties(names: list[str], funded_bys: list[str], trial: Trial) -> list[Party]:
    """Sponsor first, then collaborators. "Funded Bys" is the set of their agency classes, not one
    per party, so a class is given only when there is a single one (then every party has it)."""
    cls = sponsor_class(funded_bys[0], trial) if len(funded_bys) == 1 else None
    return [Party(name, cls) for name in names]


def _site(text: str) -> Site:
    """``'Facility, City, State, Country'``; state and facility may be missing.

    Commas are also inside facility names, so facility/city/state is a best guess when the cell
    has more than three parts before the country; the country (the last part, or the last two
    for names such as "Korea, Republic of") is exact.
    """
    parts = [p.strip() for p in text.split(",") if p.strip()]
    country = parts.pop() if parts else None
    if parts and country is not None and _COUNTRY_TAIL.search(country):
        country = f"{parts.pop()}, {country}"
    facility = city = state = None
    if len(parts) >= 3:
        facility, city, state = ", ".join(parts[:-2]), parts[-2], parts[-1]
    elif len(parts) == 2:
        facility, city = parts
    elif parts:
        city = parts[0]
    return Site(facility=facility, city=city, state=state, country=country)


def parse_row(fields: list[str], header: list[str], origin: str) -> Trial:
    """One export row as a ``Trial``; columns are found by header name (any case, any order).

    ``origin`` only names the row in errors. Raises ``RowError`` (a ``ValueError``) when the row
    does not match the header or has no usable NCT Number.
    """
    if len(fields) != len(header):
        nct = next((m.group(0) for f in fields if (m := _NCT_IN_TEXT.fullmatch(f.strip()))), None)
        raise RowError(
            f"{origin}: the row has {len(fields)} fields, the header has {len(header)}",
            record_id=nct,
        )
    columns = _columns(tuple(header))

    def get(column: str) -> str | None:
        i = columns.get(column)
        return None if i is None else _clean(fields[i])

    nct = get(_NCT_COLUMN)
    if nct is None:
        raise RowError(f"{origin}: the row has no NCT Number", field="NCT Number")
    if not NCT_ID.match(nct):
        raise RowError(f"{origin}: malformed NCT Number {nct!r}", field="NCT Number", record_id=nct)
    t = Trial(nct_id=nct, source_format=SOURCE_FORMAT)
    t.brief_title = get("title")
    t.acronym = get("acronym")
    t.overall_status = status(get("status"), t)
    results = get("study results")
    if results is not None:
        t.has_results = results.lower() == "has results"
        if not t.has_results and results.lower() != "no results available":
            t.unknown_values.append(f"study_results: {results}")
    t.conditions = _split(get("conditions"))
    t.interventions = [_intervention(text, t) for text in _split(get("interventions"))]
    parties = _parties(_split(get("sponsor/collaborators")), _split(get("funded bys")), t)
    t.sponsor = parties[0] if parties else None
    t.collaborators = parties[1:]
    t.phases = phases(get("phases"), t)
    enrollment = get("enrollment")
    if enrollment is not None:
        if enrollment.isdigit():
            t.enrollment = int(enrollment)
        else:
            t.unknown_values.append(f"enrollment: {enrollment}")
    t.study_type = study_type(get("study type"), t)
    t.start_date = _date(get("start date"), "start_date", t)
    t.primary_completion_date = _date(get("primary completion date"), "primary_completion_date", t)
    t.completion_date = _date(get("completion date"), "completion_date", t)
    t.first_posted = _posted(get("first posted"), "first_posted", t)
    t.results_first_posted = _posted(get("results first posted"), "results_first_posted", t)
    t.last_update_posted = _posted(get("last update posted"), "last_update_posted", t)
    t.sites = [_site(text) for text in _split(get("locations"))]
    t.countries = sorted({s.country for s in t.sites if s.country})  # order means nothing
    return t


def file_date(name: str) -> date | None:
    """``'clinicalTrials/clinicalTrials-20200729.tsv'`` -> 2020-07-29: the day of the download."""
    m = _FILE_DATE.search(name.rsplit("/", 1)[-1])
    if m is None:
        return None
    try:
        return date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return None


@dataclass(slots=True)
class _File:
    """A TSV's lines, each as (bytes before the first tab, the rest).

    Daily downloads repeat nearly every row with only the leading Rank changed, so the rest is
    shared between files: the 190 files of the 2020 COVID archive are 503 MB of text but hold
    ~10,000 distinct row tails (~16 MB), which is what lets a whole archive wait in memory.
    """

    name: str
    lines: list[tuple[bytes, bytes]]


def _lines(data: bytes, shared: dict[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    out: list[tuple[bytes, bytes]] = []
    for line in data.split(b"\n"):
        head, tab, tail = line.removesuffix(b"\r").partition(b"\t")
        rest = tab + tail
        out.append((head, shared.setdefault(rest, rest)))
    if out and out[-1] == (b"", b""):  # the newline that ends the last line
        out.pop()
    return out


def _fields(text: str, width: int) -> list[str]:
    """The row's cells. The export does not quote: a quote is a character of the value
    (``"Study Protocol", https://…``), so cells are read verbatim; CSV quoting is tried only when
    that gives the wrong number of cells (a quoted cell holding a tab)."""
    cells = next(csv.reader([text], delimiter="\t", quoting=csv.QUOTE_NONE))
    if len(cells) != width and '"' in text:
        try:
            quoted = next(csv.reader([text], delimiter="\t", strict=True))
        except csv.Error:
            return cells
        if len(quoted) == width:
            return quoted
    return cells


def _record_id(text: str) -> str | None:
    m = _NCT_IN_TEXT.search(text)
    return m.group(0) if m else None


_Seen = dict[tuple[tuple[str, ...], bytes], Trial]


def _rows(file: _File, seen: _Seen | None = None) -> Iterator[StudyDoc | Rejected]:
    """Every row of one file; line numbers count the header as line 1. ``seen`` holds the rows
    of earlier files by their text after the Rank (which the mapping ignores): a row repeated
    from an earlier day is the same Trial object, not parsed again."""
    as_of = file_date(file.name)
    header: list[str] | None = None
    columns: tuple[str, ...] = ()
    seen = {} if seen is None else seen
    for n, (head, rest) in enumerate(file.lines, start=1):
        if header is not None and (trial := seen.get((columns, rest))) is not None:
            yield StudyDoc(trial, (head + rest).decode("utf-8"), file.name, as_of)
            continue
        data = head + rest
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raw = data.decode("utf-8", "replace")
            reason = f"the line is not valid UTF-8 (byte {data[exc.start]:#04x} at {exc.start})"
            if header is None:
                yield Rejected(file.name, n, f"{reason}; the header cannot be read, file skipped")
                return
            yield Rejected(file.name, n, reason, None, _record_id(raw), raw[:RAW_LIMIT])
            continue
        if header is None:
            header = next(csv.reader([text.removeprefix("\ufeff")], delimiter="\t"))
            if _NCT_COLUMN not in {_column_key(h) for h in header}:
                reason = "the header has no 'NCT Number' column; file skipped"
                yield Rejected(file.name, n, reason, "NCT Number", None, text[:RAW_LIMIT])
                return
            columns = tuple(header)
            continue
        if not text.strip():
            continue
        try:
            trial = parse_row(_fields(text, len(header)), header, file.name)
        except RowError as exc:
            reason = str(exc).removeprefix(f"{file.name}: ")
            record_id = exc.record_id or _record_id(text)
            yield Rejected(file.name, n, reason, exc.field, record_id, text[:RAW_LIMIT])
            continue
        seen[(columns, rest)] = trial
        yield StudyDoc(trial, text, file.name, as_of)


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(_ARCHIVE_SUFFIXES)


def _is_tsv_name(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.lower().endswith(".tsv") and not base.startswith("._")  # skip macOS "._" files


def _by_date(file: _File) -> tuple[bool, date, str]:
    day = file_date(file.name)
    return (day is None, day or date.min, file.name)


def _wanted(name: str, skip: frozenset[date], until: date | None) -> bool:
    """A daily file not already loaded (``skip``) nor past the replay's end: only those are
    parsed, so resuming a series or adding its next day costs that day, not the whole series."""
    day = file_date(name)
    return day is None or (day not in skip and (until is None or day <= until))


def _read_archive(
    path: Path, skip: frozenset[date] = frozenset(), until: date | None = None
) -> Iterator[StudyDoc | Rejected]:
    """The archive's TSV members in date order (archive order is arbitrary). A stream cannot
    seek, so every member is read first and kept in memory, lines shared (see ``_File``)."""
    files: list[_File] = []
    shared: dict[bytes, bytes] = {}
    error: Rejected | None = None
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                if not member.isfile() or not _is_tsv_name(member.name):
                    continue
                if not _wanted(member.name, skip, until):
                    continue
                fh = tar.extractfile(member)
                if fh is not None:
                    files.append(_File(f"{path.name}:{member.name}", _lines(fh.read(), shared)))
    except (tarfile.TarError, EOFError, OSError) as exc:
        error = Rejected(path.name, None, f"the archive is truncated or corrupt ({exc})")
    shared.clear()
    files.sort(key=_by_date)
    seen: _Seen = {}
    while files:
        yield from _rows(files.pop(0), seen)  # drop each file once read
    if error is not None:
        yield error


def read(
    paths: Sequence[Path], skip: frozenset[date] = frozenset(), until: date | None = None
) -> Iterator[StudyDoc | Rejected]:
    """Every row of ``paths``: ``.tsv`` files, or tar archives of them (``.tar.xz``, ``.tar.gz``…).

    Paths are read in the order given; an archive's members in the order of the date in their
    names (undated last). A member's origin is ``archive:member``; ``Rejected.line`` is the line
    in its file (header = 1). Quoted cells spanning lines are not supported (the export has none).
    Daily files of the dates in ``skip``, or after ``until``, are left unread.
    """
    for path in paths:
        if _is_archive(path):
            yield from _read_archive(path, skip, until)
        elif not _wanted(path.name, skip, until):
            continue
        elif _is_tsv_name(path.name):
            try:
                data = path.read_bytes()
            except OSError as exc:
                yield Rejected(path.name, None, f"the file cannot be read ({exc})")
                continue
            yield from _rows(_File(path.name, _lines(data, {})))
        else:
            yield Rejected(path.name, None, "not a .tsv file or a tar archive of them")
